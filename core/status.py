"""What `ferry status` says beyond the counts: failures by code and what to do next."""

from __future__ import annotations

import sqlite3

import msgspec

from core.pipeline.delta_history import delete_candidates
from events.queries import StatusCounts

PENDING = ("validated", "loading", "load_failed")


class StatusAdvice(msgspec.Struct, frozen=True, kw_only=True):
    """Failures grouped by code, and the next steps in the order to take them."""

    failures: dict[str, dict[str, int]]
    next_steps: list[str]
    why_failed: list[str] = msgspec.field(default_factory=list)


def why_failed(conn: sqlite3.Connection, counts: StatusCounts) -> list[str]:
    """Why the latest run ended `failed`, one reason a line (empty when it did not)."""
    if not counts.runs or counts.runs[0]["status"] != "failed":
        return []
    row = conn.execute(
        "SELECT data FROM events WHERE stream_id = ? AND type = 'RunFinished' "
        "ORDER BY position DESC LIMIT 1",
        (f"run:{counts.runs[0]['run_id']}",),
    ).fetchone()
    if row is None:
        return []
    message = str(msgspec.json.decode(row[0]).get("message", ""))
    return [line for line in message.splitlines() if line] or ["(no reason recorded)"]


def failures(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """state -> code -> records, for rejected, failed and mismatched records."""
    found: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        "SELECT state, COALESCE(last_error_code, '?'), COUNT(*) FROM record_state "
        "WHERE state IN ('rejected', 'load_failed', 'verify_failed') GROUP BY 1, 2 ORDER BY 1, 2"
    )
    for state, code, count in rows:
        found.setdefault(state, {})[code] = count
    return found


def _has(conn: sqlite3.Connection, event_type: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM events WHERE stream_id = 'migration' AND type = ? LIMIT 1", (event_type,)
    ).fetchone()
    return row is not None


def unresolved_conflicts(conn: sqlite3.Connection) -> int:
    """Records waiting for an update that was left alone: edited in Twenty after our write
    (a ConflictDetected after the record's last event, resolution `left_alone`)."""
    row = conn.execute(
        "SELECT COUNT(DISTINCT rs.stream_id) FROM events e JOIN record_state rs "
        "ON rs.stream_id = json_extract(e.data, '$.stream_id') "
        "WHERE e.type = 'ConflictDetected' AND json_extract(e.data, '$.resolution') = "
        "'left_alone' AND rs.state = 'validated' AND e.position > rs.last_position"
    ).fetchone()
    return int(row[0])


def deletes_waiting(conn: sqlite3.Connection) -> int:
    """Records removed or deleted in the source whose Twenty copy waits for --apply-deletes."""
    entities = [e for (e,) in conn.execute("SELECT DISTINCT entity FROM record_state")]
    return sum(len(chunk) for entity in entities for chunk in delete_candidates(conn, entity))


def next_steps(conn: sqlite3.Connection, counts: StatusCounts) -> list[str]:
    """The commands that move the migration on from where the store says it is."""
    totals = counts.totals
    # Only the latest run can still be going: an earlier one left "running" was killed, and
    # a later command has taken over (runs are newest first).
    running = [r for r in counts.runs[:1] if r["status"] in ("running", "paused")]
    steps: list[str] = []
    if not _has(conn, "MappingConfirmed"):
        return ["ferry map propose EXPORT, review mapping.toml, then ferry map confirm"]
    if not _has(conn, "SchemaChangeApplied"):
        steps.append("ferry schema plan, then ferry schema apply")
    if running:
        run = running[0]
        steps.append(
            f"run {run['run_id']} is {run['status']}"
            + (f" until {run['paused_until']}" if run["status"] == "paused" else "")
            + "; if its process is gone, ferry run resumes it exactly"
        )
    conflicts = unresolved_conflicts(conn)
    if not totals:
        steps.append(
            "ferry sample, review reports/sample-diff.html, ferry sample approve, ferry run"
        )
    elif sum(totals.get(state, 0) for state in PENDING) > conflicts:
        pending = sum(totals.get(state, 0) for state in PENDING) - conflicts
        steps.append(f"ferry run: {pending} record(s) still to load or update (it resumes exactly)")
    elif totals.get("rolling_back"):
        steps.append(
            f"ferry rollback: {totals['rolling_back']} record(s) half-way through a rollback "
            "(it finishes them first)"
        )
    elif totals.get("rolled_back"):
        steps.append(
            f"ferry run: {totals['rolled_back']} record(s) rolled back; running migrates them "
            "again with the source's latest values (or stop here: Twenty is as before)"
        )
    elif totals.get("loaded"):
        steps.append(f"ferry verify: {totals['loaded']} loaded record(s) not read back yet")
    if conflicts:
        steps.append(
            f"{conflicts} record(s) edited in Twenty since our last write are left alone "
            "(ferry report conflicts); ferry run --force writes the source's values over them"
        )
    deletes = deletes_waiting(conn)
    if deletes:
        steps.append(
            f"ferry delta EXPORT --apply-deletes: {deletes} record(s) removed or deleted in "
            "the source are still in Twenty"
        )
    if totals.get("rejected"):
        steps.append("ferry report rejected: fix the rows in Dental-Exec, then ferry delta")
    if totals.get("verify_failed"):
        steps.append("reports/reconciliation.md lists the mismatched fields; fix, then ferry run")
    if not steps:
        steps.append("nothing pending: ferry report audit-log for the paper trail")
    return steps


def advise(conn: sqlite3.Connection, counts: StatusCounts) -> StatusAdvice:
    """Failures and next steps for `ferry status`."""
    return StatusAdvice(
        failures=failures(conn),
        next_steps=next_steps(conn, counts),
        why_failed=why_failed(conn, counts),
    )

"""What `ferry status` says beyond the counts: failures by code and what to do next."""

from __future__ import annotations

import sqlite3

import msgspec

from events.queries import StatusCounts

PENDING = ("validated", "loading", "load_failed")


class StatusAdvice(msgspec.Struct, frozen=True, kw_only=True):
    """Failures grouped by code, and the next steps in the order to take them."""

    failures: dict[str, dict[str, int]]
    next_steps: list[str]


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


def next_steps(conn: sqlite3.Connection, counts: StatusCounts) -> list[str]:
    """The commands that move the migration on from where the store says it is."""
    totals = counts.totals
    running = [r for r in counts.runs if r["status"] in ("running", "paused")]
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
    if not totals:
        steps.append(
            "ferry sample, review reports/sample-diff.html, ferry sample approve, ferry run"
        )
    elif any(totals.get(state) for state in PENDING):
        pending = sum(totals.get(state, 0) for state in PENDING)
        steps.append(f"ferry run: {pending} record(s) still to load (it resumes exactly)")
    elif totals.get("loaded"):
        steps.append(f"ferry verify: {totals['loaded']} loaded record(s) not read back yet")
    if totals.get("rejected"):
        steps.append("ferry report rejected: fix the rows in Dental-Exec, then ferry delta")
    if totals.get("verify_failed"):
        steps.append("reports/reconciliation.md lists the mismatched fields; fix, then ferry run")
    if not steps:
        steps.append("nothing pending: ferry report audit-log for the paper trail")
    return steps


def advise(conn: sqlite3.Connection, counts: StatusCounts) -> StatusAdvice:
    """Failures and next steps for `ferry status`."""
    return StatusAdvice(failures=failures(conn), next_steps=next_steps(conn, counts))

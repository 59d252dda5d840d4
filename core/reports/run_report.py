"""The run report `reports/run-<id>.md`: what one run did per entity, its pauses, what to do next.

It joins what the run returned (its RunResult: local-stage and load counts, blocked records)
with what the store recorded under the run's id (records created, updated or linked, load
failures by code, pauses). Keys and codes only, never patient values.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

__all__ = ["RunFacts", "StoreFacts", "render_run_report", "run_facts", "store_facts"]

BLOCKED_KEPT = 50


class RunFacts(msgspec.Struct, kw_only=True):
    """What a run returned, as plain data (see `run_facts`)."""

    run_id: str
    outcome: str = "completed"
    seconds: float = 0.0
    message: str = ""
    local: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    load: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    blocked: dict[str, list[dict[str, Any]]] = msgspec.field(default_factory=dict)


class Pause(msgspec.Struct, frozen=True):
    """One recorded pause: when, until when, why."""

    at: str
    until: str
    why: str


class StoreFacts(msgspec.Struct, kw_only=True):
    """What the store recorded under one run id."""

    status: str = "unknown"
    started_at: str | None = None
    finished_at: str | None = None
    landed: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)  # outcome counts
    failed: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)  # code counts
    rejected: dict[str, int] = msgspec.field(default_factory=dict)
    pauses: list[Pause] = msgspec.field(default_factory=list)


def run_facts(result: Any) -> RunFacts:
    """RunFacts from a `core.pipeline.run.RunResult` (or any struct of the same shape)."""
    data = msgspec.to_builtins(result)
    keep = {k: v for k, v in data.items() if k in RunFacts.__struct_fields__}
    return msgspec.convert(keep, RunFacts, strict=False)


def store_facts(conn: sqlite3.Connection, run_id: str) -> StoreFacts:
    """The run's status, outcomes per entity, failures by code and pauses, from the store."""
    facts = StoreFacts()
    summary = conn.execute(
        "SELECT status, started_at, finished_at FROM run_summary WHERE run_id = ?", (run_id,)
    ).fetchone()
    if summary:
        facts.status, facts.started_at, facts.finished_at = summary
    entity = "substr(stream_id, 1, instr(stream_id, ':') - 1)"
    for name, outcome, count in conn.execute(
        f"SELECT {entity}, json_extract(data, '$.outcome'), COUNT(*) FROM events "
        "WHERE run_id = ? AND type = 'RecordLoaded' GROUP BY 1, 2",
        (run_id,),
    ):
        facts.landed.setdefault(name, {})[outcome] = count
    for name, code, count in conn.execute(
        f"SELECT {entity}, json_extract(data, '$.code'), COUNT(*) FROM events "
        "WHERE run_id = ? AND type = 'LoadFailed' GROUP BY 1, 2",
        (run_id,),
    ):
        facts.failed.setdefault(name, {})[code] = count
    for name, count in conn.execute(
        f"SELECT {entity}, COUNT(*) FROM events WHERE run_id = ? AND type = 'RecordRejected' "
        "GROUP BY 1",
        (run_id,),
    ):
        facts.rejected[name] = count
    for at, until, why in conn.execute(
        "SELECT recorded_at, json_extract(data, '$.until'), json_extract(data, '$.why') "
        "FROM events WHERE stream_id = ? AND type = 'RunPaused' ORDER BY position",
        (f"run:{run_id}",),
    ):
        facts.pauses.append(Pause(at, until or "", why or ""))
    return facts


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def render_run_report(run: RunFacts, stored: StoreFacts) -> str:
    """The Markdown run report."""
    out = [
        f"# Run {run.run_id}",
        "",
        f"- outcome: **{run.outcome}**" + (f" ({run.message})" if run.message else ""),
        f"- started {stored.started_at or '?'}, finished {stored.finished_at or '?'}, "
        f"took {_duration(run.seconds)}",
        f"- pauses: {len(stored.pauses)}",
        "",
        "| entity | read | unchanged | rejected | skipped | created | updated | linked "
        "| load failed | blocked |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = [*run.local, *run.load, *run.blocked, *stored.landed, *stored.failed]
    names = list(dict.fromkeys(names))
    for name in names:
        local = run.local.get(name, {})
        landed = stored.landed.get(name, {})
        cells = [local.get("read", 0), local.get("unchanged", 0), local.get("rejected", 0)]
        cells += [local.get("skipped", 0), landed.get("created", 0), landed.get("updated", 0)]
        cells += [landed.get("linked", 0), sum(stored.failed.get(name, {}).values())]
        cells.append(len(run.blocked.get(name, [])))
        out.append(f"| {name} | " + " | ".join(f"{c:,}" for c in cells) + " |")
    out += _failures(stored) + _blocked(run) + _pauses(stored)
    out += ["", "## What to do next", "", *(f"- {step}" for step in next_steps(run, stored))]
    return "\n".join(out) + "\n"


def _failures(stored: StoreFacts) -> list[str]:
    lines = [
        f"- {name}: " + ", ".join(f"`{code}` {n:,}" for code, n in sorted(codes.items()))
        for name, codes in stored.failed.items()
    ]
    return ["", "## Load failures by code", "", *lines] if lines else []


def _blocked(run: RunFacts) -> list[str]:
    lines = []
    for name, items in run.blocked.items():
        for item in items[:BLOCKED_KEPT]:
            parent = f"{item.get('parent')} ({item.get('parent_state') or 'absent'})"
            lines.append(f"- `{item.get('stream_id')}`: `{item.get('field')}` waits for {parent}")
        if len(items) > BLOCKED_KEPT:
            lines.append(f"- … and {len(items) - BLOCKED_KEPT:,} more {name} records")
    title = "## Blocked records (not sent: a parent has no Twenty id)"
    return ["", title, "", *lines] if lines else []


def _pauses(stored: StoreFacts) -> list[str]:
    lines = [f"- {p.at}: until {p.until or '?'} — {p.why}" for p in stored.pauses]
    return ["", "## Pauses", "", *lines] if lines else []


def next_steps(run: RunFacts, stored: StoreFacts) -> list[str]:
    """What the operator should do after this run, most urgent first."""
    steps = []
    if run.outcome in ("interrupted", "timed_out"):
        steps.append("run `ferry run` again: it resumes exactly where this run stopped")
    if run.outcome == "failed":
        steps.append(f"fix the cause ({run.message or 'see the log'}), then `ferry run` again")
    if any(stored.failed.values()):
        steps.append(
            "look at the load failures (`ferry events list --type LoadFailed --run "
            f"{run.run_id}`); retryable ones are retried by the next `ferry run`"
        )
    if any(run.blocked.values()):
        steps.append("fix the parents of the blocked records, then `ferry run`")
    if any(stored.rejected.values()) or any(v.get("rejected") for v in run.local.values()):
        steps.append("review the rejected rows in `reports/reconciliation.md` (keys and codes)")
    if run.outcome == "completed":
        steps.append("run `ferry verify` to read every record back and reconcile")
    return steps

"""Why a run that went to its end has still not done the work.

A run that read every row and sent every request may still leave the migration unfinished:
too many rows rejected, writes Twenty refused, or nothing at all in Twenty. Each is a
shortfall; a run with one ends `failed` with the shortfalls as its message, never
`completed`. The counts come from the record_state projection, so a run that only resumes
(the rejected rows unchanged since an earlier run) is judged by the same facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

IN_TWENTY = ("loaded", "verified", "verify_failed")


def shortfalls(
    conn: sqlite3.Connection, entities: Sequence[str], max_rejected_share: float
) -> list[str]:
    """The reasons the work of these entities is not done (empty: it is done).

    Messages name entities, counts and codes only, never a value from a row.
    """
    by_entity = _counts(conn, entities)
    reasons = [
        reason
        for entity in entities
        if (reason := _rejections(conn, entity, by_entity.get(entity, {}), max_rejected_share))
    ]
    failed = {e: s["load_failed"] for e, s in by_entity.items() if s.get("load_failed")}
    if failed:
        listed = ", ".join(f"{entity} {n}" for entity, n in failed.items())
        reasons.append(
            f"writes failed: {sum(failed.values())} record(s) left load_failed after retries "
            f"({listed}); `ferry status` shows the codes; run `ferry run` again "
            "(with --retry-failed for records Twenty refused)"
        )
    records = sum(sum(states.values()) for states in by_entity.values())
    loaded = sum(states.get(s, 0) for states in by_entity.values() for s in IN_TWENTY)
    if loaded == 0:
        reasons.append(
            f"nothing was loaded: 0 of {records} record(s) are in Twenty; "
            "fix the reasons above (or the export) and run again"
        )
    return reasons


def _counts(conn: sqlite3.Connection, entities: Sequence[str]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for entity in entities:
        rows = conn.execute(
            "SELECT state, COUNT(*) FROM record_state WHERE entity = ? GROUP BY state",
            (entity,),
        )
        states = {str(state): int(n) for state, n in rows}
        if states:
            counts[entity] = states
    return counts


def _rejections(
    conn: sqlite3.Connection, entity: str, states: dict[str, int], max_share: float
) -> str:
    rejected, total = states.get("rejected", 0), sum(states.values())
    if not rejected or rejected <= max_share * total:
        return ""
    codes = conn.execute(
        "SELECT COALESCE(last_error_code, 'REJECTED'), COUNT(*) FROM record_state "
        "WHERE entity = ? AND state = 'rejected' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
        (entity,),
    ).fetchall()
    listed = ", ".join(f"{code} {n}" for code, n in codes)
    return (
        f"{entity}: {rejected} of {total} row(s) rejected ({rejected / total:.1%}, over "
        f"run.max_rejected_share = {max_share:g}; {listed}); fix the export, or raise the "
        "threshold in ferry.toml if these rows are meant to stay out"
    )

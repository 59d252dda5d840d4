"""`ferry trail`: one record's history as lines for people, patient values hidden."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from core.reports.event_log import event_facts
from events.queries import streams_for_key
from events.store import StoredEvent


def candidate_streams(conn: sqlite3.Connection, given: str) -> list[str]:
    """The streams `given` may name: itself when it is a stream id (`entity:key`,
    `migration`, `run:<id>`), else the records whose source key it is."""
    if ":" in given or given == "migration":
        return [given]
    return streams_for_key(conn, given.strip())


def trail_lines(history: Sequence[StoredEvent], show_data: bool) -> Iterator[str]:
    """Two lines an event: position, version, time, run and type; then its facts
    (patient values hidden unless `show_data`, core.reports.event_log)."""
    for stored in history:
        facts = event_facts(stored, show_data)
        facts.pop("type", None)
        detail = ", ".join(f"{k}={v}" for k, v in facts.items() if v not in (None, "", [], {}))
        run = f" run {stored.run_id}" if stored.run_id else ""
        yield f"#{stored.position} v{stored.version} {stored.recorded_at}{run} {stored.type}"
        if detail:
            yield f"    {detail}"

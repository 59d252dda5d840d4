"""The event log as rows for people and tools, with patient values hidden unless asked for.

`ferry events list`, `ferry trail` and the hand-off bundle's `event-log.jsonl` share this one
list of the event fields that hold patient values, so no export shows them by accident.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:  # imported where used: `ferry --help` loads this module, not the store
    from events.queries import EventFilter
    from events.store import StoredEvent

__all__ = ["EVENT_COLUMNS", "PATIENT_VALUE_FIELDS", "event_facts", "event_row", "event_rows"]

# The event fields that hold patient values: source rows, payloads, before-images and the
# values of verification diffs. Everything else in an event is keys, codes, counts and ids.
PATIENT_VALUE_FIELDS = ("row", "payload", "before_image", "diffs")
EVENT_COLUMNS = (
    "position", "stream_id", "version", "type", "run_id", "recorded_at", "data", "hash",
)  # fmt: skip


def event_facts(stored: StoredEvent, show_data: bool) -> dict[str, Any]:
    """The event's fields, with patient values replaced by a count unless `show_data`."""
    facts: dict[str, Any] = msgspec.to_builtins(stored.event)
    if not show_data:
        for private in PATIENT_VALUE_FIELDS:
            if facts.get(private):
                facts[private] = f"<{len(facts[private])} fields hidden; --show-data>"
    return facts


def event_row(stored: StoredEvent, show_data: bool) -> dict[str, Any]:
    """The event's envelope and facts, in `EVENT_COLUMNS`."""
    return {
        "position": stored.position,
        "stream_id": stored.stream_id,
        "version": stored.version,
        "type": stored.type,
        "run_id": stored.run_id,
        "recorded_at": stored.recorded_at,
        "data": event_facts(stored, show_data),
        "hash": stored.hash,
    }


def event_rows(
    conn: sqlite3.Connection, where: EventFilter | None = None
) -> Iterator[dict[str, Any]]:
    """Every event (matching `where`) in log order, patient values hidden."""
    from events.queries import EventFilter, list_events

    for stored in list_events(conn, where or EventFilter()):
        yield event_row(stored, False)

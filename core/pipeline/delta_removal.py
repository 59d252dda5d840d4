"""Rows removed in the source: what a later full export no longer holds, and the high-water mark.

A delta bundle never says a row was removed (absent there means unchanged). A later full
export does: every keyed stream of an entity whose file is in the export, but whose key the
export no longer holds, gets RecordRemovedInSource. The task and note targets made from a
removed or source-deleted row go with it, and so do records in Twenty whose changed row is
now refused as ORPHAN (the patient it belongs to was deleted in the source). The keys seen
are kept in a TEMP table of the store's connection (core.pipeline.seen_keys, DELTA_SEEN), so
memory does not grow with the export.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime

from core.mapping import TARGET_LOAD_ORDER
from core.pipeline.pending import landed_streams
from core.ports.source import SourceRow
from core.values import ValueParseError, parse_datetime
from events.store import EventStore, NewEvent
from events.types import RecordRemovedInSource

__all__ = [
    "DELTA_SEEN",
    "HighWater",
    "mark_gone_children",
    "mark_removed",
    "settle_rolled_back_targets",
]

# The TEMP table of the store's connection that holds the keys a full export has (SeenKeys).
DELTA_SEEN = "delta_seen"
_NOT_AGAIN = "('removed', 'deleted', 'rolling_back', 'loading')"


class HighWater:
    """The maximum `Last Modified` seen per file: the date to ask the next delta from."""

    def __init__(self) -> None:
        self.marks: dict[str, datetime] = {}

    def track(self, rows: Iterable[SourceRow]) -> Iterator[SourceRow]:
        """Pass the rows on, noting each one's `Last Modified`."""
        marks = self.marks
        for row in rows:
            text = row.values.get("last_modified")
            if text:
                try:
                    stamp = parse_datetime(text)
                except ValueParseError:
                    stamp = None
                if stamp is not None and (row.file not in marks or stamp > marks[row.file]):
                    marks[row.file] = stamp
            yield row


def _removed_rows(conn: sqlite3.Connection, entity: str) -> list[tuple[str, int, str | None]]:
    return conn.execute(
        "SELECT stream_id, version, destination_id FROM record_state "
        f"WHERE stream_id >= ? AND stream_id < ? AND state NOT IN {_NOT_AGAIN} "
        "AND instr(stream_id, ':@') = 0 "
        f"AND stream_id NOT IN (SELECT stream_id FROM temp.{DELTA_SEEN})",
        (f"{entity}:", f"{entity};"),
    ).fetchall()


def _append_removed(
    store: EventStore, rows: list[tuple[str, int, str | None]], export: str, run_id: str
) -> list[str]:
    events = [
        NewEvent(
            stream_id,
            RecordRemovedInSource(export=export, destination_id=dest or ""),
            expected_version=version,
        )
        for stream_id, version, dest in rows
    ]
    for start in range(0, len(events), 1000):
        store.append(events[start : start + 1000], run_id=run_id)
    return [row[0] for row in rows]


def mark_removed(store: EventStore, entities: Iterable[str], export: str, run_id: str) -> list[str]:
    """Record RecordRemovedInSource for every stream of `entities` the export lacks."""
    removed: list[str] = []
    for entity in entities:
        removed += _append_removed(store, _removed_rows(store.connection, entity), export, run_id)
    return removed


def mark_gone_children(store: EventStore, export: str, run_id: str) -> list[str]:
    """Targets of removed or source-deleted rows, and orphans in Twenty, go with them."""
    conn = store.connection
    # Orphans first: their targets go with them in the same pass (a rerun after a crash would
    # otherwise find them removed and take their targets, where an uninterrupted run did not).
    removed = _append_removed(store, _orphans_in_twenty(conn), export, run_id)
    rows: list[tuple[str, int, str | None]] = []
    for child in TARGET_LOAD_ORDER:
        rows += conn.execute(
            "SELECT c.stream_id, c.version, c.destination_id FROM record_state c "
            "JOIN record_state p ON p.stream_id = substr(c.stream_id, ?) "
            f"WHERE c.stream_id >= ? AND c.stream_id < ? AND c.state NOT IN {_NOT_AGAIN} "
            "AND (p.state IN ('removed', 'deleted') OR (p.state = 'skipped' "
            "AND p.destination_id IS NOT NULL))",
            (len(child) + 2, f"{child}:", f"{child};"),
        ).fetchall()
    return removed + _append_removed(store, rows, export, run_id)


def settle_rolled_back_targets(store: EventStore, run_id: str) -> list[str]:
    """Rolled-back task and note targets whose owner row no longer makes them (it is rejected,
    skipped or removed now): they left the source with it, so they are `removed`, not
    records for `ferry run` to migrate again."""
    conn = store.connection
    rows: list[tuple[str, int, str | None]] = []
    for child in TARGET_LOAD_ORDER:
        rows += conn.execute(
            "SELECT c.stream_id, c.version, NULL FROM record_state c "
            "JOIN record_state p ON p.stream_id = substr(c.stream_id, ?) "
            "WHERE c.stream_id >= ? AND c.stream_id < ? AND c.state = 'rolled_back' "
            "AND p.state IN ('rejected', 'skipped', 'removed', 'deleted')",
            (len(child) + 2, f"{child}:", f"{child};"),
        ).fetchall()
    return _append_removed(store, rows, "", run_id)


def _orphans_in_twenty(conn: sqlite3.Connection) -> list[tuple[str, int, str | None]]:
    """Records in Twenty whose changed row is now ORPHAN: their parent left the source."""
    rows: list[tuple[str, int, str | None]] = conn.execute(
        "SELECT stream_id, version, destination_id FROM record_state WHERE state = 'rejected' "
        "AND last_error_code = 'ORPHAN' AND destination_id IS NOT NULL"
    ).fetchall()
    landed = landed_streams(conn, [r[0] for r in rows])
    return [r for r in rows if r[0] in landed]

"""Read-side queries over the store for status, listings and one record's trail."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from events.chunks import rows_for_streams
from events.projections import RUN_SUMMARY_COLUMNS
from events.store import StoredEvent, stored_from_row
from events.types import AnyEvent, decode


class StatusCounts(msgspec.Struct, frozen=True):
    """Records per entity and state, and per state over all entities."""

    entities: dict[str, dict[str, int]]
    totals: dict[str, int]
    runs: list[dict[str, Any]]
    events: int


def status_counts(conn: sqlite3.Connection, *, table_prefix: str = "") -> StatusCounts:
    """Counts by entity and state from the record_state projection, plus the runs."""
    entities: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    sql = (
        f"SELECT entity, state, COUNT(*) FROM {table_prefix}record_state "
        "GROUP BY entity, state ORDER BY entity, state"
    )
    for entity, state, count in conn.execute(sql):
        entities.setdefault(entity, {})[state] = count
        totals[state] = totals.get(state, 0) + count
    cols = ", ".join(RUN_SUMMARY_COLUMNS)
    runs = [
        dict(zip(RUN_SUMMARY_COLUMNS, row, strict=True))
        for row in conn.execute(
            f"SELECT {cols} FROM {table_prefix}run_summary ORDER BY last_position DESC"
        )
    ]
    events = conn.execute(
        f"SELECT COALESCE(MAX(position), 0) FROM {table_prefix}projection_position"
    ).fetchone()[0]
    return StatusCounts(entities=entities, totals=totals, runs=runs, events=int(events))


class EventFilter(msgspec.Struct, frozen=True):
    """Which events to list; every given criterion must hold."""

    stream_id: str | None = None
    type: str | None = None
    run_id: str | None = None
    since: str | None = None  # recorded_at >= since (ISO-8601 UTC text)
    until: str | None = None  # recorded_at < until
    limit: int | None = None


def list_events(conn: sqlite3.Connection, where: EventFilter) -> Iterator[StoredEvent]:
    """Events matching the filter, in position order."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, op, value in (
        ("stream_id", "=", where.stream_id),
        ("type", "=", where.type),
        ("run_id", "=", where.run_id),
        ("recorded_at", ">=", where.since),
        ("recorded_at", "<", where.until),
    ):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    sql = "SELECT * FROM events"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY position"
    if where.limit is not None:
        sql += " LIMIT ?"
        params.append(where.limit)
    for row in conn.execute(sql, params):
        yield stored_from_row(row)


def position_at(conn: sqlite3.Connection, instant: str) -> int:
    """The last position recorded at or before an ISO-8601 UTC instant (0 when none)."""
    found = conn.execute(
        "SELECT COALESCE(MAX(position), 0) FROM events WHERE recorded_at <= ?", (instant,)
    ).fetchone()
    return int(found[0])


def latest_events(
    conn: sqlite3.Connection, stream_ids: Iterable[str], event_type: str
) -> dict[str, AnyEvent]:
    """The latest event of one type in each given stream that has one."""
    sql = (
        "SELECT stream_id, data FROM events WHERE stream_id IN ({marks}) "
        f"AND type = '{event_type}' ORDER BY position"
    )
    return {stream_id: decode(data) for stream_id, data in rows_for_streams(conn, sql, stream_ids)}


def record_states(
    conn: sqlite3.Connection, stream_ids: Iterable[str], columns: str
) -> dict[str, tuple[Any, ...]]:
    """Stream id -> the given record_state columns (comma-separated), for streams that exist."""
    sql = f"SELECT stream_id, {columns} FROM record_state WHERE stream_id IN ({{marks}})"
    return {row[0]: tuple(row[1:]) for row in rows_for_streams(conn, sql, stream_ids)}


def streams_for_key(conn: sqlite3.Connection, key: str) -> list[str]:
    """The record streams (`<entity>:<key>`) whose source key is `key`, sorted.

    Read from the record_state projection (one row per record), so a bare key given to
    `ferry trail` finds its record without walking every event.
    """
    rows = conn.execute(
        "SELECT stream_id FROM record_state WHERE source_key = ? ORDER BY stream_id", (key,)
    )
    return [stream_id for (stream_id,) in rows]

"""Projections: pure folds of the event log into queryable tables.

`record_state` holds one row per source record (its lifecycle state and the facts the
pipeline needs to resume); `run_summary` one row per run. Both are written in the same
transaction as the events they fold, together with the position they have applied, so a
crash can never leave them behind or ahead of the log. The same code folds the live log and
replays it into fresh tables, so a replay must reproduce them exactly.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from events.chunks import insert_rows, rows_for_streams
from events.errors import EventStoreError, IllegalTransitionError
from events.types import (
    Event,
    LoadFailed,
    LoadRequested,
    RecordExtracted,
    RecordLoaded,
    RecordRejected,
    RecordReverted,
    RecordRolledBack,
    RecordVerified,
    RollbackRequested,
    RollbackWithheld,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    VerificationFailed,
)

# (current state or None for a new record, event type) -> next state, or None when illegal.
Transition = Callable[[str | None, str], str | None]

RECORD_STATE_COLUMNS = (
    "stream_id",
    "entity",
    "source_key",
    "state",
    "version",
    "content_hash",
    "destination_id",
    "last_position",
    "attempts",
    "last_error_code",
)
# How record_state rows are written: one upsert by rowid for new and stored rows alike (new
# rows are given the next rowids), setting every column but the stream id and the entity
# (both fixed for a stream). The WHERE makes a row whose rowid belongs to another stream a
# no-op, which the caller detects by counting the changes.
_CHANGING = tuple(c for c in RECORD_STATE_COLUMNS if c not in ("stream_id", "entity"))
# A record row holds NULL_VALUE (0) where its column is NULL, and the statements turn it back
# with NULLIF(?, 0): Python's sqlite3 binds None through its adapter protocol (~1 µs per
# value, a fifth of an upsert's cost) but an int directly. These columns only ever hold text.
NULL_VALUE = 0
_NULLABLE = ("content_hash", "destination_id", "last_error_code")
_RECORD_STATE_HEAD = f"INSERT INTO record_state (rowid, {', '.join(RECORD_STATE_COLUMNS)}) VALUES"
_RECORD_STATE_ROW = (
    "(?, "
    + ", ".join(f"NULLIF(?, {NULL_VALUE})" if c in _NULLABLE else "?" for c in RECORD_STATE_COLUMNS)
    + ")"
)
_RECORD_STATE_TAIL = (
    "ON CONFLICT(rowid) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _CHANGING)
    + " WHERE stream_id = excluded.stream_id"
)
_RECORD_STATE_WIDTH = len(RECORD_STATE_COLUMNS) + 1
RUN_SUMMARY_COLUMNS = (
    "run_id",
    "status",
    "started_at",
    "finished_at",
    "paused_until",
    "pause_reason",
    "event_count",
    "last_position",
)

# The records still to load, as SQL: the condition of the partial index below. SQLite uses a
# partial index only for queries whose WHERE contains this very condition, so the queries
# that want it (core.pipeline.pending) use this constant.
PENDING_CONDITION = "(state = 'validated' OR state = 'loading' OR state = 'load_failed')"

PROJECTION_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS record_state (
    stream_id TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    source_key TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT,
    destination_id TEXT,
    last_position INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error_code TEXT
);
-- Only the records still to load: a resume finds and counts them without walking the
-- loaded ones (core.pipeline.pending). Spelled with OR, not IN: SQLite evaluates this WHERE
-- on every write of a row, and an IN list costs a temporary table each time.
CREATE INDEX IF NOT EXISTS record_state_pending ON record_state(stream_id)
    WHERE {PENDING_CONDITION};
CREATE TABLE IF NOT EXISTS run_summary (
    run_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    paused_until TEXT,
    pause_reason TEXT,
    event_count INTEGER NOT NULL DEFAULT 0,
    last_position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_position (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
"""

# A record_state row in memory: a list of its rowid (None until first written) and then its
# columns in RECORD_STATE_COLUMNS order, so that the append loop updates it by index and a
# batch's rows flatten straight into the upsert's parameters (a dict per row cost ~4x more).
Row = list[Any]
ROWID, STREAM_ID, ENTITY, SOURCE_KEY, STATE, VERSION = range(6)
CONTENT_HASH, DESTINATION_ID, LAST_POSITION, ATTEMPTS, LAST_ERROR_CODE = range(6, 11)
RunRow = dict[str, Any]  # a run_summary row


class Applied:
    """One event as the projections see it: its envelope and the decoded event."""

    __slots__ = ("event", "position", "recorded_at", "run_id", "stream_id", "type", "version")

    def __init__(
        self,
        position: int,
        stream_id: str,
        version: int,
        run_id: str | None,
        recorded_at: str,
        event: Event,
    ) -> None:
        self.position = position
        self.stream_id = stream_id
        self.version = version
        self.run_id = run_id
        self.recorded_at = recorded_at
        self.event = event
        self.type = type(event).__name__


def load_record_states(conn: sqlite3.Connection, stream_ids: Iterable[str]) -> dict[str, Row]:
    """The current record_state rows of the given streams (absent ones are left out).

    Each row starts with its rowid, so that writing it back in the same transaction (or
    while no other connection has written: see EventStore) goes straight to it.
    """
    cols = ", ".join(
        f"IFNULL({c}, {NULL_VALUE})" if c in _NULLABLE else c for c in RECORD_STATE_COLUMNS
    )
    sql = f"SELECT rowid, {cols} FROM record_state WHERE stream_id IN ({{marks}})"
    return {values[STREAM_ID]: list(values) for values in rows_for_streams(conn, sql, stream_ids)}


def fold_record(
    row: Row | None,
    stream_id: str,
    version: int,
    position: int,
    type_: str,
    event: Event,
    transition: Transition,
) -> Row:
    """The record_state row after one record event (the row passed in is updated in place).

    Raises:
        IllegalTransitionError: when the event does not follow from the row's state.
    """
    state = row[STATE] if row else None
    next_state = transition(state, type_)
    if next_state is None:
        raise IllegalTransitionError(stream_id, state, type_)
    return advance_record(row, stream_id, version, position, next_state, event)


def advance_record(
    row: Row | None, stream_id: str, version: int, position: int, next_state: str, event: Event
) -> Row:
    """The record_state row moved to `next_state` by one event whose transition was checked."""
    if row is None:
        entity, _, key = stream_id.partition(":")
        row = [
            None,  # rowid: given when the row is first written
            stream_id,
            entity,
            key,
            next_state,
            version,
            NULL_VALUE,  # content_hash
            NULL_VALUE,  # destination_id
            position,
            0,  # attempts
            NULL_VALUE,  # last_error_code
        ]
    else:
        row[STATE] = next_state
        row[VERSION] = version
        row[LAST_POSITION] = position
    facts = _RECORD_FACTS.get(event.__class__)
    if facts is not None:
        facts(row, event)
    return row


def _on_extracted(row: Row, event: Any) -> None:
    row[CONTENT_HASH] = event.content_hash
    row[SOURCE_KEY] = event.source_key
    row[ATTEMPTS] = 0
    row[LAST_ERROR_CODE] = NULL_VALUE


def _on_load_requested(row: Row, event: Any) -> None:
    row[DESTINATION_ID] = event.destination_id
    row[ATTEMPTS] += 1


def _on_landed(row: Row, event: Any) -> None:
    row[DESTINATION_ID] = event.destination_id
    row[LAST_ERROR_CODE] = NULL_VALUE


def _on_load_failed(row: Row, event: Any) -> None:
    row[LAST_ERROR_CODE] = event.code


def _on_rejected(row: Row, event: Any) -> None:
    row[LAST_ERROR_CODE] = event.reasons[0].code if event.reasons else "REJECTED"


def _on_verification_failed(row: Row, event: Any) -> None:
    row[DESTINATION_ID] = event.destination_id
    row[LAST_ERROR_CODE] = "MISSING" if event.missing else "MISMATCH"


def _on_rollback(row: Row, event: Any) -> None:
    row[DESTINATION_ID] = event.destination_id


# What each record event contributes to record_state beyond the state and position.
_RECORD_FACTS: dict[type[Event], Callable[[Row, Any], None]] = {
    RecordExtracted: _on_extracted,
    LoadRequested: _on_load_requested,
    RecordLoaded: _on_landed,
    RecordVerified: _on_landed,
    LoadFailed: _on_load_failed,
    RecordRejected: _on_rejected,
    VerificationFailed: _on_verification_failed,
    RollbackRequested: _on_rollback,
    RecordRolledBack: _on_rollback,
    RecordReverted: _on_rollback,
    RollbackWithheld: _on_rollback,
}


def fold_run(row: RunRow | None, applied: Applied) -> RunRow:
    """The run_summary row after one event recorded under that run (updated in place)."""
    if row is None:
        row = {
            "run_id": applied.run_id,
            "status": "running",
            "started_at": applied.recorded_at,
            "finished_at": None,
            "paused_until": None,
            "pause_reason": None,
            "event_count": 0,
        }
    event = applied.event
    if isinstance(event, RunStarted):
        row["status"], row["started_at"] = "running", applied.recorded_at
    elif isinstance(event, RunPaused):
        row["status"], row["paused_until"], row["pause_reason"] = "paused", event.until, event.why
    elif isinstance(event, RunResumed):
        row["status"], row["paused_until"], row["pause_reason"] = "running", None, None
    elif isinstance(event, RunFinished):
        row["status"], row["finished_at"] = event.outcome, applied.recorded_at
    row["event_count"] += 1
    row["last_position"] = applied.position
    return row


class Projector:
    """Folds batches of applied events into the projection tables of one connection."""

    def __init__(self, transition: Transition) -> None:
        self.transition = transition
        # The transition is a pure function of (state, event type): its legal answers are
        # remembered, so the append loop can look them up (`next_states.get`) instead.
        self.next_states: dict[tuple[str | None, str], str] = {}

    def next_state(self, stream_id: str, state: str | None, type_: str) -> str:
        """The state a record event moves `state` to (remembered once legal).

        Raises:
            IllegalTransitionError: when the event does not follow from that state.
        """
        found = self.transition(state, type_)
        if found is None:
            raise IllegalTransitionError(stream_id, state, type_)
        self.next_states[(state, type_)] = found
        return found

    def fold(
        self,
        conn: sqlite3.Connection,
        batch: Sequence[Applied],
        records: dict[str, Row] | None = None,
    ) -> dict[str, Row]:
        """Apply a batch (in position order) and record the last position, in the caller's tx.

        `records` may hold the current rows of the batch's record streams (as a cache the
        caller trusts); missing ones are read. Returns the rows written, updated in place.

        Raises:
            IllegalTransitionError: when an event does not follow from its record's state.
        """
        if not batch:
            return {}
        touched = dict(records) if records is not None else {}
        missing = {a.stream_id for a in batch if a.event.is_record_event} - touched.keys()
        touched.update(load_record_states(conn, missing))
        written: dict[str, Row] = {}
        transition = self.transition
        for applied in batch:
            if applied.event.is_record_event:
                sid = applied.stream_id
                written[sid] = touched[sid] = fold_record(
                    touched.get(sid),
                    sid,
                    applied.version,
                    applied.position,
                    applied.type,
                    applied.event,
                    transition,
                )
        self._write(conn, written, self._fold_runs(conn, batch), batch[-1].position)
        return written

    def write_folded(
        self,
        conn: sqlite3.Connection,
        written: dict[str, Row],
        first: Applied,
        count: int,
        position: int,
    ) -> None:
        """Store a live batch of record events already folded by the caller (`fold_record`).

        The batch has `count` events ending at `position`, all recorded under the run of
        `first`, its first event; it holds no run fact, so the run summary only counts it.
        """
        runs: dict[str, RunRow] = {}
        run_id = first.run_id
        if run_id is not None:
            runs = self._load_runs(conn, [run_id])
            row = runs.get(run_id)
            if row is None:
                row = runs[run_id] = fold_run(None, first)
                row["event_count"] += count - 1
            else:
                row["event_count"] += count
            row["last_position"] = position
        self._write(conn, written, runs, position)

    @staticmethod
    def _load_runs(conn: sqlite3.Connection, run_ids: Iterable[str]) -> dict[str, RunRow]:
        runs: dict[str, RunRow] = {}
        cols = ", ".join(RUN_SUMMARY_COLUMNS)
        for run_id in run_ids:
            values = conn.execute(
                f"SELECT {cols} FROM run_summary WHERE run_id = ?", (run_id,)
            ).fetchone()
            if values:
                runs[run_id] = dict(zip(RUN_SUMMARY_COLUMNS, values, strict=True))
        return runs

    @classmethod
    def _fold_runs(cls, conn: sqlite3.Connection, batch: Sequence[Applied]) -> dict[str, RunRow]:
        """Fold the run facts; plain record events only add to their run's count."""
        counts = Counter(a.run_id for a in batch if a.run_id)
        runs = cls._load_runs(conn, [r for r in counts if r])
        for applied in batch:
            rid = applied.run_id
            if rid and (rid not in runs or not applied.event.is_record_event):
                runs[rid] = fold_run(runs.get(rid), applied)
                counts[rid] -= 1
        last = {a.run_id: a.position for a in batch if a.run_id}
        for run_id, rest in counts.items():
            runs[run_id]["event_count"] += rest
            runs[run_id]["last_position"] = last[run_id]
        return runs

    @staticmethod
    def _write(
        conn: sqlite3.Connection,
        records: dict[str, Row],
        runs: dict[str, RunRow],
        position: int,
    ) -> None:
        # One multi-row upsert by rowid (read with the row, or the next free one for a new
        # row, which keeps it for the updates that follow): cheaper than an update per row
        # or a look-up by stream id.
        inserted = [row for row in records.values() if row[ROWID] is None]
        if inserted:
            top = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM record_state").fetchone()[0]
            for rowid, row in enumerate(inserted, start=top + 1):
                row[ROWID] = rowid
        before = conn.total_changes
        values = list(chain.from_iterable(records.values()))
        insert_rows(
            conn,
            _RECORD_STATE_HEAD,
            _RECORD_STATE_WIDTH,
            values,
            _RECORD_STATE_TAIL,
            _RECORD_STATE_ROW,
        )
        if conn.total_changes - before != len(records):
            raise EventStoreError("record_state rows moved under this writer; nothing was written")
        _upsert(conn, "run_summary", RUN_SUMMARY_COLUMNS, runs.values())
        conn.execute(
            "INSERT INTO projection_position (name, position) VALUES ('all', ?) "
            "ON CONFLICT(name) DO UPDATE SET position = excluded.position",
            (position,),
        )


def _upsert(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], rows: Iterable[RunRow]
) -> None:
    cols = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    sql = (
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) "
        f"ON CONFLICT({columns[0]}) DO UPDATE SET {updates}"
    )
    conn.executemany(sql, map(itemgetter(*columns), rows))


def projected_position(conn: sqlite3.Connection) -> int:
    """The last position the projections have applied (0 when none)."""
    found = conn.execute("SELECT position FROM projection_position WHERE name = 'all'").fetchone()
    return int(found[0]) if found else 0

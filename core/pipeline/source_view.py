"""The source as it stands: the first export, with every delta applied since, in order.

`ferry delta` records each row version it reads (RecordExtracted) and each row a later full
export lacks (RecordRemovedInSource). `SourceView` gives every other command (run, plan,
sample, verify) the latest version of each key from that log:

- a key whose latest source fact came from a delta run is read from the store (the row that
  delta extracted) in place of the first export's row, and a key a delta removed stays
  removed — so `ferry run` after a delta never re-extracts an older version over a newer one;
- keys that only a delta brought (new rows) follow the first export's rows.

Without any delta run the view is the first export itself, read straight through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from core.pipeline.delta_source import extracted_row
from core.ports.source import ExportInfo, Source, SourceFile, SourceRow
from events.chunks import rows_for_streams
from events.types import RecordExtracted, decode

__all__ = ["SourceView", "delta_exports", "delta_run_ids"]

_CHUNK = 1000
_DELTA_RUNS = (
    "SELECT run_id, json_extract(data, '$.options.export') FROM events "
    "WHERE type = 'RunStarted' AND json_extract(data, '$.command') = 'delta' ORDER BY position"
)


def delta_run_ids(conn: sqlite3.Connection) -> frozenset[str]:
    """Every delta run recorded in the store."""
    return frozenset(str(run_id) for run_id, _ in conn.execute(_DELTA_RUNS))


def delta_exports(conn: sqlite3.Connection) -> list[str]:
    """The exports given to `ferry delta`, in the order they were first applied."""
    found: dict[str, None] = {}
    for _, export in conn.execute(_DELTA_RUNS):
        if export:
            found.setdefault(str(export), None)
    return list(found)


def _source_facts(
    conn: sqlite3.Connection, stream_ids: list[str], deltas: frozenset[str]
) -> dict[str, tuple[bool, str]]:
    """Per stream with a source fact from a delta: (whether it was first extracted by a delta,
    the type of its latest extraction or removal)."""
    sql = (
        "SELECT stream_id, run_id, type, version FROM events WHERE stream_id IN ({marks}) "
        "AND type IN ('RecordExtracted', 'RecordRemovedInSource') ORDER BY position"
    )
    first: dict[str, bool] = {}
    latest: dict[str, str] = {}
    touched: set[str] = set()
    for sid, run_id, kind, version in rows_for_streams(conn, sql, stream_ids):
        if version == 1:
            first[sid] = run_id in deltas
        if run_id in deltas:
            touched.add(sid)
        latest[sid] = kind
    return {sid: (first.get(sid, False), latest[sid]) for sid in touched}


def _stored_rows(
    conn: sqlite3.Connection, entity: str, stream_ids: list[str]
) -> dict[str, SourceRow]:
    """The latest extracted row of each stream, as a SourceRow."""
    sql = (
        "SELECT stream_id, data FROM events WHERE stream_id IN ({marks}) "
        "AND type = 'RecordExtracted' ORDER BY position"
    )
    found: dict[str, SourceRow] = {}
    for stream_id, data in rows_for_streams(conn, sql, stream_ids):
        event = decode(data)
        if isinstance(event, RecordExtracted):
            found[stream_id] = extracted_row(entity, event)
    return found


class SourceView:
    """The first export with the deltas applied since (a Source)."""

    def __init__(self, base: Source, conn: sqlite3.Connection) -> None:
        self._base = base
        self._conn = conn
        self._deltas = delta_run_ids(conn)

    @property
    def location(self) -> str:
        """The first export's location."""
        return self._base.location

    @property
    def has_deltas(self) -> bool:
        """Whether any delta was applied to this work directory."""
        return bool(self._deltas)

    def export_info(self) -> ExportInfo:
        """The first export's `_export_info.txt`."""
        return self._base.export_info()

    def entities(self) -> list[str]:
        """The first export's entities."""
        return self._base.entities()

    def inventory(self) -> list[SourceFile]:
        """The first export's files."""
        return self._base.inventory()

    def __getattr__(self, name: str) -> Any:
        # Anything else a reader offers (`describe`, `header_cells`, ...) is the first
        # export's: the files keep the first export's layout.
        return getattr(self._base, name)

    def rows(self, entity: str) -> Iterator[SourceRow]:
        """The latest version of every key of the entity, first export's order first."""
        if not self._deltas:
            yield from self._base.rows(entity)
            return
        placed: set[str] = set()
        for chunk in _chunks(self._base.rows(entity), _CHUNK):
            yield from self._chunk(entity, chunk, placed)
        yield from self._delta_only(entity, placed)

    def _chunk(self, entity: str, chunk: list[SourceRow], placed: set[str]) -> Iterator[SourceRow]:
        ids = [row.stream_id for row in chunk if row.stream_id is not None]
        facts = _source_facts(self._conn, ids, self._deltas)
        live = [sid for sid, (_, kind) in facts.items() if kind == "RecordExtracted"]
        stored = _stored_rows(self._conn, entity, live) if live else {}
        for row in chunk:
            sid = row.stream_id
            if sid is None or sid not in facts or sid in placed:
                yield row
                continue
            placed.add(sid)
            if sid in stored:
                yield stored[sid]
            # else: removed by a later full export, and it stays removed

    def _delta_only(self, entity: str, placed: set[str]) -> Iterator[SourceRow]:
        """Keys that a delta brought first: their latest extracted row, in key order."""
        low, after = f"{entity};", f"{entity}:"
        sql = (
            "SELECT stream_id FROM record_state WHERE stream_id > ? AND stream_id < ? "
            "AND instr(stream_id, ':@') = 0 ORDER BY stream_id LIMIT ?"
        )
        while ids := [sid for (sid,) in self._conn.execute(sql, (after, low, _CHUNK))]:
            after = ids[-1]
            facts = _source_facts(self._conn, [s for s in ids if s not in placed], self._deltas)
            wanted = [
                s for s, (first, kind) in facts.items() if first and kind == "RecordExtracted"
            ]
            stored = _stored_rows(self._conn, entity, wanted) if wanted else {}
            yield from (stored[s] for s in sorted(stored))


def _chunks(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk

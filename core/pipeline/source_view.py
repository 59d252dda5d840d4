"""The source as it stands: the first export, with every delta applied since, in order.

`ferry delta` records each row version it reads (RecordExtracted) and each row a later full
export lacks (RecordRemovedInSource). `SourceView` gives `ferry run` and `ferry sample`
the latest version of each key from that log:

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


def _delta_facts(conn: sqlite3.Connection, entity: str) -> dict[str, str]:
    """Per stream of the entity that a delta touched: the type of the latest extraction or
    removal a delta recorded for it. Read from each delta run's own span of the log (its
    events lie between its RunStarted and its last position), so the cost follows the deltas'
    size, not the export's."""
    sql = (
        "SELECT e.stream_id, e.type FROM run_summary r "
        "JOIN events s ON s.stream_id = 'run:' || r.run_id AND s.version = 1 "
        "JOIN events e ON e.position BETWEEN s.position AND r.last_position "
        "WHERE s.type = 'RunStarted' AND json_extract(s.data, '$.command') = 'delta' "
        "AND e.run_id = r.run_id AND e.stream_id >= ? AND e.stream_id < ? "
        "AND instr(e.stream_id, ':@') = 0 "
        "AND e.type IN ('RecordExtracted', 'RecordRemovedInSource') ORDER BY e.position"
    )
    return dict(conn.execute(sql, (f"{entity}:", f"{entity};")).fetchall())


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
        touched = _delta_facts(self._conn, entity)
        placed: set[str] = set()
        for chunk in _chunks(self._base.rows(entity), _CHUNK):
            yield from self._chunk(entity, chunk, touched, placed)
        # Keys only a delta brought (touched, never met in the first export), in key order.
        rest = sorted(s for s, kind in touched.items() if s not in placed and _is_live(kind))
        for start in range(0, len(rest), _CHUNK):
            stored = _stored_rows(self._conn, entity, rest[start : start + _CHUNK])
            yield from (stored[s] for s in sorted(stored))

    def _chunk(
        self, entity: str, chunk: list[SourceRow], touched: dict[str, str], placed: set[str]
    ) -> Iterator[SourceRow]:
        ids = [row.stream_id for row in chunk if row.stream_id in touched]
        live = [sid for sid in ids if sid is not None and _is_live(touched[sid])]
        stored = _stored_rows(self._conn, entity, live) if live else {}
        for row in chunk:
            sid = row.stream_id
            if sid is None or sid not in touched or sid in placed:
                yield row
                continue
            placed.add(sid)
            if sid in stored:
                yield stored[sid]
            # else: removed by a later full export, and it stays removed


def _is_live(kind: str) -> bool:
    return kind == "RecordExtracted"


def _chunks(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk

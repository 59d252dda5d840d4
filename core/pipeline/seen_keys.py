"""The stream ids met so far in a pass over the export's rows, in a SQLite table.

Two readers need them: the local stage, to tell the first row with a key from a later
duplicate (`first_seen`), and a full export's removal check, to find the streams the export
no longer holds (`track`, then a query that joins the table). One entry per row of the
export, so they live in SQLite, not in memory: exact (no hashing), one indexed query and one
insert per chunk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from itertools import islice

import msgspec

from core.ports.source import SourceRow
from core.scratch import open_scratch

__all__ = ["SeenKeys"]

_TRACK_CHUNK = 2000


class SeenKeys:
    """A set of stream ids in the TEMP table `temp.<table>` of a connection, emptied on creation.

    Without a connection it opens (and `close` deletes) a private scratch database of its own;
    with one (the store's, so that a query there can join `temp.<table>`) it leaves the
    connection open.
    """

    def __init__(self, conn: sqlite3.Connection | None = None, table: str = "seen_keys") -> None:
        self._owns_conn = conn is None
        self._conn = open_scratch() if conn is None else conn
        self.table = f"temp.{table}"
        self._conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {table} (stream_id TEXT PRIMARY KEY) WITHOUT ROWID"
        )
        self._conn.execute(f"DELETE FROM {self.table}")

    def first_seen(self, stream_ids: list[str | None]) -> list[bool]:
        """Per ID, whether it appears here first in this pass (None always does); marks them."""
        wanted = msgspec.json.encode(sorted({sid for sid in stream_ids if sid is not None}))
        known = {
            sid
            for (sid,) in self._conn.execute(
                f"SELECT stream_id FROM {self.table} "
                "WHERE stream_id IN (SELECT value FROM json_each(?))",
                (wanted,),
            )
        }
        new: list[tuple[str]] = []
        firsts = []
        for sid in stream_ids:
            is_first = sid is None or sid not in known
            if sid is not None and is_first:
                known.add(sid)
                new.append((sid,))
            firsts.append(is_first)
        self._conn.executemany(f"INSERT INTO {self.table} VALUES (?)", new)
        return firsts

    def track(self, rows: Iterable[SourceRow]) -> Iterator[SourceRow]:
        """Pass the rows on, noting each keyed row's stream (written every 2,000 rows)."""
        iterator = iter(rows)
        while chunk := list(islice(iterator, _TRACK_CHUNK)):
            ids = [(row.stream_id,) for row in chunk if row.stream_id is not None]
            self._conn.executemany(f"INSERT OR IGNORE INTO {self.table} VALUES (?)", ids)
            yield from chunk

    def close(self) -> None:
        """Delete the scratch database this set opened (a connection it was given stays open)."""
        if self._owns_conn:
            self._conn.close()

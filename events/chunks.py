"""`WHERE stream_id IN (...)` over any number of streams, in chunks SQLite accepts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

CHUNK = 500  # well under SQLite's limit on bound parameters


def rows_for_streams(
    conn: sqlite3.Connection, sql: str, stream_ids: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    """Rows of `sql` for the given streams; `sql` holds `{marks}` where the ids go.

    Chunks are queried in order, so `ORDER BY position` holds within each stream.
    """
    ids = list(stream_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        yield from conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)

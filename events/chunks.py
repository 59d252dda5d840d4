"""Statements over many rows in chunks: `WHERE stream_id IN (...)` and multi-row INSERTs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
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


# Rows per multi-row INSERT: one statement stepping through many rows costs SQLite less than
# one step per row (executemany), and stays far under the bound-parameter limit.
ROWS_PER_STATEMENT = 200


def insert_rows(
    conn: sqlite3.Connection, head: str, width: int, values: Sequence[Any], tail: str = ""
) -> None:
    """Insert rows given as one flat list of `width` values each, many rows per statement.

    `head` is the statement up to `VALUES` (e.g. `INSERT INTO t (a, b) VALUES`) and `tail`
    what follows the rows (e.g. an `ON CONFLICT` clause). Full groups of ROWS_PER_STATEMENT
    rows share one prepared statement; the rest go through `executemany`.
    """
    one = "(" + ",".join("?" * width) + ")"
    group = ROWS_PER_STATEMENT * width
    whole = len(values) - len(values) % group
    if whole:
        sql = f"{head} {','.join([one] * ROWS_PER_STATEMENT)} {tail}"
        for start in range(0, whole, group):
            conn.execute(sql, values[start : start + group])
    if whole < len(values):
        rest = values[whole:]
        conn.executemany(
            f"{head} {one} {tail}", [rest[i : i + width] for i in range(0, len(rest), width)]
        )

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
    size = min(CHUNK, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield from conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)


# Rows per multi-row INSERT: one statement stepping through many rows costs SQLite less than
# one step per row (executemany), and stays far under the bound-parameter limit.
ROWS_PER_STATEMENT = 200


def rows_per_statement(conn: sqlite3.Connection, width: int, shared: int = 0) -> int:
    """Rows of `width` parameters (plus `shared` ones) one statement may bind here.

    SQLite before 3.32 allows only 999 parameters per statement; later ones 32,766.
    """
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(ROWS_PER_STATEMENT, (limit - shared) // width))


def insert_rows(
    conn: sqlite3.Connection,
    head: str,
    width: int,
    values: Sequence[Any],
    tail: str = "",
    row: str = "",
) -> None:
    """Insert rows given as one flat list of `width` values each, many rows per statement.

    `head` is the statement up to `VALUES` (e.g. `INSERT INTO t (a, b) VALUES`) and `tail`
    what follows the rows (e.g. an `ON CONFLICT` clause). Full groups of rows (up to
    ROWS_PER_STATEMENT, within SQLite's parameter limit) share one prepared statement; the rest
    go through `executemany`. `row` is one row's VALUES tuple with `width` parameters, when
    it is not plain `(?, ?, …)`.
    """
    one = row or "(" + ",".join("?" * width) + ")"
    per = rows_per_statement(conn, width)
    group = per * width
    whole = len(values) - len(values) % group
    if whole:
        sql = f"{head} {','.join([one] * per)} {tail}"
        for start in range(0, whole, group):
            conn.execute(sql, values[start : start + group])
    if whole < len(values):
        rest = values[whole:]
        conn.executemany(
            f"{head} {one} {tail}", [rest[i : i + width] for i in range(0, len(rest), width)]
        )

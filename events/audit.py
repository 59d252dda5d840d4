"""Auditing the log: verify the hash chain, replay into fresh projections, compare them.

These functions only read the live store; a replay writes to a separate database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import msgspec

from events.private_files import create_private
from events.projections import (
    PROJECTION_SCHEMA,
    RECORD_STATE_COLUMNS,
    RUN_SUMMARY_COLUMNS,
    Applied,
    Projector,
    Transition,
)
from events.store import GENESIS_HASH, chain_hash
from events.types import decode

REPLAY_BATCH = 5_000


class ChainReport(msgspec.Struct, frozen=True):
    """The outcome of recomputing the hash chain.

    `first_bad_position` is the first position whose row does not match the chain (None when
    the whole chain holds); `reason` says what was wrong there.
    """

    is_ok: bool
    events: int
    first_bad_position: int | None = None
    reason: str = ""


def verify_chain(conn: sqlite3.Connection) -> ChainReport:
    """Recompute every row's hash in position order and check the links and the head."""
    expected_prev, expected_position, count = GENESIS_HASH, 1, 0
    rows = conn.execute(
        "SELECT position, stream_id, version, type, run_id, recorded_at, data, prev_hash, hash "
        "FROM events ORDER BY position"
    )
    for position, stream_id, version, type_, run_id, recorded_at, data, prev, digest in rows:
        count += 1
        if position != expected_position:
            return ChainReport(False, count, expected_position, "position missing (row deleted?)")
        if prev != expected_prev:
            return ChainReport(False, count, position, "prev_hash does not link to the row before")
        payload = data.encode() if isinstance(data, str) else bytes(data)
        if (
            chain_hash(position, stream_id, version, type_, run_id, recorded_at, payload, prev)
            != digest
        ):
            return ChainReport(False, count, position, "row content does not match its hash")
        expected_prev, expected_position = digest, position + 1
    head = conn.execute("SELECT position, hash FROM chain_head WHERE id = 1").fetchone()
    head_position, head_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    if (head_position, head_hash) != (expected_position - 1, expected_prev):
        bad = min(head_position, expected_position - 1) + 1
        return ChainReport(False, count, bad, "the log ends before the recorded head (rows cut?)")
    return ChainReport(True, count)


def _applied(conn: sqlite3.Connection, until_position: int | None) -> Iterator[list[Applied]]:
    sql = "SELECT position, stream_id, version, run_id, recorded_at, data FROM events"
    params: tuple[int, ...] = ()
    if until_position is not None:
        sql, params = sql + " WHERE position <= ?", (until_position,)
    cursor = conn.execute(sql + " ORDER BY position", params)
    while rows := cursor.fetchmany(REPLAY_BATCH):
        yield [Applied(p, s, v, r, t, decode(d)) for p, s, v, r, t, d in rows]


def replay(
    conn: sqlite3.Connection,
    target: Path,
    transition: Transition,
    *,
    until_position: int | None = None,
) -> int:
    """Fold the log (up to a position) into fresh projection tables in `target`.

    Returns the last position applied. `target` must not exist yet.

    Raises:
        FileExistsError: when `target` exists.
    """
    if target.exists():
        raise FileExistsError(f"{target} exists; replay writes a fresh database")
    out = sqlite3.connect(create_private(target), isolation_level=None)
    try:
        out.executescript(PROJECTION_SCHEMA)
        projector, last = Projector(transition), 0
        for batch in _applied(conn, until_position):
            out.execute("BEGIN")
            projector.fold(out, batch)
            out.execute("COMMIT")
            last = batch[-1].position
        return last
    finally:
        out.close()


class ProjectionDiff(msgspec.Struct, frozen=True):
    """Rows that differ between the live projections and a replay."""

    table: str
    key: str
    live: dict[str, object] | None
    rebuilt: dict[str, object] | None


def compare_projections(
    live: sqlite3.Connection, rebuilt: Path, limit: int = 20
) -> list[ProjectionDiff]:
    """Up to `limit` rows that differ between the live projections and a rebuilt database."""
    diffs: list[ProjectionDiff] = []
    live.execute("ATTACH DATABASE ? AS rebuilt", (str(rebuilt),))
    try:
        for table, columns in (
            ("record_state", RECORD_STATE_COLUMNS),
            ("run_summary", RUN_SUMMARY_COLUMNS),
        ):
            diffs.extend(_diff_table(live, table, columns, limit - len(diffs)))
            if len(diffs) >= limit:
                break
    finally:
        live.execute("DETACH DATABASE rebuilt")
    return diffs


def _diff_table(
    conn: sqlite3.Connection, table: str, columns: tuple[str, ...], limit: int
) -> list[ProjectionDiff]:
    cols = ", ".join(columns)
    key = columns[0]
    sql = (
        f"SELECT 'live', {cols} FROM (SELECT {cols} FROM main.{table} EXCEPT "
        f"SELECT {cols} FROM rebuilt.{table}) UNION ALL "
        f"SELECT 'rebuilt', {cols} FROM (SELECT {cols} FROM rebuilt.{table} EXCEPT "
        f"SELECT {cols} FROM main.{table}) ORDER BY 2 LIMIT ?"
    )
    by_key: dict[str, dict[str, dict[str, object] | None]] = {}
    for side, *values in conn.execute(sql, (limit * 2,)):
        row = dict(zip(columns, values, strict=True))
        by_key.setdefault(str(row[key]), {"live": None, "rebuilt": None})[side] = row
    return [
        ProjectionDiff(table, k, sides["live"], sides["rebuilt"])
        for k, sides in list(by_key.items())[:limit]
    ]

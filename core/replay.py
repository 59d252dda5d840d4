"""`ferry replay`: the projections rebuilt from the log into a database of their own.

The rebuilt database is created owner-only by `events.audit.replay` (in a temporary
directory unless the operator keeps it), read for its status counts and, on request,
compared with the live projections row by row.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import msgspec

from core.lifecycle import Lifecycle
from events.audit import ProjectionDiff, compare_projections, replay
from events.queries import StatusCounts, position_at, status_counts


class Replayed(msgspec.Struct, frozen=True):
    """What a replay rebuilt: the last position, the status counts, the differences found."""

    last: int
    counts: StatusCounts
    diffs: list[ProjectionDiff]


def replay_position(conn: sqlite3.Connection, until: str, instant: str | None) -> int:
    """The position to stop at: `until` itself when it is a number, else the last position
    recorded at or before `instant`."""
    return int(until) if until.isdigit() else position_at(conn, instant or "")


def rebuild_projections(
    conn: sqlite3.Connection, *, until: int | None, out: Path | None, check: bool
) -> Replayed:
    """Replay the log up to `until` into `out` (default: a temporary file); with `check`,
    compare the rebuilt projections with the live ones."""
    with tempfile.TemporaryDirectory() as tmp:
        target = out or Path(tmp) / "replay.db"
        last = replay(conn, target, Lifecycle().next_state, until_position=until)
        rebuilt = sqlite3.connect(target)
        try:
            counts = status_counts(rebuilt)
        finally:
            rebuilt.close()
        diffs = compare_projections(conn, target) if check else []
    return Replayed(last=last, counts=counts, diffs=diffs)

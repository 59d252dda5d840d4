"""The WAL is copied back on a background thread; the writer copies only the short tail."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from core.lifecycle import Lifecycle
from events import checkpoint
from events.audit import verify_chain
from events.checkpoint import INLINE_AUTOCHECKPOINT, Checkpointer
from events.store import EventStore
from tests.events.crash_writer import PER_BATCH, batch

BATCHES = 80


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "ferry-checkpoint"]


def _autocheckpoint(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def _largest_log(path: Path) -> int:
    """Append BATCHES batches to a new store at `path`; the log's largest size meanwhile."""
    wal = path.with_name(path.name + "-wal")
    store = EventStore.open(path, transition=Lifecycle().next_state)
    assert _autocheckpoint(store.connection) == 0  # SQLite's own is off on the writer
    largest = 0
    for i in range(BATCHES):
        store.append(batch(i), run_id="r1")
        largest = max(largest, wal.stat().st_size)
    store.close()
    assert _threads() == []
    return largest


def test_background_checkpoints_keep_the_log_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint, "CHECKPOINT_ROWS", 10**9)  # never
    unchecked = _largest_log(tmp_path / "unchecked.db")
    monkeypatch.setattr(checkpoint, "CHECKPOINT_ROWS", 300)
    monkeypatch.setattr(checkpoint, "TAIL_FRAMES", 40)
    path = tmp_path / "ferry.db"
    # The log starts over again and again instead of holding every page ever written.
    checked = _largest_log(path)
    assert checked < unchecked / 3, (checked, unchecked)
    conn = sqlite3.connect(path)
    assert verify_chain(conn).is_ok
    count = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert count == PER_BATCH + (BATCHES - 1) * 2 * PER_BATCH
    conn.close()


def test_a_store_that_writes_little_starts_no_thread(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state) as store:
        store.append(batch(0), run_id="r1")
        assert _threads() == []


def test_a_failing_background_checkpoint_falls_back_to_sqlites_own(tmp_path: Path) -> None:
    writer = sqlite3.connect(tmp_path / "ferry.db", isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    # The background connection cannot open this path, as if the disk had gone away.
    checkpointer = Checkpointer(tmp_path / "gone" / "ferry.db", writer)
    assert _autocheckpoint(writer) == 0
    checkpointer.after_commit(checkpoint.CHECKPOINT_ROWS)
    deadline = time.monotonic() + 10
    while checkpointer.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert checkpointer.error is not None
    checkpointer.after_commit(1)
    assert _autocheckpoint(writer) == INLINE_AUTOCHECKPOINT
    checkpointer.close()
    assert _threads() == []
    writer.close()

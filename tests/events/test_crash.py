"""kill -9 at random moments: the store opens, the chain holds, no batch is half there."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from core.lifecycle import Lifecycle
from events.audit import compare_projections, replay, verify_chain
from events.store import EventStore
from tests.events.crash_writer import PER_BATCH

ROOT = Path(__file__).resolve().parents[2]
KILLS = 24


def _start_writer(path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.events.crash_writer", str(path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _batch_sizes(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    sizes: dict[str, int] = {}
    rows = conn.execute(
        "SELECT COALESCE(json_extract(data, '$.source_file'), "
        "json_extract(data, '$.mapping_hash')), "
        "COUNT(*) FROM events WHERE type IN ('RecordExtracted', 'RecordTransformed') GROUP BY 1"
    )
    for tag, count in rows:
        sizes[tag] = count
    conn.close()
    return sizes


def test_sigkill_at_random_moments_leaves_a_consistent_store(tmp_path: Path) -> None:
    path = tmp_path / "ferry.db"
    rng = random.Random(20261127)
    kills = 0
    while kills < KILLS:
        writer = _start_writer(path)
        time.sleep(rng.uniform(0.4, 1.2))  # imports take ~0.3 s; then it appends continuously
        if writer.poll() is not None:
            assert writer.stderr is not None
            raise AssertionError(f"writer died by itself: {writer.stderr.read().decode()[-2000:]}")
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        assert writer.stderr is not None
        writer.stderr.close()
        kills += 1
        # Every restart must find a store that opens and verifies.
        with EventStore.open(path, transition=Lifecycle().next_state) as store:
            assert verify_chain(store.connection).is_ok
    sizes = _batch_sizes(path)
    assert len(sizes) > KILLS, "the writer made too little progress to test anything"
    for tag, count in sizes.items():
        # Batch 0 extracts 20; batch i > 0 extracts 20 and transforms i-1's 20: all or nothing.
        assert count == (PER_BATCH if tag == "batch-0" else 2 * PER_BATCH), (tag, count)
    with EventStore.open(path, transition=Lifecycle().next_state) as store:
        rebuilt = tmp_path / "replay.db"
        replay(store.connection, rebuilt, Lifecycle().next_state)
        assert compare_projections(store.connection, rebuilt) == []
        extracted = store.connection.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'RecordExtracted'"
        ).fetchone()[0]
        transformed = store.connection.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'RecordTransformed'"
        ).fetchone()[0]
        # Whole batches only: every batch extracted 20 and transformed the previous 20.
        assert extracted % PER_BATCH == 0 and transformed % PER_BATCH == 0
        assert transformed == extracted - PER_BATCH

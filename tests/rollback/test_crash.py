"""kill -9 during `ferry rollback --yes`, a few times, against a rate-limited sandbox.

Each interrupted rollback leaves some records `rolling_back` (intent recorded, outcome
unknown); the next rollback checks them in Twenty first. After the last one completes, the
sandbox must hold exactly what it held before the migration, and a further rollback must
find nothing to do.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.twenty_sandbox import RateWindow
from core.lifecycle import Lifecycle
from events.audit import verify_chain
from events.store import EventStore
from tests.rollback.conftest import differences, seed, snapshot
from tests.run.conftest import KEY_ENV, invoke, prepare

ROOT = Path(__file__).resolve().parents[2]
KILLS = 4


def _rollback(workdir: Path, key: str) -> subprocess.Popen[bytes]:
    # Deletes go 100 ids to a request: a tight budget keeps the rollback going long enough
    # for the kills to land in it (and in its requests).
    command = [
        sys.executable, str(ROOT / "cli.py"), "--workdir", str(workdir),
        "rollback", "--yes", "--rate-limit", "2/1s",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, KEY_ENV: key},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _states(workdir: Path) -> dict[str, int]:
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        sql = "SELECT state, COUNT(*) FROM record_state GROUP BY state"
        return dict(store.connection.execute(sql).fetchall())


@pytest.mark.slow
def test_kill_9_during_rollback_then_rollback_again_restores_the_sandbox(
    start_sandbox: Callable[..., Any], key_env: Callable[[str], None], tmp_path: Path
) -> None:
    sandbox = start_sandbox(rate_windows=(RateWindow(25, 1000),))
    rest, key = sandbox.rest_url, sandbox.api_key
    key_env(key)
    seed(rest, key)
    workdir = prepare(tmp_path / "wd", sandbox.base_url, rate_limit="25/1s")
    before = snapshot(rest, key)
    invoke(workdir, "run", "--without-sample-approval")
    total = _states(workdir)["loaded"]

    rng = random.Random(8)
    progress = []
    for _ in range(KILLS):
        process = _rollback(workdir, key)
        time.sleep(rng.uniform(1.2, 2.5))
        assert process.poll() is None, "the rollback finished before the kill: slow it down"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
        progress.append(_states(workdir))
    done = [p.get("rolled_back", 0) for p in progress]
    assert done == sorted(done) and 0 < done[-1] < total, progress  # each kill hit live work
    assert any(p.get("rolling_back") for p in progress), progress  # and some hit mid-record

    final = _rollback(workdir, key)
    assert final.wait(timeout=300) == 0, final.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
    assert final.stderr is not None
    final.stderr.close()
    assert _states(workdir).get("rolled_back") == total
    assert differences(before, snapshot(rest, key)) == []
    assert "nothing to undo" in invoke(workdir, "rollback", "--yes")
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        assert verify_chain(store.connection).is_ok
        already = store.connection.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'RecordRolledBack' "
            "AND json_extract(data, '$.already_done')"
        ).fetchone()[0]
    assert already <= KILLS

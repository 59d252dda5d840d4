"""kill -9 during `ferry delta --apply-deletes`, again and again, then once more to the end.

Against a faulty, rate-limited sandbox (dropped connections after commit, 5xx): the sandbox
must then hold exactly what an uninterrupted delta puts into a clean sandbox that held the
same migration (a copy of the work directory: the same namespace, so the same ids).
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
from click.testing import CliRunner

from adapters.twenty_sandbox import RateWindow
from cli import ferry
from core.lifecycle import Lifecycle
from events.audit import verify_chain
from events.store import EventStore
from tests.delta.conftest import KEY_ENV, invoke
from tests.run.conftest import VOLATILE, copy_workdir, dump
from tests.run.test_crash_resume import _retarget, _stable

ROOT = Path(__file__).resolve().parents[2]
KILLS = 6


def _start_delta(workdir: Path, key: str, delta: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(ROOT / "cli.py"), "--workdir", str(workdir), "delta",
               str(delta), "--apply-deletes"]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, KEY_ENV: key},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _content(sandbox: Any) -> dict[str, dict[str, Any]]:
    content = dump(sandbox.rest_url, sandbox.api_key, VOLATILE | {"createdAt"})
    return {p: {i: _stable(r) for i, r in records.items()} for p, records in content.items()}


@pytest.mark.slow
def test_kill_9_during_a_delta_then_rerun_equals_an_uninterrupted_delta(
    start_sandbox: Callable[..., Any], key_env: Callable[[str], None], tmp_path: Path
) -> None:
    faulty = start_sandbox(drop_after_commit=0.05, fail_rate=0.05, seed=5,
                           rate_windows=(RateWindow(30, 1000),))  # fmt: skip
    clean = start_sandbox()
    key_env(faulty.api_key)
    base, delta = tmp_path / "base", tmp_path / "delta"
    invoke(tmp_path, "fixtures", "generate", "--out", str(base), "--patients", "80", "--seed", "8")
    rates = ["--change-rate", "0.15", "--new-rate", "0.05", "--delete-rate", "0.04"]
    invoke(tmp_path, "fixtures", "generate", "--delta-from", str(base), "--out", str(delta),
           "--seed", "9", *rates)  # fmt: skip
    crashed = tmp_path / "crashed"
    invoke(crashed, "init", "--source", str(base), "--twenty-url", faulty.base_url,
           "--api-key-env", KEY_ENV)  # fmt: skip
    invoke(crashed, "map", "propose", str(base))
    invoke(crashed, "map", "confirm", "--user", "tester")
    reference = copy_workdir(crashed, tmp_path / "reference")
    for workdir, sandbox, rate in ((crashed, faulty, "30/1s"), (reference, clean, "1000/1s")):
        _retarget(workdir, sandbox.base_url, rate)
        # The generated export's deliberate bad rows (and their orphans) pass 5% of some
        # small entities: this test is about crashes, not the rejection threshold.
        config = workdir / "ferry.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("max_rejected_share = 0.05", "max_rejected_share = 1.0"))
        invoke(workdir, "schema", "apply", "--no-probe")
        _run_until_done(workdir)
    invoke(reference, "delta", str(delta), "--apply-deletes")

    rng = random.Random(20261127)
    kills = 0
    for _ in range(KILLS):
        process = _start_delta(crashed, faulty.api_key, delta)
        time.sleep(rng.uniform(0.8, 3.0))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        assert process.stderr is not None
        error = process.stderr.read().decode()
        process.stderr.close()
        assert process.returncode in (0, -signal.SIGKILL), error[-3000:]
    final = _start_delta(crashed, faulty.api_key, delta)
    assert final.wait(timeout=300) == 0, (
        final.stderr.read().decode()[-3000:] if final.stderr else ""
    )
    assert final.stderr is not None
    final.stderr.close()
    assert kills >= 2, "the delta finished before the kills: slow the sandbox down"
    crashed_content, clean_content = _content(faulty), _content(clean)
    for plural, records in clean_content.items():
        differing = {i for i in records.keys() | crashed_content[plural].keys()
                     if records.get(i) != crashed_content[plural].get(i)}  # fmt: skip
        assert not differing, (plural, sorted(differing)[:3])
    # The same refusals as the uninterrupted delta (an email still held by a soft-deleted
    # family member, say), and no write left in doubt.
    assert _outcomes(crashed) == _outcomes(reference)
    with EventStore.open(crashed / "ferry.db", transition=Lifecycle().next_state) as store:
        assert verify_chain(store.connection).is_ok


def _outcomes(workdir: Path) -> dict[str, tuple[str, str | None]]:
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        rows = store.connection.execute(
            "SELECT stream_id, state, last_error_code FROM record_state"
        ).fetchall()
    return {stream: (state, code) for stream, state, code in rows}


def _run_until_done(workdir: Path) -> None:
    """`ferry run` again while a faulty sandbox leaves records load_failed (exit 1)."""
    for _ in range(5):
        result = CliRunner().invoke(
            ferry, ["--workdir", str(workdir), "run", "--without-sample-approval"]
        )
        if result.exit_code == 0:
            return
        assert "not done: writes failed" in result.output, result.output
    raise AssertionError("the run never completed")

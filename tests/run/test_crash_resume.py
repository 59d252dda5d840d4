"""kill -9 during `ferry run`, again and again, against a faulty, rate-limited sandbox.

After each kill the same command is started again; at the end one run completes. The
sandbox must then hold exactly what an uninterrupted run puts into a clean sandbox (same
work directory copy, so the same namespace and ids): no duplicate, no missing record, no
difference in any field; and the event log's chain must verify.
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
from tests.run.conftest import KEY_ENV, VOLATILE, copy_workdir, dump, invoke

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def _generate(out: Path) -> Path:
    invoke(
        out.parent, "fixtures", "generate", "--out", str(out), "--patients", "250", "--seed", "11"
    )
    return out


def _retarget(workdir: Path, url: str, rate_limit: str) -> None:
    config = workdir / "ferry.toml"
    lines = []
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.startswith("url = "):
            line = f'url = "{url}"'
        elif line.startswith("rate_limit = "):
            line = f'rate_limit = "{rate_limit}"'
        elif line.startswith("batch_size = "):
            # Cloud's 60, not auto's 200: more requests, so that the kills land mid-work.
            line = "batch_size = 60"
        lines.append(line)
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _start_run(workdir: Path, key: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, KEY_ENV: key}
    command = [
        sys.executable,
        str(ROOT / "cli.py"),
        "--workdir",
        str(workdir),
        "run",
        "--without-sample-approval",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _pending(workdir: Path) -> int:
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        return int(
            store.connection.execute(
                "SELECT COUNT(*) FROM record_state "
                "WHERE state IN ('validated', 'loading', 'load_failed')"
            ).fetchone()[0]
        )


def _stable(record: dict[str, Any]) -> dict[str, Any]:
    """The record without what the server derives afresh on every write (blocknote ids)."""
    return {
        key: {k: v for k, v in value.items() if k != "blocknote"}
        if isinstance(value, dict)
        else value
        for key, value in record.items()
    }


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume_equals_an_uninterrupted_run(
    start_sandbox: Callable[..., Any], key_env: Callable[[str], None], tmp_path: Path
) -> None:
    faulty = start_sandbox(
        drop_after_commit=0.05, fail_rate=0.05, seed=3, rate_windows=(RateWindow(8, 1000),)
    )
    clean = start_sandbox()
    assert faulty.api_key == clean.api_key
    key_env(faulty.api_key)
    export = _generate(tmp_path / "export")
    base = tmp_path / "crashed"
    invoke(
        base,
        "init",
        "--source",
        str(export),
        "--twenty-url",
        faulty.base_url,
        "--api-key-env",
        KEY_ENV,
    )
    invoke(base, "map", "propose", str(export))
    invoke(base, "map", "confirm", "--user", "tester")
    reference = copy_workdir(base, tmp_path / "reference")
    _retarget(base, faulty.base_url, "8/1s")
    invoke(base, "schema", "apply", "--no-probe")
    _retarget(reference, clean.base_url, "1000/1s")
    invoke(reference, "schema", "apply", "--no-probe")
    invoke(reference, "run", "--without-sample-approval")

    rng = random.Random(20261127)
    kills, mid_work, finished, attempts = 0, 0, False, 0
    while kills < KILLS and attempts < 3 * KILLS:  # bounded: a run may finish before its kill
        attempts += 1
        process = _start_run(base, faulty.api_key)
        time.sleep(rng.uniform(0.8, 3.5))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        assert process.stderr is not None
        error = process.stderr.read().decode()
        process.stderr.close()
        assert process.returncode in (0, -signal.SIGKILL), error[-3000:]
        if process.returncode == 0:
            finished = True
        if not finished:
            mid_work += 1
    final = _start_run(base, faulty.api_key)
    assert final.wait(timeout=300) == 0, (
        final.stderr.read().decode()[-3000:] if final.stderr else ""
    )
    assert final.stderr is not None
    final.stderr.close()

    assert mid_work >= 10, f"only {mid_work} kills hit unfinished work; make the export bigger"
    assert _pending(base) == 0
    with EventStore.open(base / "ferry.db", transition=Lifecycle().next_state) as store:
        assert verify_chain(store.connection).is_ok
    volatile = VOLATILE | {"createdAt"}
    crashed = dump(faulty.rest_url, faulty.api_key, volatile)
    expected = dump(clean.rest_url, clean.api_key, volatile)
    for plural in expected:
        assert set(crashed[plural]) == set(expected[plural]), plural  # none missing, none extra
        for record_id, record in expected[plural].items():
            assert _stable(crashed[plural][record_id]) == _stable(record), (plural, record_id)
    assert sum(len(v) for v in expected.values()) > 1000

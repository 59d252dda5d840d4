"""A restarted run does not burst: it starts from the request budget the killed one left.

Two work directories migrate the same export into two sandboxes with the same tight budget
(a bucket of 6 requests refilled over 3 s): one uninterrupted, one SIGKILLed right after its
opening burst and started again at once. Without the budget saved in the store, the second
process would start with a full bucket while the sandbox's is empty, and draw 429s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.twenty_sandbox import RateWindow
from tests.run.conftest import KEY_ENV, invoke, prepare

ROOT = Path(__file__).resolve().parents[2]
BUDGET = "6/3s"


def _run(workdir: Path, key: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(ROOT / "cli.py"), "--workdir", str(workdir), "run",
               "--without-sample-approval"]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, KEY_ENV: key},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _throttled(sandbox: Any) -> int:
    body = httpx.get(f"{sandbox.base_url}/_sandbox/stats", timeout=10).json()
    return int(body["throttled"])


def _ready(start_sandbox: Callable[..., Any], key_env: Callable[[str], None], workdir: Path) -> Any:
    sandbox = start_sandbox(rate_windows=(RateWindow(6, 3000),))
    key_env(sandbox.api_key)
    prepare(workdir, sandbox.base_url, rate_limit=BUDGET)
    time.sleep(3.5)  # the set-up's requests are refilled: both runs start on a full bucket
    httpx.post(f"{sandbox.base_url}/_sandbox/stats/reset", timeout=10)
    return sandbox


@pytest.mark.slow
def test_a_killed_and_restarted_run_draws_no_more_429s_than_an_uninterrupted_one(
    start_sandbox: Callable[..., Any], key_env: Callable[[str], None], tmp_path: Path
) -> None:
    calm = _ready(start_sandbox, key_env, tmp_path / "calm")
    first = _run(tmp_path / "calm", calm.api_key)
    assert first.wait(timeout=300) == 0
    assert first.stderr is not None
    first.stderr.close()
    uninterrupted = _throttled(calm)

    killed = _ready(start_sandbox, key_env, tmp_path / "killed")
    process = _run(tmp_path / "killed", killed.api_key)
    time.sleep(2.0)  # past the opening burst: the sandbox's bucket is about empty now
    assert process.poll() is None, "the run finished before the kill: tighten the budget"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.stderr is not None
    process.stderr.close()
    again = _run(tmp_path / "killed", killed.api_key)
    assert again.wait(timeout=300) == 0
    assert again.stderr is not None
    again.stderr.close()
    assert _throttled(killed) <= uninterrupted
    assert "ferry verify" in invoke(tmp_path / "killed", "status")  # nothing left to load

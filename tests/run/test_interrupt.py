"""Ctrl-C during `ferry run`: the requests in flight settle, the run ends `interrupted`
(exit code 3) with nothing left in doubt, and the same command finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.twenty_sandbox import RateWindow
from tests.delta.conftest import store_rows
from tests.run.conftest import KEY_ENV, invoke, prepare

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_a_rerun_finishes(
    start_sandbox: Callable[..., Any], key_env: Callable[[str], None], tmp_path: Path
) -> None:
    sandbox = start_sandbox(rate_windows=(RateWindow(4, 1000),))
    key_env(sandbox.api_key)
    workdir = prepare(tmp_path / "wd", sandbox.base_url, rate_limit="4/1s")
    env = {**os.environ, KEY_ENV: sandbox.api_key}
    command = [sys.executable, str(ROOT / "cli.py"), "--workdir", str(workdir), "run",
               "--without-sample-approval"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until loading has begun
        if store_rows(workdir, "SELECT COUNT(*) FROM record_state WHERE state = 'loaded'")[0][0]:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 3, err.decode()[-2000:]
    assert b"interrupted" in out and b"Traceback" not in err
    outcome = store_rows(
        workdir,
        "SELECT json_extract(data, '$.outcome') FROM events WHERE type = 'RunFinished' "
        "ORDER BY position DESC LIMIT 1",
    )[0][0]
    assert outcome == "interrupted"
    states = dict(store_rows(workdir, "SELECT state, COUNT(*) FROM record_state GROUP BY state"))
    assert "loading" not in states  # the requests in flight settled and were recorded
    assert states.get("validated", 0) > 0  # it really stopped before the end
    invoke(workdir, "run", "--without-sample-approval")
    pending = store_rows(
        workdir,
        "SELECT COUNT(*) FROM record_state WHERE state IN ('validated', 'loading', 'load_failed')",
    )[0][0]
    assert pending == 0

"""Shared pytest fixtures. Each area keeps its fixtures in its own marked section."""

from __future__ import annotations

# --- sandbox: the local Twenty server (adapters/twenty_sandbox) -----------------------------
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.twenty_sandbox import SandboxConfig, SandboxHandle, running_sandbox
from tests.browser import chromium, report_page  # noqa: F401 (fixtures for every suite)

SANDBOX_TEST_KEY = "sandbox-test-key"
_REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxHandle]]:
    """A factory: `start_sandbox(rate_windows=..., fail_rate=..., ...)` starts one in-process.

    Options are SandboxConfig fields; the key defaults to SANDBOX_TEST_KEY. Every sandbox
    started is stopped when the test ends.
    """
    with ExitStack() as stack:

        def start(**options: Any) -> SandboxHandle:
            options.setdefault("api_key", SANDBOX_TEST_KEY)
            return stack.enter_context(running_sandbox(SandboxConfig(**options)))

        yield start


@pytest.fixture
def twenty_sandbox(start_sandbox: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A fresh in-memory sandbox on a free loopback port: `.base_url`, `.rest_url`, `.api_key`."""
    return start_sandbox()


class SandboxProcess:
    """A sandbox served by `ferry sandbox serve` in a child process (for crash/restart tests)."""

    def __init__(self, db_path: Path, api_key: str, extra_args: list[str]) -> None:
        self.db_path = db_path
        self.api_key = api_key
        self.extra_args = extra_args
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.rest_url = f"{self.base_url}/rest"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SandboxProcess:
        """Launch the server and wait until `/healthz` answers."""
        command = [
            sys.executable,
            str(_REPO / "cli.py"),
            "sandbox",
            "serve",
            "--port",
            str(self.port),
            "--db",
            str(self.db_path),
            *self.extra_args,
        ]
        env = {**os.environ, "FERRY_SANDBOX_API_KEY": self.api_key}
        self.process = subprocess.Popen(command, cwd=_REPO, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("sandbox process did not become healthy")

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 5 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_sandbox_process(tmp_path: Path) -> Iterator[Callable[..., SandboxProcess]]:
    """A factory starting `ferry sandbox serve` as a subprocess: `start(*cli_args, db_path=...)`."""
    started: list[SandboxProcess] = []

    def start(*cli_args: str, db_path: Path | None = None) -> SandboxProcess:
        process = SandboxProcess(
            db_path or tmp_path / "sandbox.db", SANDBOX_TEST_KEY, list(cli_args)
        )
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop()


# --- end of sandbox section -------------------------------------------------------------------

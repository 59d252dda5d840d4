"""Running the sandbox: in the foreground for the CLI, or in a background thread for tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import uvicorn

from adapters.twenty_sandbox.app import SandboxState, build_app
from adapters.twenty_sandbox.config import SandboxConfig, SandboxConfigError

_START_TIMEOUT_S = 15.0


@dataclass
class SandboxHandle:
    """A running sandbox: where it listens, the key it accepts, its live state."""

    base_url: str
    api_key: str
    state: SandboxState

    @property
    def rest_url(self) -> str:
        """The `/rest` base that Twenty clients are configured with."""
        return f"{self.base_url}/rest"

    def stats(self) -> dict[str, Any]:
        """The request counters (requests, throttled, injected failures, drops)."""
        return self.state.stats.as_dict()


def _uvicorn_config(app: Any, config: SandboxConfig) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )


def serve(config: SandboxConfig, state: SandboxState | None = None) -> None:
    """Serve the sandbox in the foreground until interrupted.

    Raises:
        SandboxConfigError: when the configuration cannot be used.
    """
    state = state or SandboxState(config)
    try:
        uvicorn.Server(_uvicorn_config(build_app(state), config)).run()
    finally:
        state.storage.close()


@contextmanager
def running_sandbox(config: SandboxConfig | None = None) -> Iterator[SandboxHandle]:
    """Start a sandbox on a free loopback port in a background thread; stop it on exit.

    Raises:
        SandboxConfigError: when the configuration cannot be used or the server won't start.
    """
    config = config or SandboxConfig()
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every keep-alive request waits ~40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((config.host, 0))
    port = listener.getsockname()[1]
    config = replace(config, port=port)
    state = SandboxState(config)
    server = uvicorn.Server(_uvicorn_config(build_app(state), config))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name=f"sandbox:{port}", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield SandboxHandle(f"http://{config.host}:{port}", state.api_key, state)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        state.storage.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SandboxConfigError("the sandbox server did not start")
        time.sleep(0.01)

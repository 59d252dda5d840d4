"""Fixtures of the destination tests: an injected clock whose sleep advances time."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from adapters.twenty import TwentyClient
from core.ports.destination import DestinationSettings
from core.rate_limit import RateLimiter, parse_windows


class FakeClock:
    """Monotonic time that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(0.0, seconds)
        await anyio.sleep(0)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


class Target:
    """Where the contract tests run: the sandbox, or a real Twenty from the environment."""

    def __init__(self, url: str, key: str, is_real: bool) -> None:
        self.url, self.key, self.is_real = url, key, is_real


def real_twenty() -> Target | None:
    """The real Twenty named by TWENTY_API_URL / TWENTY_API_KEY, if both are set."""
    url, key = os.environ.get("TWENTY_API_URL"), os.environ.get("TWENTY_API_KEY")
    return Target(url, key, True) if url and key else None


@pytest.fixture
def twenty(start_sandbox: Callable[..., Any]) -> Target:
    """A real Twenty when configured, else a fresh sandbox."""
    real = real_twenty()
    if real is not None:
        return real
    sandbox = start_sandbox()
    return Target(sandbox.base_url, sandbox.api_key, False)


@pytest.fixture
def faulty(start_sandbox: Callable[..., Any]) -> Callable[..., Target]:
    """Start a sandbox with fault options (skipped against a real Twenty)."""
    if real_twenty() is not None:
        pytest.skip("fault injection needs the sandbox")

    def start(**options: Any) -> Target:
        sandbox = start_sandbox(**options)
        return Target(sandbox.base_url, sandbox.api_key, False)

    return start


def make_client(
    target: Target, limiter: RateLimiter | None = None, batch_size: int = 60
) -> TwentyClient:
    """A client for the target; the key passes through a private environment mapping."""
    return TwentyClient(
        DestinationSettings(url=target.url, batch_size=batch_size, timeout_s=10.0),
        gate=limiter or RateLimiter(parse_windows("1000/1s")),
        environ={"TWENTY_API_KEY": target.key},
    )

"""Fixtures of the destination tests: an injected clock whose sleep advances time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest


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

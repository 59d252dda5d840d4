"""Fixtures for the store's tests: a real SQLite file in a temporary work directory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.lifecycle import Lifecycle
from events.store import EventStore


class SteppingClock:
    """An injected clock that moves one second per reading."""

    def __init__(self) -> None:
        self.instant = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.instant += timedelta(seconds=1)
        return self.instant


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "work" / "ferry.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[EventStore]:
    opened = EventStore.open(store_path, transition=Lifecycle().next_state, now=SteppingClock())
    yield opened
    opened.close()

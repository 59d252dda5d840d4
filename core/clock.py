"""Injected time: every timestamp Ferry records comes from a Clock, never from the globals."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Wall time for records, monotonic time for durations."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        return time.monotonic()


def isoformat_utc(instant: datetime) -> str:
    """ISO-8601 in UTC with microseconds and a `Z`, sortable as text.

    Raises:
        ValueError: when the instant is naive (no zone): Ferry never guesses a zone.
    """
    if instant.tzinfo is None:
        raise ValueError("naive datetime: Ferry records only zone-aware instants")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""The sandbox's settings: one frozen object built by the CLI or a test and passed down."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

# Twenty's QUERY_MAX_RECORDS: records per batch create, and per update- or destroy-many.
TWENTY_DEFAULT_BATCH_MAX = 200
_WINDOW_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|min|h)\s*$")
_UNIT_MS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "min": 60_000.0, "h": 3_600_000.0}


class SandboxConfigError(ConfigError):
    """A sandbox option is malformed; the message says which and how to write it."""


@dataclass(frozen=True)
class RateWindow:
    """One token bucket: `limit` requests per `window_ms` ms, refilled a whole token at a time."""

    limit: int
    window_ms: int


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the sandbox server needs; defaults behave like a quiet self-hosted Twenty.

    Attributes:
        db_path: the SQLite file (None: a private in-memory database, lost on exit).
        api_key: the Bearer token accepted (None: a random one is generated at start).
        api_key_name: the key's display name, injected as `createdBy.name`.
        rate_windows: the workspace's token buckets, spent in order by every data request
            whose object is found (empty: no throttling).
        rate_limit_headers: answer 429 in the v2 style (headers, `RATE_LIMITED`).
        batch_max: records allowed per batch create (Twenty's code: 200).
        mutation_max: records one update- or destroy-many may touch (Twenty's code: 200;
            soft delete- and restore-many are not capped, as in Twenty).
        latency_ms: delay added before each data request is handled.
        fail_rate: probability of a 503 before a data request does anything.
        fail_writes: probability of a 500 before a data write (POST, PATCH, PUT, DELETE) does
            anything; reads are answered as usual.
        drop_after_commit: probability that a committed write's connection is dropped.
        seed: seed of the fault dice, so a run can be replayed.
        members_csv: a CSV `name,email` of workspace members seeded at start.
    """

    db_path: Path | None = None
    api_key: str | None = None
    api_key_name: str = "Ferry sandbox key"
    rate_windows: tuple[RateWindow, ...] = ()
    rate_limit_headers: bool = False
    batch_max: int = TWENTY_DEFAULT_BATCH_MAX
    mutation_max: int = TWENTY_DEFAULT_BATCH_MAX
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    fail_writes: float = 0.0
    drop_after_commit: float = 0.0
    seed: int | None = None
    members_csv: Path | None = None
    host: str = "127.0.0.1"
    port: int = 3000

    def __post_init__(self) -> None:
        for name in ("fail_rate", "fail_writes", "drop_after_commit"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SandboxConfigError(f"{name} must be a probability between 0 and 1")
        for name in ("batch_max", "mutation_max"):
            if not 1 <= getattr(self, name) <= TWENTY_DEFAULT_BATCH_MAX:
                raise SandboxConfigError(
                    f"{name} must be between 1 and {TWENTY_DEFAULT_BATCH_MAX} (Twenty's own cap)"
                )
        if self.latency_ms < 0:
            raise SandboxConfigError("latency_ms must not be negative")


def parse_rate_window(text: str) -> RateWindow:
    """Read `100/60s`, `100/s`, `50/1m` or `3/500ms` into a RateWindow.

    Raises:
        SandboxConfigError: when the text is not `<count>/<number?><unit>`.
    """
    match = _WINDOW_PATTERN.match(text)
    if match is None:
        raise SandboxConfigError(
            f"rate limit {text!r} is not understood; write it like 100/60s, 100/s or 3/500ms"
        )
    limit = int(match.group(1))
    amount = float(match.group(2) or 1)
    window_ms = int(amount * _UNIT_MS[match.group(3)])
    if limit < 1 or window_ms < 1:
        raise SandboxConfigError(f"rate limit {text!r} needs a positive count and window")
    return RateWindow(limit=limit, window_ms=window_ms)


def resolve_api_key(config: SandboxConfig) -> str:
    """The key the server will accept: the configured one, or a fresh random token."""
    return config.api_key or f"sandbox-{secrets.token_urlsafe(18)}"

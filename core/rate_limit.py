"""Client-side rate limiting shared by every task: one limiter, one or more windows.

Each window mirrors Twenty's throttle (reference §7.1; twenty-server's `ThrottlerService`): a
bucket of `limit` whole tokens that a request finds refilled by `floor(elapsed / interval)`
since the last request the server admitted, where `interval` is `seconds / limit`. An admitted
request restarts that clock, so whatever fraction of a token had refilled is lost: against
such a server a request is only sure to pass once a whole interval has gone by since the
previous one arrived. The limiter therefore keeps whole tokens, restarts its own clock at every
request it lets through, and counts its intervals a little long: `interval × (1 + margin) +
jitter_s`, so that a request arriving up to `jitter_s` later or earlier than the one before it
(network and event-loop jitter) still finds its token. Requests let through at once from a
full bucket may queue at the server and be admitted late; `answered` tells the limiter when
such a request came back, and once the bucket is spent its clock restarts from there too.

On a 429 the limiter lowers its limits (multiplicatively) and holds every task back for the
wait; each success recovers a little (additively), so a server tighter than configured is found
quickly and left slowly. Waits longer than a threshold are reported through `on_pause`, so the
pipeline can record a durable RunPaused event and show it in status.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable

import anyio
import msgspec

from core.clock import Clock, SystemClock
from core.errors import ConfigError

__all__ = ["LimiterState", "PauseNotice", "RateLimiter", "Window", "parse_windows"]

Sleep = Callable[[float], Awaitable[None]]

_WINDOW = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|min|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


class Window(msgspec.Struct, frozen=True):
    """At most `limit` requests in any `seconds`-long span."""

    limit: int
    seconds: float


class PauseNotice(msgspec.Struct, frozen=True):
    """A wait long enough to be worth telling the operator (and recording)."""

    seconds: float
    reason: str


class LimiterState(msgspec.Struct, frozen=True, kw_only=True):
    """The budget a limiter had left, saved so that the next process starts from it.

    Attributes:
        windows: the windows it was for (`limit/seconds` each); another budget ignores it.
        tokens: tokens left per window, in the same order.
        wall: when (seconds since the epoch).
        scale: how far 429s had lowered the limits (1.0: not at all).
        final: saved by a limiter closing cleanly, so exact. Otherwise the process may have
            spent more until it died, but not later than `save_every_s` after `wall` (a
            limiter that spends saves at least that often).
        save_every_s: the saving interval of the limiter that saved it.
    """

    windows: list[str]
    tokens: list[float]
    wall: float
    scale: float = 1.0
    final: bool = False
    save_every_s: float = 5.0


def parse_windows(text: str) -> tuple[Window, ...]:
    """Parse `100/60s`, `100/1s,100/60s`, `50/5s`, `6000/h` into windows.

    Raises:
        ConfigError: the text is not a comma-separated list of `<count>/<duration>`.
    """
    windows = []
    for part in text.split(","):
        match = _WINDOW.match(part)
        if not match or int(match.group(1)) < 1:
            raise ConfigError(
                f"rate limit {part.strip()!r} is not valid: write <requests>/<duration>, "
                "e.g. 100/60s or 100/1s,100/60s"
            )
        amount = float(match.group(2) or 1)
        unit = _UNIT_SECONDS[match.group(3) or "s"]
        if amount * unit <= 0:
            raise ConfigError(f"rate limit {part.strip()!r}: the duration must be positive")
        windows.append(Window(int(match.group(1)), amount * unit))
    return tuple(windows)


class _Bucket:
    """One window as Twenty's floor-and-reset token bucket, with a longer interval.

    `tokens` are whole tokens at `last`, the moment the clock last restarted (a request let
    through, or an early request answered once the bucket was spent).
    """

    def __init__(self, window: Window, margin: float, jitter_s: float, now: float) -> None:
        self.window = window
        self.margin = margin
        self.jitter_s = jitter_s
        self.tokens = window.limit
        self.last = now

    def interval(self, scale: float) -> float:
        """Seconds the limiter counts per token at the current (scaled) limit."""
        return self.window.seconds / (self.window.limit * scale) * (1.0 + self.margin) + (
            self.jitter_s
        )

    def capacity(self, scale: float) -> int:
        return max(1, math.floor(self.window.limit * scale))

    def available(self, now: float, scale: float) -> int:
        """Whole tokens a request sent at `now` would find."""
        refilled = math.floor(max(0.0, now - self.last) / self.interval(scale))
        return min(self.capacity(scale), self.tokens + refilled)

    def wait(self, now: float, scale: float) -> float:
        """Seconds until one token is available at the current (scaled) limit."""
        if self.available(now, scale) >= 1:
            return 0.0
        return max(1e-6, self.last + self.interval(scale) - now)

    def take(self, now: float, scale: float) -> None:
        self.tokens = self.available(now, scale) - 1
        self.last = now

    def restart_if_spent(self, now: float, scale: float) -> None:
        """An early request came back: once the bucket is spent, count from its answer."""
        if self.available(now, scale) < 1 and now > self.last:
            self.tokens, self.last = 0, now

    def drain(self, now: float) -> None:
        self.tokens, self.last = 0, max(self.last, now)


class RateLimiter:
    """Shared admission control implementing `core.ports.destination.RequestGate`."""

    def __init__(
        self,
        windows: tuple[Window, ...] = (Window(100, 60.0),),
        *,
        clock: Clock | None = None,
        sleep: Sleep = anyio.sleep,
        margin: float = 0.005,
        jitter_s: float = 0.01,
        long_wait_s: float = 30.0,
        on_pause: Callable[[PauseNotice], None] | None = None,
        on_state: Callable[[LimiterState], None] | None = None,
        save_every_s: float = 5.0,
    ) -> None:
        if not windows:
            raise ConfigError("a rate limiter needs at least one window")
        self._clock = clock or SystemClock()
        self._sleep = sleep
        now = self._clock.monotonic()
        self._buckets = [_Bucket(w, margin, jitter_s, now) for w in windows]
        self._lock = anyio.Lock()
        self._hold_until = 0.0
        self._long_wait_s = long_wait_s
        self._on_pause = on_pause
        # A lone 429 is more often jitter than a tighter server: recover within 2/3 of a
        # window's worth of requests (a tighter server answers 429 again, and is found).
        self._recovery = 0.3 / min(w.limit for w in windows)
        self.scale = 1.0
        self.acquired = 0
        self.throttles = 0
        self.pauses: list[PauseNotice] = []
        self._on_state = on_state
        self._save_every_s = save_every_s
        self._saved_at = -math.inf

    # -- the budget across processes --------------------------------------------------------

    def _labels(self) -> list[str]:
        return [f"{b.window.limit}/{b.window.seconds:g}" for b in self._buckets]

    def state(self, *, final: bool = False) -> LimiterState:
        """The budget left now (tokens per window, refilled up to this instant)."""
        now = self._clock.monotonic()
        return LimiterState(
            windows=self._labels(),
            tokens=[float(b.available(now, self.scale)) for b in self._buckets],
            wall=self._clock.now().timestamp(),
            scale=self.scale,
            final=final,
            save_every_s=self._save_every_s,
        )

    def resume(self, state: LimiterState | None) -> None:
        """Start from the budget an earlier process left, so a restart does not burst.

        None (no earlier process recorded one) keeps the full bucket. A state saved at a
        clean close is exact: its whole tokens plus the whole tokens refilled since (what had
        refilled before the save towards the next token is not counted: the server may have
        admitted a request just before). Otherwise the earlier process may have kept spending
        until it died, at the latest `save_every_s` after its last save: the bucket is taken as
        empty then, refilled since. The clock restarts now either way.
        """
        if state is None or state.windows != self._labels():
            return
        elapsed = max(0.0, self._clock.now().timestamp() - state.wall)
        now = self._clock.monotonic()
        self.scale = max(0.1, min(1.0, state.scale))
        for bucket, tokens in zip(self._buckets, state.tokens, strict=True):
            interval = bucket.interval(self.scale)
            if state.final:
                start = math.floor(tokens) + math.floor(elapsed / interval)
            else:
                start = math.floor(max(0.0, elapsed - state.save_every_s) / interval)
            bucket.tokens = min(bucket.capacity(self.scale), max(0, start))
            bucket.last = now

    def close(self) -> None:
        """Save the exact budget left (a clean end of the process's use of Twenty)."""
        if self._on_state is not None:
            self._on_state(self.state(final=True))

    def _maybe_save(self) -> None:
        if self._on_state is None:
            return
        now = self._clock.monotonic()
        if now - self._saved_at >= self._save_every_s:
            self._saved_at = now
            self._on_state(self.state())

    @property
    def windows(self) -> tuple[Window, ...]:
        """The configured windows (before any lowering)."""
        return tuple(bucket.window for bucket in self._buckets)

    def _wait(self, now: float) -> float:
        held = self._hold_until - now
        return max([held, *(bucket.wait(now, self.scale) for bucket in self._buckets)])

    async def acquire(self) -> bool:
        """Wait (in FIFO order with the other tasks) until one more request may be sent.

        Returns True when the request is let through at once from a bucket with tokens to
        spare: such requests may queue at the server, so their answer is worth reporting
        to `answered`.
        """
        async with self._lock:
            reported = waited = False
            while (delay := self._wait(self._clock.monotonic())) > 0:
                if delay >= self._long_wait_s and not reported:
                    self._report(delay, "rate limit budget spent; waiting for the window")
                    reported = True
                waited = True
                await self._sleep(max(delay, 1e-6))
            # Saved before the token is taken: a crash right after still leaves a state the
            # next process reads as "possibly spent until save_every_s later".
            self._maybe_save()
            now = self._clock.monotonic()
            for bucket in self._buckets:
                bucket.take(now, self.scale)
            self.acquired += 1
            # Additive recovery: back from one lowering (x0.8) after 2/3 of a window's worth.
            self.scale = min(1.0, self.scale + self._recovery)
            return not waited

    def answered(self, immediate: bool) -> None:
        """A request let through came back (with anything but a 429).

        `immediate` is what `acquire` returned for it. Such a request may have waited at the
        server behind the others sent at once, and been admitted as late as now: once the
        bucket is spent, the next token is counted from now rather than from its sending.
        """
        if not immediate:
            return
        now = self._clock.monotonic()
        for bucket in self._buckets:
            bucket.restart_if_spent(now, self.scale)

    def throttled(self, delay_s: float) -> None:
        """The server answered 429: lower the limits and hold every task back `delay_s`."""
        self.throttles += 1
        self.scale = max(0.1, self.scale * 0.8)
        now = self._clock.monotonic()
        for bucket in self._buckets:
            bucket.drain(now)  # the server's bucket is empty: so is ours, from now
        until = now + max(0.0, delay_s)
        if until > self._hold_until:
            self._hold_until = until
            if delay_s >= self._long_wait_s:
                self._report(delay_s, "destination answered 429 (rate limited)")

    def _report(self, seconds: float, reason: str) -> None:
        notice = PauseNotice(round(seconds, 3), reason)
        self.pauses.append(notice)
        if self._on_pause is not None:
            self._on_pause(notice)

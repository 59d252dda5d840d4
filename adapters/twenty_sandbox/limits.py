"""Per-API-key token buckets answering 429 in Twenty's two styles (reference §7).

Refill follows Twenty's throttler: `tokens = min(limit, tokens + floor(elapsed × limit / window))`,
each request takes one token whatever its batch size. By default a throttled request gets
Twenty's legacy answer (no headers, `Limit reached (N tokens per M ms)`); with
`rate_limit_headers` it gets the usage-limit (v2) answer with `Retry-After` and `X-RateLimit-*`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters.twenty_sandbox.config import RateWindow
from adapters.twenty_sandbox.problems import ApiProblem


@dataclass
class _Bucket:
    window: RateWindow
    tokens: int
    refilled_at_ms: float

    def refill(self, now_ms: float) -> None:
        per_ms = self.window.limit / self.window.window_ms
        gained = math.floor((now_ms - self.refilled_at_ms) * per_ms)
        if gained > 0:
            self.tokens = min(self.window.limit, self.tokens + gained)
            self.refilled_at_ms = (
                now_ms
                if self.tokens == self.window.limit
                else self.refilled_at_ms + gained / per_ms
            )

    def wait_ms(self) -> float:
        """Milliseconds until one token is back."""
        return self.window.window_ms / self.window.limit


class RateLimiter:
    """Token buckets keyed by API key; `take` raises the 429 Twenty would send."""

    def __init__(
        self,
        windows: tuple[RateWindow, ...],
        *,
        v2_style: bool,
        monotonic_ms: Callable[[], float] | None = None,
        wall_s: Callable[[], float] = time.time,
    ) -> None:
        self._windows = windows
        self._v2_style = v2_style
        self._now_ms = monotonic_ms or (lambda: time.monotonic() * 1000.0)
        self._wall_s = wall_s
        self._buckets: dict[str, list[_Bucket]] = {}

    def take(self, key: str, spender_id: str) -> None:
        """Spend one token from every window of the key.

        Raises:
            ApiProblem: 429 when a window is empty (no token is spent then).
        """
        if not self._windows:
            return
        now = self._now_ms()
        buckets = self._buckets.setdefault(key, [_Bucket(w, w.limit, now) for w in self._windows])
        for bucket in buckets:
            bucket.refill(now)
        empty = next((b for b in buckets if b.tokens < 1), None)
        if empty is not None:
            raise self._throttled(empty, spender_id)
        for bucket in buckets:
            bucket.tokens -= 1

    def _throttled(self, bucket: _Bucket, spender_id: str) -> ApiProblem:
        window = bucket.window
        if not self._v2_style:
            return ApiProblem(
                429,
                f"Limit reached ({window.limit} tokens per {window.window_ms} ms)",
                error="HttpException",
            )
        retry_after = max(1, math.ceil(bucket.wait_ms() / 1000))
        seconds = max(1, round(window.window_ms / 1000))
        return ApiProblem(
            429,
            f"Rate limit exceeded for apiKey: {window.limit} requests per {seconds}s.",
            error="RATE_LIMITED",
            extra={
                "limitKind": "speed",
                "exhaustedKind": "limit",
                "scope": {"spenderType": "apiKey", "spenderId": spender_id, "operationType": "api"},
                "limit": window.limit,
                "remaining": 0,
                "periodCount": seconds,
                "periodUnit": "second",
                "retryAfterSeconds": retry_after,
            },
            headers={
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": str(window.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(self._wall_s()) + retry_after),
            },
        )

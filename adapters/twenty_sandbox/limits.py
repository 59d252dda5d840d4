"""Twenty's API throttle: token buckets per workspace, answering 429 in Twenty's two styles.

Refill follows `ThrottlerService.tokenBucketThrottleOrThrow` (twenty-server,
`engine/core-modules/throttler/throttler.service.ts`): a request at `now` sees
`min(limit, tokens + floor((now - lastRefillAt) × limit / window))` tokens; when one is there it
is taken and the bucket is stored as `{tokens: available - 1, lastRefillAt: now}`. Every
admitted request therefore resets the refill clock and the fraction of a token that had
refilled is lost; a refused request changes nothing. The windows are checked one after the
other (`common-base-query-runner.service.ts`, `throttleApiKeyQueryExecution`: the short window,
then the long one), so a request refused by a later window has already spent a token of the
earlier ones. Each request takes one token whatever its batch size. By default a throttled
request gets Twenty's legacy answer (no headers, `Limit reached (N tokens per M ms)`); with
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
    last_refill_ms: float

    def available(self, now_ms: float) -> int:
        """Tokens a request at `now_ms` finds (Twenty's `getAvailableTokensCount`)."""
        per_ms = self.window.limit / self.window.window_ms
        refill = math.floor((now_ms - self.last_refill_ms) * per_ms)
        return min(self.tokens + refill, self.window.limit)

    def take(self, now_ms: float) -> bool:
        """Spend one token and restart the refill clock; False (nothing changed) when empty."""
        available = self.available(now_ms)
        if available < 1:
            return False
        self.tokens, self.last_refill_ms = available - 1, now_ms
        return True

    def wait_ms(self, now_ms: float) -> float:
        """Milliseconds until a whole token has refilled since the last admitted request."""
        interval = self.window.window_ms / self.window.limit
        return max(0.0, self.last_refill_ms + interval - now_ms)


class RateLimiter:
    """Token buckets keyed by workspace; `take` raises the 429 Twenty would send."""

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

    def take(self, workspace: str, spender_id: str) -> None:
        """Spend one token from each window of the workspace, in order, as Twenty does.

        Raises:
            ApiProblem: 429 from the first window that is empty (the windows before it have
                spent their token; it and the ones after are unchanged).
        """
        if not self._windows:
            return
        now = self._now_ms()
        buckets = self._buckets.setdefault(
            workspace, [_Bucket(w, w.limit, now) for w in self._windows]
        )
        for bucket in buckets:
            if not bucket.take(now):
                raise self._throttled(bucket, spender_id, now)

    def _throttled(self, bucket: _Bucket, spender_id: str, now_ms: float) -> ApiProblem:
        window = bucket.window
        if not self._v2_style:
            return ApiProblem(
                429,
                f"Limit reached ({window.limit} tokens per {window.window_ms} ms)",
                error="HttpException",
            )
        retry_after = max(1, math.ceil(bucket.wait_ms(now_ms) / 1000))
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

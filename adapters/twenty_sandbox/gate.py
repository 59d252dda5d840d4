"""The ASGI layer in front of Twenty's routes: auth, rate limits, injected faults, counters.

Twenty throttles a data request only once its object is known (the REST handler looks the
object up, then the query runner's `execute` throttles before validating anything else), so an
unknown object, a metadata request or a request refused before the lookup spends no token.
The gate therefore authenticates every `/rest` request here and hands the data routes an
`admit` callable (in `scope["sandbox"]`) that they call right after the object lookup: it
takes the token (one workspace, so one set of buckets whatever the key) and then rolls the
503 fault dice.

Faults are seeded so a failing run can be replayed. `drop_after_commit` lets the write commit
and then aborts the TCP connection before any byte of the answer is sent: the client sees a
dropped connection (httpx `RemoteProtocolError`), the very case where a naive retry would
create a duplicate.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from adapters.twenty_sandbox.config import SandboxConfig
from adapters.twenty_sandbox.data_routes import json_response
from adapters.twenty_sandbox.limits import RateLimiter
from adapters.twenty_sandbox.problems import ApiProblem

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
# The sandbox serves one workspace; Twenty keys its API-key buckets by workspace id.
WORKSPACE_ID = "sandbox-workspace"


@dataclass
class Stats:
    """Counters for tests and benchmarks, served at `GET /_sandbox/stats`."""

    requests: int = 0
    throttled: int = 0
    unauthenticated: int = 0
    injected_failures: int = 0
    dropped_after_commit: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_method: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        """Start counting from zero."""
        self.__init__()  # type: ignore[misc]

    def as_dict(self) -> dict[str, Any]:
        """The counters as JSON-ready data."""
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "unauthenticated": self.unauthenticated,
            "injectedFailures": self.injected_failures,
            "droppedAfterCommit": self.dropped_after_commit,
            "byStatus": dict(self.by_status),
            "byMethod": dict(self.by_method),
        }


class Gate:
    """Wraps the route app: checks the Bearer key, throttles, injects faults, counts."""

    def __init__(self, app: App, config: SandboxConfig, api_key: str, stats: Stats) -> None:
        self.app = app
        self._config = config
        self._api_key = api_key
        self._stats = stats
        self._dice = random.Random(config.seed)
        self._limiter = RateLimiter(config.rate_windows, v2_style=config.rate_limit_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        marker: dict[str, Any] = {"committed": False}
        scope["sandbox"] = marker
        path: str = scope["path"]
        if path == "/rest" or path.startswith("/rest/"):
            self._stats.requests += 1
            method = str(scope.get("method", ""))
            self._stats.by_method[method] = self._stats.by_method.get(method, 0) + 1
            try:
                await self._authenticate_and_delay(scope)
            except ApiProblem as problem:
                self._count(problem.status)
                response = json_response(problem.body, problem.status, problem.headers)
                await response(scope, receive, send)
                return
            marker["admit"] = lambda: self.admit(method)
            await self.app(scope, receive, self._guarded(send, marker))
            return
        await self.app(scope, receive, send)

    async def _authenticate_and_delay(self, scope: Scope) -> None:
        self._authenticate(scope)
        if self._config.latency_ms:
            await asyncio.sleep(self._config.latency_ms / 1000)

    def admit(self, method: str = "GET") -> None:
        """Throttle a data request whose object was found, then maybe inject a fault: a 503
        for any request (`fail_rate`), a 500 for a write (`fail_writes`).

        Raises:
            ApiProblem: 429 when the workspace's budget is spent; 503/500 when the dice say so.
        """
        try:
            self._limiter.take(WORKSPACE_ID, "sandbox-api-key")
        except ApiProblem:
            self._stats.throttled += 1
            raise
        if self._config.fail_rate and self._dice.random() < self._config.fail_rate:
            self._stats.injected_failures += 1
            raise ApiProblem(503, "Service temporarily unavailable (injected by the sandbox)")
        chance = self._config.fail_writes if method in WRITE_METHODS else 0.0
        if chance and self._dice.random() < chance:
            self._stats.injected_failures += 1
            raise ApiProblem(500, "Internal server error (injected by the sandbox)")

    def _authenticate(self, scope: Scope) -> None:
        raw: bytes = dict(scope.get("headers") or []).get(b"authorization", b"")
        header = raw.decode("latin-1")
        scheme, _, token = header.partition(" ")
        if not header or (scheme.lower() == "bearer" and not token.strip()):
            # Twenty's authentication suite: no token is a 403, a wrong one a 401.
            self._stats.unauthenticated += 1
            raise ApiProblem(403, "Missing authentication token", error="FORBIDDEN_EXCEPTION")
        if scheme.lower() != "bearer" or token.strip() != self._api_key:
            self._stats.unauthenticated += 1
            raise ApiProblem(401, "Token invalid.", error="UNAUTHENTICATED")

    def _count(self, status: int) -> None:
        key = str(status)
        self._stats.by_status[key] = self._stats.by_status.get(key, 0) + 1

    def _guarded(self, send: Send, marker: dict[str, Any]) -> Send:
        dropped = False

        async def guarded_send(message: Message) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start":
                self._count(int(message["status"]))
                if marker["committed"] and self._should_drop():
                    dropped = True
                    self._stats.dropped_after_commit += 1
                    await _abort_connection(send, message)
                    return
            await send(message)

        return guarded_send

    def _should_drop(self) -> bool:
        rate = self._config.drop_after_commit
        return bool(rate) and self._dice.random() < rate


async def _abort_connection(send: Send, start: Message) -> None:
    """Close the TCP connection without answering (uvicorn's transport, reached via `send`)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
        for _ in range(3):  # let uvicorn's connection_lost run: it then sends nothing
            await asyncio.sleep(0)
        return
    # Another server: start the answer, then fail, which makes the server close the connection.
    await send({**start, "headers": []})
    raise ConnectionAbortedError("sandbox dropped the connection after commit")

"""Sandbox-only behaviour: throttling styles, batch cap, injected faults, auth, counters."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from adapters.twenty_sandbox import RateWindow, SandboxHandle
from adapters.twenty_sandbox.limits import RateLimiter
from adapters.twenty_sandbox.problems import ApiProblem


def _client(handle: SandboxHandle) -> httpx.Client:
    return httpx.Client(
        base_url=handle.rest_url, headers={"Authorization": f"Bearer {handle.api_key}"}
    )


def test_default_429_has_no_headers_and_twenty_legacy_body(
    start_sandbox: Callable[..., SandboxHandle],
) -> None:
    handle = start_sandbox(rate_windows=(RateWindow(limit=3, window_ms=60_000),))
    with _client(handle) as client:
        statuses = [client.get("/people").status_code for _ in range(3)]
        throttled = client.get("/people")
    assert statuses == [200, 200, 200]
    assert throttled.status_code == 429
    assert throttled.json() == {
        "statusCode": 429,
        "error": "HttpException",
        "messages": ["Limit reached (3 tokens per 60000 ms)"],
    }
    assert "retry-after" not in throttled.headers
    assert not any(name.startswith("x-ratelimit") for name in throttled.headers)
    assert handle.stats()["throttled"] == 1


def test_v2_429_carries_retry_after_and_ratelimit_headers(
    start_sandbox: Callable[..., SandboxHandle],
) -> None:
    handle = start_sandbox(
        rate_windows=(RateWindow(limit=2, window_ms=60_000),), rate_limit_headers=True
    )
    with _client(handle) as client:
        client.get("/people")
        client.get("/people")
        throttled = client.get("/people")
    body = throttled.json()
    assert throttled.status_code == 429
    assert body["error"] == "RATE_LIMITED"
    assert body["limit"] == 2 and body["remaining"] == 0 and body["limitKind"] == "speed"
    assert int(throttled.headers["retry-after"]) >= 1
    assert throttled.headers["x-ratelimit-limit"] == "2"
    assert throttled.headers["x-ratelimit-remaining"] == "0"
    reset = int(throttled.headers["x-ratelimit-reset"])
    assert reset >= int(time.time())


def test_buckets_refill_continuously_like_twentys_throttler() -> None:
    now = [0.0]
    limiter = RateLimiter(
        (RateWindow(limit=5, window_ms=1000), RateWindow(limit=100, window_ms=60_000)),
        v2_style=False,
        monotonic_ms=lambda: now[0],
    )
    for _ in range(5):
        limiter.take("key", "spender")
    with pytest.raises(ApiProblem) as refused:
        limiter.take("key", "spender")
    assert refused.value.body["messages"] == ["Limit reached (5 tokens per 1000 ms)"]
    now[0] = 399.0  # floor(399 * 5 / 1000) = 1 token back
    limiter.take("key", "spender")
    with pytest.raises(ApiProblem):
        limiter.take("key", "spender")
    now[0] = 1000.0
    for _ in range(3):
        limiter.take("key", "spender")


def test_metadata_and_health_are_not_throttled(
    start_sandbox: Callable[..., SandboxHandle],
) -> None:
    handle = start_sandbox(rate_windows=(RateWindow(limit=1, window_ms=60_000),))
    with _client(handle) as client:
        client.get("/people")
        assert client.get("/people").status_code == 429
        assert client.get("/metadata/objects").status_code == 200
    assert httpx.get(f"{handle.base_url}/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("batch_max", "size", "status"),
    [(200, 200, 201), (200, 201, 400), (60, 60, 201), (60, 61, 400)],
    ids=["200-ok", "201-refused", "cloud-60-ok", "cloud-61-refused"],
)
def test_batch_cap(
    start_sandbox: Callable[..., SandboxHandle], batch_max: int, size: int, status: int
) -> None:
    handle = start_sandbox(batch_max=batch_max)
    with _client(handle) as client:
        response = client.post("/batch/notes", json=[{"title": f"n{i}"} for i in range(size)])
        total = client.get("/notes").json()["totalCount"]
    assert response.status_code == status
    if status == 400:
        assert response.json()["messages"] == [
            f"Maximum number of records to upsert is {batch_max}."
        ]
        assert total == 0
    else:
        assert total == size


def test_fail_rate_answers_503_before_writing(start_sandbox: Callable[..., SandboxHandle]) -> None:
    handle = start_sandbox(fail_rate=1.0)
    with _client(handle) as client:
        response = client.post("/notes", json={"title": "never stored"})
    assert response.status_code == 503
    assert response.json()["statusCode"] == 503
    # The store is reachable directly: nothing was written.
    note = handle.state.schema().by_plural["notes"]
    assert handle.state.storage.count(note.id, "1", []) == 0


def test_fail_rate_is_replayable_with_a_seed(start_sandbox: Callable[..., SandboxHandle]) -> None:
    runs = []
    for _ in range(2):
        handle = start_sandbox(fail_rate=0.5, seed=7)
        with _client(handle) as client:
            runs.append([client.get("/notes").status_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


def test_drop_after_commit_commits_then_drops_the_connection(
    start_sandbox: Callable[..., SandboxHandle],
) -> None:
    handle = start_sandbox(drop_after_commit=1.0)
    with _client(handle) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post("/notes", json={"title": "committed"})
        listed = client.get("/notes").json()
    assert [note["title"] for note in listed["data"]["notes"]] == ["committed"]
    assert handle.stats()["droppedAfterCommit"] == 1


def test_latency_is_added(start_sandbox: Callable[..., SandboxHandle]) -> None:
    handle = start_sandbox(latency_ms=150)
    with _client(handle) as client:
        started = time.monotonic()
        client.get("/notes")
        elapsed = time.monotonic() - started
    assert elapsed >= 0.15


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong", "Basic sandbox-test-key"],
    ids=["wrong-key", "wrong-scheme"],
)
def test_unauthenticated_requests_get_401(
    twenty_sandbox: SandboxHandle, authorization: str
) -> None:
    # A missing token is a 403 (tests/contracts/test_records_contract.py, test_01).
    headers = {"Authorization": authorization}
    response = httpx.get(f"{twenty_sandbox.rest_url}/people", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "UNAUTHENTICATED"


def test_stats_count_requests_and_can_be_reset(twenty_sandbox: SandboxHandle) -> None:
    with _client(twenty_sandbox) as client:
        client.get("/people")
        client.get("/nothing")
    stats = httpx.get(f"{twenty_sandbox.base_url}/_sandbox/stats").json()
    assert stats["requests"] == 2
    assert stats["byStatus"] == {"200": 1, "400": 1}
    httpx.post(f"{twenty_sandbox.base_url}/_sandbox/stats/reset")
    assert httpx.get(f"{twenty_sandbox.base_url}/_sandbox/stats").json()["requests"] == 0


def test_an_admitted_request_restarts_the_refill_clock() -> None:
    now = [0.0]
    limiter = RateLimiter(
        (RateWindow(limit=5, window_ms=1000),), v2_style=False, monotonic_ms=lambda: now[0]
    )
    for _ in range(5):
        limiter.take("workspace", "spender")
    now[0] = 300.0  # 1.5 tokens: one taken, the half lost with the reset
    limiter.take("workspace", "spender")
    now[0] = 440.0  # 0.7 token since the reset (1.2 had the half been kept)
    with pytest.raises(ApiProblem):
        limiter.take("workspace", "spender")
    now[0] = 500.0  # a whole interval after the last admitted request
    limiter.take("workspace", "spender")


def test_windows_are_spent_in_order_so_a_later_refusal_still_costs_the_earlier_token() -> None:
    limiter = RateLimiter(
        (RateWindow(limit=5, window_ms=1000), RateWindow(limit=3, window_ms=60_000)),
        v2_style=False,
        monotonic_ms=lambda: 0.0,
    )
    for _ in range(3):
        limiter.take("workspace", "spender")
    messages = []
    for _ in range(3):
        with pytest.raises(ApiProblem) as refused:
            limiter.take("workspace", "spender")
        messages.append(refused.value.body["messages"][0])
    # Twenty throttles the short window, then the long one: the two refusals by the long
    # window each took a short-window token, so the third is refused by the short one.
    assert messages == [
        "Limit reached (3 tokens per 60000 ms)",
        "Limit reached (3 tokens per 60000 ms)",
        "Limit reached (5 tokens per 1000 ms)",
    ]

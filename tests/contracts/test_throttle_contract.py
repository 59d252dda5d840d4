"""Twenty's API throttle as a client meets it: floor-and-reset refill, what is counted.

Against the sandbox each test starts its own throttled sandbox (4 requests / 1600 ms, one token
every 400 ms: arrival jitter up to ~100 ms leaves the outcomes unchanged). Against a real
Twenty (TWENTY_API_URL and TWENTY_API_KEY) they run only when TWENTY_RATE_LIMIT names the
workspace's binding window (e.g. `100/60s`), because they spend the whole budget; they also
need the short window (`API_RATE_LIMITING_SHORT_*`) not to be the tighter one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from adapters.twenty_sandbox import RateWindow, SandboxConfig, running_sandbox
from adapters.twenty_sandbox.config import parse_rate_window

_SANDBOX_WINDOW = RateWindow(limit=4, window_ms=1600)


@dataclass
class Throttled:
    """A client for a throttled target and the seconds one token takes to refill."""

    client: httpx.Client
    interval_s: float
    limit: int


@pytest.fixture
def throttled() -> Iterator[Throttled]:
    """A fresh throttled sandbox, or the real Twenty of the environment with its budget."""
    url, key = os.environ.get("TWENTY_API_URL"), os.environ.get("TWENTY_API_KEY")
    if url and key:
        budget = os.environ.get("TWENTY_RATE_LIMIT")
        if not budget:
            pytest.skip("set TWENTY_RATE_LIMIT (e.g. 100/60s) to spend a real workspace's budget")
        window = parse_rate_window(budget)
        base, token = url.rstrip("/"), key
        context = None
    else:
        window = _SANDBOX_WINDOW
        context = running_sandbox(SandboxConfig(api_key="throttle-key", rate_windows=(window,)))
        handle = context.__enter__()
        base, token = handle.rest_url, handle.api_key
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    try:
        yield Throttled(client, window.window_ms / 1000 / window.limit, window.limit)
    finally:
        client.close()
        if context is not None:
            context.__exit__(None, None, None)


def _spend_all(target: Throttled) -> float:
    """Send until refused; return when the last admitted request was sent."""
    last_admitted = time.monotonic()
    for _ in range(target.limit * 3 + 10):
        sent = time.monotonic()
        status = target.client.get("/notes", params={"limit": "1"}).status_code
        if status == 429:
            return last_admitted
        assert status == 200
        last_admitted = sent
    raise AssertionError("the target never answered 429")


def _at(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def test_an_admitted_request_restarts_the_refill_so_a_partial_token_is_lost(
    throttled: Throttled,
) -> None:
    interval = throttled.interval_s
    last = _spend_all(throttled)
    _at(last + 0.6 * interval)
    assert throttled.client.get("/notes").status_code == 429
    _at(last + 1.5 * interval)  # one whole token and half of the next
    first = time.monotonic()
    assert throttled.client.get("/notes").status_code == 200
    # 0.5 + 0.7 = 1.2 tokens had the half been kept; Twenty restarted the clock at `first`.
    _at(first + 0.7 * interval)
    refused = throttled.client.get("/notes")
    assert refused.status_code == 429
    assert refused.json()["statusCode"] == 429
    # The refusal changed nothing: a whole interval after `first` a token is there.
    _at(first + 1.25 * interval)
    assert throttled.client.get("/notes").status_code == 200


def test_only_requests_whose_object_was_found_are_counted(throttled: Throttled) -> None:
    interval = throttled.interval_s
    last = _spend_all(throttled)
    unknown = throttled.client.get("/notAnObjectAtAll")
    assert unknown.status_code == 400
    assert "not found" in unknown.json()["messages"][0]
    bad_limit = throttled.client.get("/notes", params={"limit": "ten"})
    assert bad_limit.status_code == 400
    assert throttled.client.get("/metadata/objects").status_code == 200
    assert throttled.client.get("/notes").status_code == 429
    _at(last + 1.2 * interval)  # one token back, untouched by the requests above
    invalid = throttled.client.post("/notes", json={"noSuchField": 1})
    assert invalid.status_code == 400  # validated after the throttle took the token
    assert throttled.client.get("/notes").status_code == 429

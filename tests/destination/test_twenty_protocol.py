"""Protocol edge cases of the Twenty client, answered by httpx.MockTransport.

Only what the sandbox cannot easily stage lives here (exact header forms, timeouts, the 1.x
restore route); the contract tests against the sandbox cover the rest over real HTTP.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from adapters.twenty import TwentyClient, redact
from core.errors import FatalForRunError, RetryableError
from core.ports.destination import (
    BatchTooLargeError,
    DestinationAuthError,
    DestinationSettings,
    DuplicateRecordError,
    RecordRejectedError,
    WriteOutcomeUnknownError,
)
from core.rate_limit import RateLimiter, Window
from tests.destination.conftest import FakeClock

KEY = "sk-test-very-secret"
ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
Handler = Callable[[httpx.Request], httpx.Response]


def _run(handler: Handler, clock: FakeClock, body: Callable[[TwentyClient], Any]) -> Any:
    limiter = RateLimiter((Window(1000, 1.0),), clock=clock, sleep=clock.sleep)

    async def main() -> Any:
        async with TwentyClient(
            DestinationSettings(url="http://twenty.test", batch_size=60),
            gate=limiter,
            environ={"TWENTY_API_KEY": KEY},
            transport=httpx.MockTransport(handler),
            sleep=clock.sleep,
            rng=random.Random(7),
        ) as client:
            return await body(client)

    return anyio.run(main)


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"statusCode": status, "error": "X", "messages": [message]})


def _created(request: httpx.Request) -> httpx.Response:
    records = json.loads(request.content)
    return httpx.Response(201, json={"data": {"createPeople": records}})


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [({"Retry-After": "7"}, 7.0), ({}, None)],
    ids=["retry-after-header", "no-header-backoff"],
)
def test_429_waits_then_retries(
    fake_clock: FakeClock, headers: dict[str, str], expected_wait: float | None
) -> None:
    answers = iter([httpx.Response(429, headers=headers, json={"statusCode": 429}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        return next(answers) or _created(request)

    out = _run(handler, fake_clock, lambda c: c.create_many("people", [{"id": ID}]))
    assert out == [{"id": ID}]
    if expected_wait is None:
        assert 0.5 <= fake_clock.t <= 1.0  # first backoff: 1 s with equal jitter
    else:
        assert fake_clock.t == pytest.approx(expected_wait)


@pytest.mark.parametrize(
    "failure",
    [
        lambda r: httpx.Response(503, text="unavailable"),
        lambda r: httpx.Response(502, text="bad gateway"),
        lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
        lambda r: (_ for _ in ()).throw(httpx.RemoteProtocolError("dropped", request=r)),
    ],
    ids=["503", "502", "timeout", "dropped-connection"],
)
def test_write_failures_make_the_outcome_unknown(fake_clock: FakeClock, failure: Handler) -> None:
    with pytest.raises(WriteOutcomeUnknownError) as caught:
        _run(failure, fake_clock, lambda c: c.create_many("people", [{"id": ID}]))
    assert caught.value.ids == (ID,)


def test_reads_are_retried_after_a_timeout(fake_clock: FakeClock) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectTimeout("slow", request=request)
        return httpx.Response(200, json={"data": {"people": [{"id": ID}]}, "pageInfo": {}})

    found = _run(handler, fake_clock, lambda c: c.find_by_ids("people", [ID]))
    assert found == [{"id": ID}] and len(calls) == 2


def test_reads_give_up_as_retryable(fake_clock: FakeClock) -> None:
    with pytest.raises(RetryableError, match="kept failing"):
        _run(lambda r: httpx.Response(503), fake_clock, lambda c: c.find_by_ids("people", [ID]))


@pytest.mark.parametrize(
    ("status", "message", "kind", "field"),
    [
        (400, "Invalid value 'JANE@X' for field \"status\"", RecordRejectedError, "status"),
        (
            400,
            "A duplicate entry was detected: Key (email)=(jane@x.example)",
            DuplicateRecordError,
            None,
        ),
    ],
    ids=["bad-select", "duplicate"],
)
def test_400_is_fatal_for_the_record_with_values_redacted(
    fake_clock: FakeClock, status: int, message: str, kind: type[Exception], field: str | None
) -> None:
    with pytest.raises(kind) as caught:
        _run(
            lambda r: _error(status, message),
            fake_clock,
            lambda c: c.create_one("people", {"id": ID}),
        )
    error = caught.value
    assert isinstance(error, RecordRejectedError)
    assert error.field == field and error.record_id == ID
    assert "JANE" not in str(error) and "jane@x" not in str(error)


def test_an_unknown_field_stops_the_run(fake_clock: FakeClock) -> None:
    with pytest.raises(FatalForRunError, match="schema plan"):
        _run(
            lambda r: _error(400, 'Object person doesn\'t have any "foo" field.'),
            fake_clock,
            lambda c: c.create_one("people", {"foo": 1}),
        )


@pytest.mark.parametrize("status", [401, 403], ids=["401", "403"])
def test_auth_failures_stop_the_run_without_the_key(fake_clock: FakeClock, status: int) -> None:
    with pytest.raises(DestinationAuthError) as caught:
        _run(lambda r: _error(status, "Token has expired."), fake_clock, lambda c: c.list_members())
    assert "TWENTY_API_KEY" in str(caught.value) or status == 403
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)


def test_missing_key_is_a_clear_error() -> None:
    with pytest.raises(DestinationAuthError, match="FERRY_KEY"):
        TwentyClient(
            DestinationSettings(url="http://twenty.test", api_key_env="FERRY_KEY"),
            gate=RateLimiter(),
            environ={},
        )


def test_client_repr_hides_the_key() -> None:
    client = TwentyClient(
        DestinationSettings(url="http://twenty.test"),
        gate=RateLimiter(),
        environ={"TWENTY_API_KEY": KEY},
    )
    assert KEY not in repr(client) and KEY not in repr(vars(client))
    anyio.run(client.aclose)


def test_restore_falls_back_to_the_1x_prefix_route(fake_clock: FakeClock) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path} {request.url.params.get('filter')}")
        if request.url.path.endswith("/restore"):
            return _error(400, "Query path '/rest/people/x/restore' invalid.")
        return httpx.Response(
            200, json={"data": {"restorePeople": [{"id": ID, "deletedAt": None}]}}
        )

    restored = _run(handler, fake_clock, lambda c: c.restore_one("people", ID))
    assert restored == {"id": ID, "deletedAt": None}
    assert seen == [
        f"PATCH /rest/people/{ID}/restore None",
        f"PATCH /rest/restore/people id[eq]:{ID}",
    ]


def test_a_batch_with_one_bad_record_is_split(fake_clock: FakeClock) -> None:
    records = [{"id": f"0f0e0d0c-0b0a-4909-8807-0605040302{i:02d}"} for i in range(8)]
    bad = records[5]["id"]

    def handler(request: httpx.Request) -> httpx.Response:
        batch = json.loads(request.content)
        if any(r["id"] == bad for r in batch):
            return _error(400, "Invalid value 'Q' for field \"status\"")
        return _created(request)

    outcome = _run(handler, fake_clock, lambda c: c.create_batch("people", records))
    assert sorted(r["id"] for r in outcome.created) == sorted(
        r["id"] for r in records if r["id"] != bad
    )
    assert list(outcome.rejected) == [bad]
    assert outcome.rejected[bad].field == "status"
    assert outcome.requests == 7  # 8 -> 4+4 -> 2+2 -> 1+1


def test_find_follows_cursors(fake_clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")
        page = [{"id": "b"}] if after else [{"id": "a"}]
        info = {"hasNextPage": after is None, "endCursor": "cur1"}
        return httpx.Response(200, json={"data": {"people": page}, "pageInfo": info})

    async def collect(client: TwentyClient) -> list[str]:
        return [r["id"] async for r in client.find("people", "name.lastName[eq]:x")]

    assert _run(handler, fake_clock, collect) == ["a", "b"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Invalid value 'X' for field \"status\"", "Invalid value '…' for field \"status\""),
        (
            "Key (emailsPrimaryEmail)=(a@b.example) already exists",
            "Key (emailsPrimaryEmail)=(…) already exists",
        ),
    ],
    ids=["quoted", "postgres-detail"],
)
def test_redact_removes_values_keeps_field_names(raw: str, clean: str) -> None:
    assert redact(raw) == clean


# --- bulk writes ----------------------------------------------------------------------------


def _ids(n: int) -> list[str]:
    return [f"0f0e0d0c-0b0a-4909-8807-0605040302{i:02d}" for i in range(n)]


def _filter_ids(request: httpx.Request) -> list[str]:
    text = request.url.params["filter"]
    assert text.startswith("id[in]:[") and text.endswith("]") and " " not in text
    return text.removeprefix("id[in]:[").removesuffix("]").split(",")


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        ({"messages": ["Maximum number of records to upsert is 200."]}, 200),
        ({"messages": ["Cannot destroy more than 200 records at once"]}, 200),
        ({"messages": ["Too many."], "code": "TOO_MANY_RECORDS_TO_UPDATE"}, None),
    ],
    ids=["batch-message", "destroy-message", "code-only"],
)
def test_a_too_many_refusal_is_batch_too_large_not_a_record_refusal(
    fake_clock: FakeClock, body: dict[str, Any], limit: int | None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"statusCode": 400, "error": "BadRequestException", **body})

    with pytest.raises(BatchTooLargeError) as caught:
        _run(handler, fake_clock, lambda c: c.create_many("people", [{"id": ID}]))
    assert caught.value.limit == limit


def test_a_refusal_without_a_number_halves_the_batch_and_resends(fake_clock: FakeClock) -> None:
    records = [{"id": record_id} for record_id in _ids(8)]
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        batch = json.loads(request.content)
        sizes.append(len(batch))
        if len(batch) > 3:
            return httpx.Response(
                400, json={"statusCode": 400, "messages": ["no"], "code": "TOO_MANY_RECORDS"}
            )
        return _created(request)

    async def body(client: TwentyClient) -> tuple[Any, int, int | None]:
        outcome = await client.create_batch("people", records)
        return outcome, client.batch_size, client.learned_batch_size

    outcome, batch_size, learned = _run(handler, fake_clock, body)
    assert [r["id"] for r in outcome.created] == [r["id"] for r in records]
    assert outcome.rejected == {}
    assert sizes == [8, 4, 2, 2, 2, 2]  # 8 refused, 4 refused, then twos
    assert batch_size == learned == 2


def test_a_single_record_refused_as_too_many_stops_the_run(fake_clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _error(400, "Maximum number of records to upsert is 0.")

    with pytest.raises(FatalForRunError, match="even one record"):
        _run(handler, fake_clock, lambda c: c.upsert_many("people", [{"id": ID}]))


def test_learned_batch_size_can_be_set_and_is_checked(fake_clock: FakeClock) -> None:
    async def body(client: TwentyClient) -> int:
        client.learned_batch_size = 25
        with pytest.raises(ValueError, match="1 to 200"):
            client.learned_batch_size = 201
        return client.batch_size

    assert _run(lambda request: _created(request), fake_clock, body) == 25


def test_upsert_many_needs_an_id_on_every_record(fake_clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="id on every record"):
        _run(lambda request: _created(request), fake_clock, lambda c: c.upsert_many("people", [{}]))


def test_restore_many_falls_back_to_the_1x_prefix_route_once(fake_clock: FakeClock) -> None:
    seen: list[tuple[str, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids = _filter_ids(request)
        seen.append((request.url.path, len(ids)))
        if request.url.path == "/rest/people/restore":
            return _error(400, "'restore' is not a valid UUID")
        records = [{"id": record_id, "deletedAt": None} for record_id in ids]
        return httpx.Response(200, json={"data": {"restorePeople": records}})

    async def body(client: TwentyClient) -> list[Any]:
        return await client.restore_many("people", _ids(150))

    restored = _run(handler, fake_clock, body)
    assert [r["id"] for r in restored] == _ids(150)
    assert seen == [
        ("/rest/people/restore", 100),
        ("/rest/restore/people", 100),
        ("/rest/restore/people", 50),
    ]


def test_restore_many_reports_the_current_routes_refusal(fake_clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rest/people/restore":
            return _error(400, 'Value "x" is not a valid UUID')
        return _error(400, "'people' is not a valid UUID")

    with pytest.raises(RecordRejectedError, match="Value"):
        _run(handler, fake_clock, lambda c: c.restore_many("people", [ID]))


def test_an_unknown_delete_outcome_carries_that_requests_ids(fake_clock: FakeClock) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise httpx.ReadTimeout("slow", request=request)
        deleted = [{"id": record_id} for record_id in _filter_ids(request)]
        return httpx.Response(200, json={"data": {"deletePeople": deleted}})

    with pytest.raises(WriteOutcomeUnknownError) as caught:
        _run(handler, fake_clock, lambda c: c.delete_many("people", _ids(130), soft=False))
    assert list(caught.value.ids) == _ids(130)[100:]

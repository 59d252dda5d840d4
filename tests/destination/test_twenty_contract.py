"""Contract of the Twenty client over real HTTP: the sandbox, or a real Twenty when
TWENTY_API_URL / TWENTY_API_KEY are set (fault-injection tests are skipped then)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from adapters.twenty import TwentyClient
from adapters.twenty_sandbox import RateWindow
from core.identity import destination_id
from core.ports.destination import DuplicateRecordError, RecordNotFoundError
from core.rate_limit import RateLimiter, parse_windows
from tests.destination.conftest import Target, make_client


def _people(n: int, namespace: uuid.UUID | None = None) -> list[dict[str, Any]]:
    space = namespace or uuid.uuid4()
    tag = space.hex[:8]
    return [
        {
            "id": destination_id(space, "patient", str(i)),
            "name": {"firstName": "Probe", "lastName": f"N{i}"},
            "emails": {"primaryEmail": f"p{i}-{tag}@ferry.example"},
        }
        for i in range(n)
    ]


def _run(client: TwentyClient, body: Callable[[TwentyClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with client:
            return await body(client)

    return anyio.run(main)


def test_batch_create_then_find_by_ids(twenty: Target) -> None:
    people = _people(5)
    ids = [p["id"] for p in people]

    async def body(client: TwentyClient) -> Any:
        outcome = await client.create_batch("people", people)
        found = await client.find_by_ids("people", ids)
        for person_id in ids:
            await client.delete_one("people", person_id, soft=False)
        return outcome, found

    outcome, found = _run(make_client(twenty), body)
    assert outcome.requests == 1 and not outcome.rejected
    assert sorted(r["id"] for r in found) == sorted(ids)
    assert {r["emails"]["primaryEmail"] for r in found} == {
        p["emails"]["primaryEmail"] for p in people
    }


def test_soft_delete_restore_and_permanent_delete(twenty: Target) -> None:
    (person,) = _people(1)
    pid = person["id"]

    async def body(client: TwentyClient) -> list[int]:
        await client.create_one("people", person)
        await client.delete_one("people", pid, soft=True)
        seen = [
            len(await client.find_by_ids("people", [pid])),
            len(await client.find_by_ids("people", [pid], include_deleted=True)),
        ]
        restored = await client.restore_one("people", pid)
        seen.append(int(restored.get("deletedAt") is None))
        await client.update_one("people", pid, {"jobTitle": "Hygienist"})
        matches = [r["id"] async for r in client.find("people", 'jobTitle[eq]:"Hygienist"')]
        seen.append(int(pid in matches))
        await client.delete_one("people", pid, soft=False)
        seen.append(len(await client.find_by_ids("people", [pid], include_deleted=True)))
        with pytest.raises(RecordNotFoundError):
            await client.delete_one("people", pid, soft=False)
        return seen

    assert _run(make_client(twenty), body) == [0, 1, 1, 1, 0]


def test_a_bad_record_is_split_out_of_its_batch(twenty: Target) -> None:
    people = _people(12)
    people[7]["emails"] = {"primaryEmail": "not-an-email"}
    bad = people[7]["id"]

    async def body(client: TwentyClient) -> Any:
        outcome = await client.create_batch("people", people)
        for record in outcome.created:
            await client.delete_one("people", record["id"], soft=False)
        return outcome

    outcome = _run(make_client(twenty), body)
    assert len(outcome.created) == 11 and list(outcome.rejected) == [bad]
    assert outcome.rejected[bad].field == "emails"
    assert "not-an-email" not in str(outcome.rejected[bad])


def test_an_email_held_by_a_soft_deleted_person_is_a_duplicate(twenty: Target) -> None:
    first, second = _people(2)
    second["emails"] = dict(first["emails"])

    async def body(client: TwentyClient) -> None:
        await client.create_one("people", first)
        await client.delete_one("people", first["id"], soft=True)
        try:
            with pytest.raises(DuplicateRecordError):
                await client.create_one("people", second)
        finally:
            await client.delete_one("people", first["id"], soft=False)

    _run(make_client(twenty), body)


@pytest.mark.parametrize("with_headers", [False, True], ids=["default-429", "v2-retry-after"])
def test_429s_are_waited_out(faulty: Callable[..., Target], with_headers: bool) -> None:
    target = faulty(rate_windows=(RateWindow(5, 1000),), rate_limit_headers=with_headers)
    limiter = RateLimiter(parse_windows("100/1s"))  # deliberately looser than the server
    people = _people(12)

    async def body(client: TwentyClient) -> int:
        for person in people:
            await client.create_one("people", person)
        return len(await client.find_by_ids("people", [p["id"] for p in people]))

    client = make_client(target, limiter)
    assert _run(client, body) == 12
    assert client.throttled_answers > 0 and limiter.throttles == client.throttled_answers
    assert limiter.scale < 1.0


def test_members_are_listed(faulty: Callable[..., Target], tmp_path: Any) -> None:
    csv = tmp_path / "members.csv"
    csv.write_text("name,email\nAda Okafor,A.Okafor@brightsmiles.example\n", encoding="utf-8")
    target = faulty(members_csv=csv)
    members = _run(make_client(target), lambda c: c.list_members())
    assert [m.email.lower() for m in members if m.email] == ["a.okafor@brightsmiles.example"]


def test_paced_requests_pass_twentys_throttle_whatever_the_callers_gaps(
    faulty: Callable[..., Target],
) -> None:
    # The sandbox's throttle restarts its refill at every admitted request (Twenty's):
    # callers that pause 1.5 intervals and then send in a hurry must still draw no 429.
    target = faulty(rate_windows=(RateWindow(3, 900),))
    limiter = RateLimiter(parse_windows("3/900ms"), jitter_s=0.05)
    people = _people(12)

    async def body(client: TwentyClient) -> None:
        async def one(person: dict[str, Any]) -> None:
            await client.create_one("people", person)

        for start in range(0, len(people), 3):
            async with anyio.create_task_group() as group:
                for person in people[start : start + 3]:
                    group.start_soon(one, person)
            await anyio.sleep(0.45)  # 1.5 intervals of 300 ms

    client = make_client(target, limiter)
    _run(client, body)
    assert client.throttled_answers == 0
    assert limiter.throttles == 0

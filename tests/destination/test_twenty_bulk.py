"""Bulk writes of the Twenty client over real HTTP: the sandbox, or a real Twenty when
TWENTY_API_URL / TWENTY_API_KEY are set (tests that configure the sandbox are skipped then)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx

from adapters.twenty import TwentyClient
from core.identity import destination_id
from core.ports.destination import DestinationSettings
from core.rate_limit import RateLimiter, parse_windows
from tests.destination.conftest import Target

GONE = str(uuid.uuid4())


def _client(target: Target, **settings: Any) -> TwentyClient:
    return TwentyClient(
        DestinationSettings(url=target.url, timeout_s=10.0, **settings),
        gate=RateLimiter(parse_windows("1000/1s")),
        environ={"TWENTY_API_KEY": target.key},
    )


def _run(client: TwentyClient, body: Callable[[TwentyClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with client:
            return await body(client)

    return anyio.run(main)


def _people(n: int) -> list[dict[str, Any]]:
    space = uuid.uuid4()
    return [
        {
            "id": destination_id(space, "patient", str(i)),
            "name": {"firstName": "Bulk", "lastName": f"N{i}"},
            "jobTitle": "Dentist",
        }
        for i in range(n)
    ]


def _requests(target: Target) -> int:
    return int(httpx.get(f"{target.url}/_sandbox/stats").json()["requests"])


def test_delete_many_soft_then_hard_ignores_ids_already_gone(twenty: Target) -> None:
    people = _people(5)
    ids = [p["id"] for p in people]

    async def body(client: TwentyClient) -> list[Any]:
        await client.create_batch("people", people)
        soft = await client.delete_many("people", [ids[0], ids[1], GONE], soft=True)
        alive = await client.find_by_ids("people", ids)
        hard = await client.delete_many("people", [*ids, GONE, ids[0]], soft=False)
        left = await client.find_by_ids("people", ids, include_deleted=True)
        again = await client.delete_many("people", ids, soft=False)
        return [sorted(soft), sorted(r["id"] for r in alive), sorted(hard), left, again]

    soft, alive, hard, left, again = _run(_client(twenty), body)
    assert soft == sorted(ids[:2])
    assert alive == sorted(ids[2:])
    assert hard == sorted(ids)  # destroy reaches the soft-deleted two as well
    assert left == [] and again == []


def test_a_stamped_delete_leaves_records_written_since(twenty: Target) -> None:
    """`unchanged_since` deletes a record only while its `updatedAt` is the one given: two
    batches (two stamps, one `or(...)` filter), one record edited in between is left."""
    first, second = _people(3), _people(2)
    ids = [p["id"] for p in first + second]

    async def body(client: TwentyClient) -> list[Any]:
        created = [*(await client.create_batch("people", first)).created]
        created += (await client.create_batch("people", second)).created
        stamps = {str(r["id"]): str(r["updatedAt"]) for r in created}
        await client.update_one("people", ids[1], {"jobTitle": "Edited"})
        deleted = await client.delete_many(
            "people", [*ids, GONE], soft=False, unchanged_since={**stamps, GONE: stamps[ids[0]]}
        )
        left = await client.find_by_ids("people", ids, include_deleted=True)
        return [sorted(deleted), [r["id"] for r in left]]

    deleted, left = _run(_client(twenty), body)
    assert deleted == sorted(i for i in ids if i != ids[1])
    assert left == [ids[1]]


def test_restore_many_brings_back_soft_deleted_records(twenty: Target) -> None:
    people = _people(3)
    ids = [p["id"] for p in people]

    async def body(client: TwentyClient) -> list[Any]:
        await client.create_batch("people", people)
        await client.delete_many("people", ids, soft=True)
        restored = await client.restore_many("people", [*ids, GONE])
        alive = await client.find_by_ids("people", ids)
        await client.delete_many("people", ids, soft=False)
        return [restored, alive]

    restored, alive = _run(_client(twenty), body)
    assert sorted(r["id"] for r in restored) == sorted(ids)
    assert all(r["deletedAt"] is None and r["jobTitle"] == "Dentist" for r in restored)
    assert len(alive) == 3


def test_upsert_many_writes_the_fields_sent_restores_and_creates(twenty: Target) -> None:
    old, new = _people(2)

    async def body(client: TwentyClient) -> list[Any]:
        created = await client.create_one("people", {**old, "avatarUrl": "Lyon"})
        await client.delete_one("people", old["id"], soft=True)
        upserted = await client.upsert_many(
            "people", [{"id": old["id"], "jobTitle": "Hygienist"}, {**new, "avatarUrl": None}]
        )
        back = await client.find_by_ids("people", [old["id"], new["id"]])
        await client.delete_many("people", [old["id"], new["id"]], soft=False)
        return [created, upserted, back]

    created, upserted, back = _run(_client(twenty), body)
    assert sorted(r["id"] for r in upserted) == sorted([old["id"], new["id"]])
    by_id = {r["id"]: r for r in back}
    kept = by_id[old["id"]]
    assert kept["deletedAt"] is None and kept["jobTitle"] == "Hygienist"
    assert kept["avatarUrl"] == "Lyon" and kept["name"] == old["name"]
    assert kept["createdAt"] == created["createdAt"]
    assert by_id[new["id"]]["jobTitle"] == "Dentist"


def test_deletes_and_restores_go_mutation_max_records_ids_a_request(
    faulty: Callable[..., Target],
) -> None:
    target = faulty()
    people = _people(7)
    ids = [p["id"] for p in people]

    async def body(client: TwentyClient) -> list[int]:
        await client.create_batch("people", people)
        counts = [_requests(target)]
        await client.delete_many("people", ids, soft=True)
        counts.append(_requests(target))
        await client.restore_many("people", ids)
        counts.append(_requests(target))
        return counts

    before, deleted, restored = _run(_client(target, mutation_max_records=3), body)
    assert deleted - before == 3 and restored - deleted == 3  # 3 + 3 + 1


def test_a_lower_destroy_cap_makes_the_client_step_down(faulty: Callable[..., Target]) -> None:
    target = faulty(mutation_max=3)
    people = _people(7)
    ids = [p["id"] for p in people]

    async def body(client: TwentyClient) -> list[Any]:
        await client.create_batch("people", people)
        before = _requests(target)
        deleted = await client.delete_many("people", ids, soft=False)
        return [sorted(deleted), _requests(target) - before, client.mutation_max_records]

    deleted, requests, learned = _run(_client(target, mutation_max_records=5), body)
    assert deleted == sorted(ids)
    assert requests == 4 and learned == 3  # 5 refused, then 3 + 3 + 1


def test_a_lower_batch_cap_makes_creates_and_upserts_step_down_writing_each_once(
    faulty: Callable[..., Target],
) -> None:
    target = faulty(batch_max=7)
    people = _people(30)
    ids = [p["id"] for p in people]

    async def body(client: TwentyClient) -> list[Any]:
        outcome = await client.create_batch("people", people)
        learned = client.learned_batch_size
        client.learned_batch_size = None  # forget, so the upsert steps down on its own
        changed = [{"id": p["id"], "jobTitle": "Hygienist"} for p in people]
        upserted = await client.upsert_many("people", changed)
        found = [r async for r in client.find("people", "name.firstName[eq]:Bulk")]
        return [outcome, learned, client.batch_size, upserted, found]

    outcome, learned, batch_size, upserted, found = _run(_client(target, batch_size=20), body)
    assert sorted(r["id"] for r in outcome.created) == sorted(ids) and not outcome.rejected
    assert learned == batch_size == 7
    assert sorted(r["id"] for r in upserted) == sorted(ids)
    assert sorted(r["id"] for r in found) == sorted(ids)  # each exactly once
    assert {r["jobTitle"] for r in found} == {"Hygienist"}

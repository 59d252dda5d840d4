"""Exactly-once loading against the sandbox, with faults, recorded in a real event store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from adapters.twenty import TwentyClient
from core.identity import destination_id
from core.lifecycle import Lifecycle
from core.loader import Loader, LoadItem, LoadSettings, LoadSummary
from events.store import EventStore, NewEvent
from events.types import (
    LoadRequested,
    RecordExtracted,
    RecordLoaded,
    RecordTransformed,
    RecordValidated,
)
from tests.destination.conftest import Target, make_client


def _store(tmp_path: Path) -> EventStore:
    return EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state)


def _validated(store: EventStore, n: int, emails: Callable[[int], str]) -> list[LoadItem]:
    """n patients taken through extract/transform/validate, ready to load."""
    namespace = uuid.uuid4()
    items, events = [], []
    for i in range(n):
        stream = f"patient:{i}"
        payload = {
            "name": {"firstName": "Probe", "lastName": f"N{i}"},
            "emails": {"primaryEmail": emails(i)},
        }
        events += [
            NewEvent(stream, RecordExtracted(source_file="patients.csv", line=i + 2,
                                             source_key=str(i), content_hash="h"), 0),
            NewEvent(stream, RecordTransformed(target_object="person", payload=payload), 1),
            NewEvent(stream, RecordValidated(), 2),
        ]  # fmt: skip
        items.append(LoadItem(
            stream_id=stream, object_singular="person", object_plural="people",
            destination_id=destination_id(namespace, "patient", str(i)), payload=payload,
            version=3,
        ))  # fmt: skip
    store.append(events)
    return items


def _load(
    client: TwentyClient, store: EventStore, items: list[LoadItem], **options: Any
) -> LoadSummary:
    async def main() -> LoadSummary:
        async with client:
            return await Loader(store, client, LoadSettings(**options)).load(items)

    return anyio.run(main)


def _everyone(client: TwentyClient) -> list[dict[str, Any]]:
    async def main() -> list[dict[str, Any]]:
        async with client:
            return [r async for r in client.find("people", include_deleted=True)]

    return anyio.run(main)


def _last_events(store: EventStore, items: list[LoadItem]) -> list[Any]:
    return [store.read_stream(i.stream_id)[-1].event for i in items]


def test_drop_after_commit_and_503s_give_no_duplicates_and_no_gaps(
    faulty: Callable[..., Target], tmp_path: Path
) -> None:
    target = faulty(drop_after_commit=0.1, fail_rate=0.05, seed=11)
    store = _store(tmp_path)
    items = _validated(store, 400, lambda i: f"p{i}@ferry.example")
    summary = _load(make_client(target, batch_size=20), store, items, max_in_flight=3)
    people = _everyone(make_client(target))
    ids = [p["id"] for p in people]
    assert len(ids) == len(set(ids)) == 400  # zero duplicates
    assert set(ids) == {i.destination_id for i in items}  # zero missing
    assert all(isinstance(e, RecordLoaded) for e in _last_events(store, items))
    assert summary.created == 400 and summary.failed == 0
    assert summary.reconciled > 0  # dropped connections did happen and were reconciled


def test_in_doubt_records_are_looked_up_before_any_resend(twenty: Target, tmp_path: Path) -> None:
    if twenty.is_real:
        pytest.skip("writes a fixed set of people")
    store = _store(tmp_path)
    items = _validated(store, 6, lambda i: f"d{i}@ferry.example")

    # A previous run crashed after sending the first three: they exist, their outcome is open.
    async def crash_after_send() -> None:
        async with make_client(twenty) as client:
            await client.create_many(
                "people", [{"id": i.destination_id, **i.payload} for i in items[:3]]
            )

    anyio.run(crash_after_send)

    store.append(
        [
            NewEvent(
                i.stream_id,
                LoadRequested(
                    batch_id="b0", destination_id=i.destination_id, target_object="person"
                ),
                3,
            )
            for i in items
        ]
    )
    resumed = [
        LoadItem(
            **{**{f: getattr(i, f) for f in i.__struct_fields__}, "version": 4, "in_doubt": True}
        )
        for i in items
    ]
    summary = _load(make_client(twenty), store, resumed)
    assert (summary.reconciled, summary.created) == (3, 6)
    loaded = _last_events(store, resumed)
    assert [e.reconciled for e in loaded] == [True, True, True, False, False, False]
    assert len(_everyone(make_client(twenty))) == 6


def _existing(target: Target) -> dict[str, str]:
    """A live person holding e1 and a soft-deleted one holding e2; returns their ids."""
    live = {
        "id": str(uuid.uuid4()),
        "name": {"firstName": "Old", "lastName": "Live"},
        "emails": {"primaryEmail": "e1@ferry.example"},
    }
    gone = {"id": str(uuid.uuid4()), "name": {"firstName": "Old", "lastName": "Gone"},
            "emails": {"primaryEmail": "e2@ferry.example"}}  # fmt: skip

    async def main() -> None:
        async with make_client(target) as client:
            await client.create_many("people", [live, gone])
            await client.delete_one("people", gone["id"], soft=True)

    anyio.run(main)
    return {"live": live["id"], "gone": gone["id"]}


@pytest.mark.parametrize("policy", ["link", "skip", "fail"], ids=str)
def test_conflict_policies(faulty: Callable[..., Target], tmp_path: Path, policy: str) -> None:
    target = faulty()
    held = _existing(target)
    store = _store(tmp_path)
    emails = ["E1@ferry.example", "e2@ferry.example", "new@ferry.example"]
    items = _validated(store, 3, lambda i: emails[i])
    summary = _load(make_client(target), store, items, on_conflict=policy)
    last = _last_events(store, items)
    people = {p["id"]: p for p in _everyone(make_client(target))}
    assert isinstance(last[2], RecordLoaded) and last[2].outcome == "created"
    if policy == "link":
        assert (summary.linked, summary.created) == (2, 1)
        assert [e.destination_id for e in last[:2]] == [held["live"], held["gone"]]
        assert [e.was_soft_deleted for e in last[:2]] == [False, True]
        assert last[0].before_image["name"]["lastName"] == "Live"
        assert people[held["gone"]]["deletedAt"] is None  # restored, then updated
        assert people[held["gone"]]["name"]["lastName"] == "N1"
        assert len(people) == 3
    else:
        code = {"skip": "CONFLICT_SKIPPED", "fail": "CONFLICT"}[policy]
        assert [(e.code, e.retryable) for e in last[:2]] == [(code, False)] * 2
        assert people[held["live"]]["name"]["lastName"] == "Live"
        assert people[held["gone"]]["deletedAt"] is not None
        assert len(people) == 3

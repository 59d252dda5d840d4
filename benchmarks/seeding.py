"""Shared by the verify and rollback benchmarks: a client on the in-process sandbox, and
patients recorded as validated in the store, ready for the loader."""

from __future__ import annotations

import uuid

from adapters.twenty import TwentyClient
from core.identity import destination_id
from core.loader import LoadItem
from core.ports.destination import DestinationSettings
from core.rate_limit import RateLimiter, parse_windows
from events.store import EventStore, NewEvent
from events.types import RecordExtracted, RecordTransformed, RecordValidated

KEY = "bench-key"


def bench_client(url: str) -> TwentyClient:
    """A client with no effective rate limit and the largest batches."""
    settings = DestinationSettings(url=url, batch_size=200, timeout_s=60.0)
    return TwentyClient(
        settings, gate=RateLimiter(parse_windows("100000/1s")), environ={"TWENTY_API_KEY": KEY}
    )


def seed_patients(
    store: EventStore, n: int, namespace: uuid.UUID, *, with_phone: bool = False
) -> list[LoadItem]:
    """Record n patients as extracted, transformed and validated; return their LoadItems."""
    items, events = [], []
    for i in range(n):
        stream, key = f"patient:{i + 1}", str(i + 1)
        payload: dict[str, object] = {
            "name": {"firstName": f"First{i}", "lastName": f"Last{i}"},
            "emails": {"primaryEmail": f"p{i}@bench.example"},
        }
        if with_phone:
            payload["phones"] = {"primaryPhoneNumber": f"555{i:07d}"}
        payload["avatarUrl"] = "Springfield"
        events += [
            NewEvent(stream, RecordExtracted(source_file="patients.csv", line=i + 2,
                                             source_key=key, content_hash=f"h{i}"), 0),
            NewEvent(stream, RecordTransformed(target_object="person", target_plural="people",
                                               payload=payload), 1),
            NewEvent(stream, RecordValidated(), 2),
        ]  # fmt: skip
        items.append(LoadItem(
            stream_id=stream, object_singular="person", object_plural="people",
            destination_id=destination_id(namespace, "patient", key), payload=payload, version=3,
        ))  # fmt: skip
        if len(events) >= 30_000:
            store.append(events)
            events = []
    store.append(events)
    return items

"""A migrated store built the way the pipeline builds it: events first, then the real loader.

Records go through RecordExtracted/RecordTransformed/RecordValidated, are read back with
`core.pipeline.pending.pending` (relations resolved through the store) and loaded into the
sandbox by `core.loader.Loader` over loopback, so verification and reports meet the same
events a run leaves behind.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import msgspec
from click.testing import CliRunner

from adapters.twenty import TwentyClient
from cli import ferry
from core.errors import FerryError
from core.lifecycle import Lifecycle
from core.loader import Loader, LoadItem, LoadSettings
from core.pipeline.pending import pending
from core.ports.destination import DestinationSettings
from core.rate_limit import RateLimiter, parse_windows
from events.store import EventStore, NewEvent
from events.types import (
    RecordExtracted,
    RecordRejected,
    RecordSkipped,
    RecordTransformed,
    RecordValidated,
    RejectionReason,
)

NAMESPACE = uuid.UUID("6f1c1f0e-5d7a-4a53-9a56-0d9b1b0c2a11")


class Seed(msgspec.Struct, frozen=True):
    """One source record and what the mapping made of it."""

    stream_id: str
    target: str
    plural: str
    payload: dict[str, Any]
    refs: dict[str, str] = {}
    row: dict[str, str | None] = {}


def open_store(path: Path) -> EventStore:
    """A fresh event store file."""
    return EventStore.open(path, transition=Lifecycle().next_state)


def client_for(url: str, key: str, batch_size: int = 60) -> TwentyClient:
    """A TwentyClient on the sandbox; the key passes through a private environment mapping."""
    return TwentyClient(
        DestinationSettings(url=url, batch_size=batch_size, timeout_s=10.0),
        gate=RateLimiter(parse_windows("1000/1s")),
        environ={"TWENTY_API_KEY": key},
    )


def _extracted(seed: Seed, line: int) -> RecordExtracted:
    key = seed.stream_id.partition(":")[2]
    return RecordExtracted(
        source_file=f"{seed.stream_id.partition(':')[0]}s.csv", line=line, source_key=key,
        content_hash=f"h{line}", row=seed.row,
    )  # fmt: skip


def seed_validated(store: EventStore, seeds: list[Seed]) -> None:
    """Extract, transform and validate every seed (one batch)."""
    events = []
    for line, seed in enumerate(seeds, start=2):
        transformed = RecordTransformed(
            target_object=seed.target, target_plural=seed.plural, payload=seed.payload,
            refs=seed.refs, mapping_hash="m1",
        )  # fmt: skip
        events += [
            NewEvent(seed.stream_id, _extracted(seed, line), 0),
            NewEvent(seed.stream_id, transformed, 1),
            NewEvent(seed.stream_id, RecordValidated(), 2),
        ]
    store.append(events, run_id="seed")


def seed_rejected(store: EventStore, stream_id: str, code: str = "BAD_DATE") -> None:
    """A record refused by validation."""
    seed = Seed(stream_id, "person", "people", {})
    reason = RejectionReason(field="birth_date", code=code, message="not a date")
    store.append(
        [NewEvent(stream_id, _extracted(seed, 99), 0),
         NewEvent(stream_id, RecordRejected(reasons=[reason]), 1)],
        run_id="seed",
    )  # fmt: skip


def seed_skipped(store: EventStore, stream_id: str, code: str = "SOURCE_DELETED") -> None:
    """A record deliberately not migrated."""
    seed = Seed(stream_id, "person", "people", {})
    store.append(
        [NewEvent(stream_id, _extracted(seed, 98), 0),
         NewEvent(stream_id, RecordSkipped(code=code, reason="deleted in the source"), 1)],
        run_id="seed",
    )  # fmt: skip


def load_entities(store: EventStore, client: TwentyClient, entities: list[str]) -> list[Any]:
    """Load each entity's pending records in order with the real loader; returns blocked."""
    blocked: list[Any] = []

    async def main() -> None:
        async with client:
            for entity in entities:
                items: list[LoadItem] = []
                for chunk in pending(store.connection, entity, NAMESPACE):
                    items += [i for i in chunk if isinstance(i, LoadItem)]
                    blocked.extend(i for i in chunk if not isinstance(i, LoadItem))
                await Loader(store, client, LoadSettings(run_id="load")).load(items)

    anyio.run(main)
    return blocked


def invoke_ferry(workdir: Path, *args: str, key: str = "") -> tuple[int, str]:
    """Exit code and output of a command; a FerryError shows as `cli.main` shows it."""
    result = CliRunner().invoke(
        ferry, ["--workdir", str(workdir), *args], env={"TWENTY_API_KEY": key}
    )
    if isinstance(result.exception, FerryError):
        return 1, f"Error: {result.exception}"
    return result.exit_code, result.output

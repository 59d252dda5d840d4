"""Exactly-once batch loading into the destination, under a shared rate limit.

The protocol, per batch:

1. Append LoadRequested (batch id, deterministic destination id) for every record BEFORE the
   request is sent. A crash after this point leaves the record `loading`: in doubt.
2. Send one batch create carrying each record's `id`. The destination's primary key makes a
   second create of the same id impossible, so nothing can be duplicated.
3. On success append RecordLoaded(created). On a refusal the batch is split and each refused
   record gets LoadFailed with the destination's message, or goes through the conflict
   policy when a unique value is already held (`core.conflicts`).
4. On an unknown outcome (timeout, dropped connection, 5xx, or an in-doubt record after a
   restart) look the records up by id first: RecordLoaded(reconciled) for those present,
   and a new LoadRequested + resend for the missing ones only.

Batches run concurrently, bounded by a CapacityLimiter; every request passes the shared rate
limiter inside the client. Events are appended from the event loop's thread only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from itertools import groupby
from typing import Any, Literal

import anyio
import msgspec

from core.conflicts import resolve_conflict, resume_link
from core.errors import FatalForRunError
from core.ports.destination import (
    Destination,
    DuplicateRecordError,
    RateLimitedError,
    RecordRejectedError,
    WriteOutcomeUnknownError,
    stamp_of,
)
from events.store import EventStore, NewEvent
from events.types import Event, LoadFailed, LoadRequested, RecordLoaded

__all__ = ["LinkIntent", "LoadItem", "LoadSettings", "LoadSummary", "Loader"]

ConflictPolicy = Literal["link", "skip", "fail"]


class LinkIntent(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded, unfinished link: the holder's id, its before-image, whether it was deleted."""

    holder_id: str
    before_image: dict[str, Any] | None
    was_deleted: bool


class LoadItem(msgspec.Struct, frozen=True, kw_only=True):
    """One record ready to load.

    Attributes:
        stream_id: the record's event stream (`patient:10482`).
        object_singular: the destination object's singular name (`person`).
        object_plural: its plural API name (`people`).
        destination_id: the deterministic id (core.identity.destination_id).
        payload: the field values to write (without `id`; `dentalExecId` included).
        version: the stream's current version (for the store's optimistic check).
        in_doubt: the last event is a LoadRequested with no outcome (resume after a crash).
        link: an unfinished link to a record that existed before us (resume after a crash or
            an unknown outcome): it is applied again, with the before-image recorded then.
    """

    stream_id: str
    object_singular: str
    object_plural: str
    destination_id: str
    payload: dict[str, Any]
    version: int
    in_doubt: bool = False
    link: LinkIntent | None = None


class LoadSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How to load: concurrency, conflict policy, how often an unknown outcome is retried."""

    run_id: str | None = None
    max_in_flight: int = 4
    on_conflict: ConflictPolicy = "link"
    max_rounds: int = 6
    look_first: bool = False  # look records up by id before creating (a rebuilt store)


class LoadSummary(msgspec.Struct, kw_only=True):
    """Counts of what happened, for the run report."""

    created: int = 0
    linked: int = 0
    reconciled: int = 0
    resent: int = 0
    failed: int = 0
    skipped: int = 0
    batches: int = 0


class Loader:
    """Loads LoadItems into a Destination, recording every step in the EventStore."""

    def __init__(self, store: EventStore, destination: Destination, settings: LoadSettings) -> None:
        self._store = store
        self._destination = destination
        self._settings = settings
        self._versions: dict[str, int] = {}
        self.summary = LoadSummary()

    def record(self, stream_id: str, event: Event) -> None:
        """Append one event to a record stream at the version this loader tracks."""
        self.record_many([(stream_id, event)])

    def record_many(self, events: Sequence[tuple[str, Event]]) -> None:
        """Append events atomically, each at its stream's tracked version."""
        batch = []
        for stream_id, event in events:
            version = self._versions[stream_id]
            batch.append(NewEvent(stream_id, event, expected_version=version))
            self._versions[stream_id] = version + 1
        self._store.append(batch, run_id=self._settings.run_id)

    async def load(self, items: Iterable[LoadItem]) -> LoadSummary:
        """Load every item exactly once; return the counts.

        Raises:
            FatalForRunError: the destination refused the run (auth, schema); records in
                flight stay `loading` and are reconciled on the next run.
        """
        limiter = anyio.CapacityLimiter(self._settings.max_in_flight)
        async with anyio.create_task_group() as group:
            for batch in self._batches(items):
                token = object()
                await limiter.acquire_on_behalf_of(token)
                group.start_soon(self._run_batch, batch, limiter, token)
        return self.summary

    def _batches(self, items: Iterable[LoadItem]) -> Iterable[list[LoadItem]]:
        size = self._destination.batch_size
        for _, same_object in groupby(items, key=lambda item: item.object_plural):
            chunk: list[LoadItem] = []
            for item in same_object:
                chunk.append(item)
                if len(chunk) == size:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk

    async def _run_batch(
        self, batch: list[LoadItem], limiter: anyio.CapacityLimiter, token: object
    ) -> None:
        try:
            for item in batch:
                self._versions[item.stream_id] = item.version
            self.summary.batches += 1
            for item in (i for i in batch if i.link is not None):
                await resume_link(self, self._destination, item)
            batch = [i for i in batch if i.link is None]
            doubtful = [i for i in batch if i.in_doubt]
            pending = [i for i in batch if not i.in_doubt]
            if doubtful:
                pending += await self._reconcile(doubtful)
            if self._settings.look_first and pending:
                pending = await self._look_first(pending)
            await self._send_rounds(pending)
        finally:
            limiter.release_on_behalf_of(token)

    async def _look_first(self, items: list[LoadItem]) -> list[LoadItem]:
        """Records of a rebuilt store may be in Twenty already under their ids: one read per
        batch finds them (recorded loaded, reconciled), instead of a refused create bisected
        down to single records. Returns the items still to create."""
        batch_id = str(uuid.uuid4())
        self.record_many([(i.stream_id, _requested(i, batch_id)) for i in items])
        return await self._reconcile(items)

    async def _send_rounds(self, pending: list[LoadItem]) -> None:
        rounds = 0
        while pending:
            rounds += 1
            if rounds > self._settings.max_rounds:
                self._fail_all(pending, "OUTCOME_UNKNOWN", "outcome still unknown after retries")
                return
            try:
                pending = await self._send(pending, resend=rounds > 1)
            except WriteOutcomeUnknownError:
                # Reconcile the whole batch: records settled before the failure (during a
                # split) are found by id too, so none is left without an outcome.
                pending = await self._reconcile(pending)
            except RateLimitedError as error:
                self._fail_all(pending, "RATE_LIMITED", str(error))
                return
            except FatalForRunError:
                raise

    async def _send(self, items: list[LoadItem], *, resend: bool) -> list[LoadItem]:
        """One create request for `items`; returns those whose outcome is still open."""
        batch_id = str(uuid.uuid4())
        self.record_many([(i.stream_id, _requested(i, batch_id)) for i in items])
        if resend:
            self.summary.resent += len(items)
        records = [{"id": i.destination_id, **i.payload} for i in items]
        outcome = await self._destination.create_batch(items[0].object_plural, records)
        by_id = {i.destination_id: i for i in items}
        loaded = [
            (by_id[str(r["id"])].stream_id, _loaded(str(r["id"]), stamp=stamp_of(r)))
            for r in outcome.created
            if str(r.get("id")) in by_id
        ]
        self.record_many(loaded)
        self.summary.created += len(loaded)
        refused = outcome.rejected
        ours = await self._already_ours(items[0].object_plural, refused)
        for destination_id, error in refused.items():
            if destination_id not in ours:
                await self._refused(by_id[destination_id], error)
        found = [i for i in items if i.destination_id in ours]
        self.record_many(
            [(i.stream_id, _loaded(i.destination_id, True, ours[i.destination_id])) for i in found]
        )
        self.summary.reconciled += len(found)
        self.summary.created += len(found)
        # The answer is matched by id, never by position: Twenty re-reads a batch with
        # `WHERE id IN (...)`. A record neither in it nor refused is looked up by id.
        answered = {str(r.get("id")) for r in outcome.created} | set(refused)
        missing = [i for i in items if i.destination_id not in answered]
        return await self._reconcile(missing) if missing else []

    async def _already_ours(
        self, object_plural: str, refused: Mapping[str, RecordRejectedError]
    ) -> dict[str, str]:
        """Of the creates refused as duplicates, those whose own id is already in Twenty (a
        store rebuilt after a loss, with the namespace ferry.toml kept): our id is derived
        from the source key, so that record is this one, created before. id -> updatedAt."""
        dup_ids = [d for d, error in refused.items() if isinstance(error, DuplicateRecordError)]
        if not dup_ids:
            return {}
        found = await self._destination.find_by_ids(object_plural, dup_ids)
        return {str(r["id"]): stamp_of(r) for r in found if str(r.get("id")) in set(dup_ids)}

    async def _reconcile(self, items: list[LoadItem]) -> list[LoadItem]:
        """Look items up by id: record the present ones as loaded, return the missing."""
        if not items:
            return []
        ids = [i.destination_id for i in items]
        found = await self._destination.find_by_ids(
            items[0].object_plural, ids, include_deleted=True
        )
        present = {str(r["id"]): r for r in found}
        landed = [i for i in items if i.destination_id in present]
        self.record_many(
            [
                (i.stream_id, _loaded(i.destination_id, True, stamp_of(present[i.destination_id])))
                for i in landed
            ]
        )
        self.summary.reconciled += len(present)
        self.summary.created += len(present)
        return [i for i in items if i.destination_id not in present]

    async def _refused(self, item: LoadItem, error: RecordRejectedError) -> None:
        if isinstance(error, DuplicateRecordError):
            await resolve_conflict(self, self._destination, item, error, self._settings.on_conflict)
            return
        self.summary.failed += 1
        code = f"HTTP_{error.status}"
        self.record(item.stream_id, _failed(code, error.message, False, error.field or ""))

    def _fail_all(self, items: Sequence[LoadItem], code: str, message: str) -> None:
        self.summary.failed += len(items)
        self.record_many([(i.stream_id, _failed(code, message, True)) for i in items])


def _requested(item: LoadItem, batch_id: str, operation: str = "create") -> LoadRequested:
    return LoadRequested(
        batch_id=batch_id,
        destination_id=item.destination_id,
        target_object=item.object_singular,
        operation=operation,  # type: ignore[arg-type]
    )


def _loaded(destination_id: str, reconciled: bool = False, stamp: str = "") -> RecordLoaded:
    return RecordLoaded(
        destination_id=destination_id, outcome="created", reconciled=reconciled, updated_at=stamp
    )


def _failed(code: str, message: str, retryable: bool, field: str = "") -> LoadFailed:
    return LoadFailed(retryable=retryable, code=code, message=message, field=field)

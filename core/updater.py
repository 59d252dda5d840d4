"""Exactly-once updates and soft deletes of records already in Twenty (`ferry delta`).

The protocol, per record (next to core.loader's, which creates):

1. Read the record from Twenty (soft-deleted ones too). In doubt after a crash (the last
   event is a LoadRequested without outcome) go to 4. Otherwise compare it with the payload
   Twenty was last sent, under verify's comparison rules: a field that differs was edited in
   Twenty after our load. That is a conflict, reported with ConflictDetected (field names
   only) and left alone, unless `force` (then those fields get our values back too).
2. Work out the fields to PATCH: those whose value differs between the new payload and the
   last one sent. None: RecordUpToDate, nothing is sent.
3. Append LoadRequested(operation, before_image = the record as read) BEFORE the request, so
   a crash cannot lose the original values; send; append RecordLoaded(updated, before_image)
   or, for a soft delete, RecordSoftDeleted.
4. Unknown outcome (timeout, dropped connection, 5xx, or in doubt on resume): read the record
   back. Updates and soft deletes are idempotent, so when it does not yet hold what was sent
   the same request is sent again under a new LoadRequested carrying the same before-image.

Plain updates of live records go many to a request: a batch upsert by id
(`POST /rest/batch/{plural}?upsert=true`) carrying only the changed fields, which Twenty
writes and leaves every other field as it is (docs/destination.md, "Bulk writes"); a batch
Twenty refuses is sent again one PATCH a record. Restores and updates in doubt stay one
request a record. Soft deletes go many to a request (Twenty's delete-many with
`soft_delete=true`, up to the destination's `mutation_max_records` ids): the intents of the
whole request are recorded before it, and a record its answer does not name is read back
before anything is resent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import anyio
import msgspec

from core.pipeline.comparison import compare_record
from core.ports.destination import (
    Destination,
    Record,
    RecordNotFoundError,
    RecordRejectedError,
    WriteOutcomeUnknownError,
    stamp_of,
)
from events.store import EventStore, NewEvent
from events.types import (
    ConflictDetected,
    Event,
    LoadFailed,
    LoadRequested,
    RecordLoaded,
    RecordSoftDeleted,
    RecordUpToDate,
)

__all__ = ["UpdateItem", "UpdateSettings", "UpdateSummary", "Updater", "changed_fields"]

Operation = Literal["update", "restore", "soft_delete"]
_ATTEMPTS = 6


class UpdateItem(msgspec.Struct, frozen=True, kw_only=True):
    """One record in Twenty to update, restore or soft-delete.

    Attributes:
        stream_id: the record's event stream.
        object_singular: the destination object's singular name.
        object_plural: its plural API name.
        destination_id: the Twenty id.
        version: the stream's current version (for the store's optimistic check).
        operation: `update` (PATCH the changed fields), `restore` (we soft-deleted it, the
            source row came back: restore, then PATCH) or `soft_delete`.
        payload: the new full payload, relations resolved (empty for a soft delete).
        last_sent: the full payload Twenty was last sent, relations resolved.
        in_doubt: the last event is a LoadRequested without outcome (resume after a crash).
        before_image: the before-image of an earlier request for this change (resume or
            retry): reused, and no conflict check, since our own write may have landed.
    """

    stream_id: str
    object_singular: str
    object_plural: str
    destination_id: str
    version: int
    operation: Operation
    payload: dict[str, Any]
    last_sent: dict[str, Any]
    in_doubt: bool = False
    before_image: dict[str, Any] | None = None


class _Update(msgspec.Struct, frozen=True, kw_only=True):
    """An update decided: the item, the values to send, and the before-image to record."""

    item: UpdateItem
    values: dict[str, Any]
    before: dict[str, Any]

    @property
    def is_plain(self) -> bool:
        """A live record's fields change, nothing in doubt: it may go in a batch upsert."""
        return (
            self.item.operation == "update"
            and not self.item.in_doubt
            and self.item.before_image is None
            and self.before.get("deletedAt") is None
        )


class UpdateSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How to update: the run, concurrency, and whether conflicts are overwritten."""

    run_id: str
    max_in_flight: int = 4
    force: bool = False
    command: str = "delta"


class Conflict(msgspec.Struct, frozen=True):
    """A record edited (or deleted) in Twenty after our last write; field names only."""

    stream_id: str
    destination_id: str
    fields: tuple[str, ...]
    missing: bool
    resolution: str


class UpdateSummary(msgspec.Struct, kw_only=True):
    """Counts of what happened, and the conflicts found."""

    updated: int = 0
    restored: int = 0
    up_to_date: int = 0
    soft_deleted: int = 0
    reconciled: int = 0
    failed: int = 0
    conflicts: list[Conflict] = msgspec.field(default_factory=list)


def changed_fields(payload: dict[str, Any], last_sent: dict[str, Any]) -> dict[str, Any]:
    """Top-level fields whose value differs from the last payload sent (removed ones: None)."""
    changed = {k: v for k, v in payload.items() if k not in last_sent or last_sent[k] != v}
    changed.update({k: None for k in last_sent if k not in payload})
    return changed


def _edited(last_sent: dict[str, Any], current: Record) -> list[str]:
    return [check.path for check in compare_record(last_sent, current) if not check.agrees]


class Updater:
    """Applies UpdateItems to a Destination, recording every step in the EventStore."""

    def __init__(self, store: EventStore, destination: Destination, settings: UpdateSettings):
        self._store = store
        self._destination = destination
        self._settings = settings
        self._versions: dict[str, int] = {}
        self.summary = UpdateSummary()

    def _record(self, stream_id: str, *events: Event) -> None:
        batch = []
        for event in events:
            version = self._versions[stream_id]
            batch.append(NewEvent(stream_id, event, expected_version=version))
            self._versions[stream_id] = version + 1
        self._store.append(batch, run_id=self._settings.run_id)

    def _record_many(self, pairs: Sequence[tuple[str, Event]]) -> None:
        """One event for each of several streams, in one transaction."""
        batch = []
        for stream_id, event in pairs:
            version = self._versions[stream_id]
            batch.append(NewEvent(stream_id, event, expected_version=version))
            self._versions[stream_id] = version + 1
        if batch:
            self._store.append(batch, run_id=self._settings.run_id)

    def _record_run(self, event: Event) -> None:
        run_id = self._settings.run_id
        self._store.append([NewEvent(f"run:{run_id}", event)], run_id=run_id)

    async def apply(self, chunks: Iterable[Sequence[UpdateItem]]) -> UpdateSummary:
        """Apply every item exactly once (per object, one read per page of ids).

        Plain updates of live records go many to a request (batch upsert by id, the fields
        that changed only); restores, updates in doubt and soft deletes as described above.
        """
        limiter = anyio.CapacityLimiter(self._settings.max_in_flight)
        waiting: list[UpdateItem] = []
        for chunk in chunks:
            waiting.extend(chunk)
            # Pages of a full batch across the chunks' edges: the fewest requests.
            while len(waiting) >= self._destination.batch_size:
                size = self._destination.batch_size
                page, waiting = waiting[:size], waiting[size:]
                await self._page(page, limiter)
        if waiting:
            await self._page(waiting, limiter)
        return self.summary

    async def _page(self, page: list[UpdateItem], limiter: Any) -> None:
        """One page of items: one read of their records, then their writes."""
        current = await self._read(page)
        for item in page:
            self._versions[item.stream_id] = item.version
        deletes = [i for i in page if i.operation == "soft_delete"]
        bulk: list[_Update] = []
        async with anyio.create_task_group() as group:
            for item in page:
                if item.operation == "soft_delete":
                    continue
                update = self._decide(item, current.get(item.destination_id.lower()))
                if update is None:
                    continue
                if update.is_plain:
                    bulk.append(update)
                else:
                    group.start_soon(self._one, update, limiter)
            if deletes:
                group.start_soon(self._soft_delete_many, deletes, current, limiter)
            for plural in dict.fromkeys(u.item.object_plural for u in bulk):
                same = [u for u in bulk if u.item.object_plural == plural]
                group.start_soon(self._upsert_many, same, limiter)

    async def _read(self, items: Sequence[UpdateItem]) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for plural in dict.fromkeys(i.object_plural for i in items):
            ids = [i.destination_id for i in items if i.object_plural == plural]
            for record in await self._destination.find_by_ids(plural, ids, include_deleted=True):
                found[str(record["id"]).lower()] = record
        return found

    async def _one(self, update: _Update, limiter: Any) -> None:
        async with limiter:
            await self._send_update(update.item, update.values, update.before)

    # -- updates ----------------------------------------------------------------------------

    def _decide(self, item: UpdateItem, current: Record | None) -> _Update | None:
        """What to send for an update or restore; None when it is settled without a write
        (a conflict left alone, a record already up to date, an update in doubt that
        landed)."""
        values = (
            dict(item.payload)
            if item.operation == "restore"
            else changed_fields(item.payload, item.last_sent)
        )
        if current is None:
            self._conflict(item, (), missing=True, overwritten=False)
            return None
        if item.in_doubt and (not values or _holds(current, values, item.operation)):
            self.summary.reconciled += 1
            self._landed(item, item.before_image, reconciled=True)
            return None
        if item.before_image is None and item.operation == "update":
            edited = _edited(item.last_sent, current)
            if current.get("deletedAt") is not None:
                edited.append("deletedAt")
            if edited:
                self._conflict(item, edited, missing=False, overwritten=self._settings.force)
                if not self._settings.force:
                    return None
                tops = {path.split(".")[0] for path in edited}
                values.update({k: v for k, v in item.payload.items() if k in tops})
        if not values and not item.in_doubt and item.before_image is None:
            self.summary.up_to_date += 1
            self._record(item.stream_id, RecordUpToDate(destination_id=item.destination_id))
            return None
        before = item.before_image if item.before_image is not None else dict(current)
        return _Update(item=item, values=values, before=before)

    async def _upsert_many(self, updates: list[_Update], limiter: Any) -> None:
        """Plain updates of live records, many to a request: a batch upsert by id carrying
        only the changed fields (Twenty leaves the others untouched). The intents are
        recorded before the request; after an unknown outcome the records are read back
        and only those not holding the values are sent again; a refused batch is sent again
        one record at a time, so one bad record does not fail the others."""
        async with limiter:
            plural = updates[0].item.object_plural
            self._record_many([(u.item.stream_id, _requested(u.item, u.before)) for u in updates])
            left = list(updates)
            for _ in range(_ATTEMPTS):
                records = [{"id": u.item.destination_id, **u.values} for u in left]
                try:
                    answered = await self._destination.upsert_many(plural, records)
                except WriteOutcomeUnknownError:
                    left = await self._settle_upserts(plural, left)
                    if not left:
                        return
                    continue
                except RecordRejectedError:
                    break
                stamps = {str(r.get("id")).lower(): stamp_of(r) for r in answered}
                for update in left:
                    stamp = stamps.get(update.item.destination_id.lower(), "")
                    self._landed(update.item, update.before, reconciled=False, stamp=stamp)
                return
            else:
                for update in left:
                    self._failed(update.item, "OUTCOME_UNKNOWN", "outcome unknown", True)
                return
        for update in left:
            await self._one(update, limiter)

    async def _settle_upserts(self, plural: str, left: list[_Update]) -> list[_Update]:
        """Read back: record those holding their values as landed; return the others."""
        ids = [u.item.destination_id for u in left]
        found = await self._destination.find_by_ids(plural, ids, include_deleted=True)
        current = {str(r["id"]).lower(): r for r in found}
        rest = []
        for update in left:
            record = current.get(update.item.destination_id.lower())
            if record is not None and _holds(record, update.values, "update"):
                self.summary.reconciled += 1
                self._landed(update.item, update.before, reconciled=True, stamp=stamp_of(record))
            else:
                rest.append(update)
        return rest

    async def _send_update(self, item: UpdateItem, values: Record, before: Record) -> None:
        self._record(item.stream_id, _requested(item, before))
        for attempt in range(_ATTEMPTS):
            try:
                if item.operation == "restore" or before.get("deletedAt") is not None:
                    await self._restore_if_deleted(item)
                now = await self._destination.update_one(
                    item.object_plural, item.destination_id, values
                )
                break
            except WriteOutcomeUnknownError as unknown:
                if attempt == _ATTEMPTS - 1:
                    self._failed(item, "OUTCOME_UNKNOWN", str(unknown), True)
                    return
            except RecordRejectedError as refused:
                self._failed(item, f"HTTP_{refused.status}", refused.message, False)
                return
            except RecordNotFoundError:
                self._failed(item, "MISSING", "the record is no longer in Twenty", False)
                return
        self._landed(item, before, reconciled=False, stamp=stamp_of(now))

    async def _restore_if_deleted(self, item: UpdateItem) -> None:
        found = await self._destination.find_by_ids(
            item.object_plural, [item.destination_id], include_deleted=True
        )
        if found and found[0].get("deletedAt") is not None:
            await self._destination.restore_one(item.object_plural, item.destination_id)

    def _landed(
        self, item: UpdateItem, before: Record | None, *, reconciled: bool, stamp: str = ""
    ) -> None:
        if item.operation == "restore":
            self.summary.restored += 1
        else:
            self.summary.updated += 1
        loaded = RecordLoaded(
            destination_id=item.destination_id,
            outcome="updated",
            before_image=before,
            was_soft_deleted=item.operation == "restore",
            reconciled=reconciled,
            updated_at=stamp,
        )
        self._record(item.stream_id, loaded)

    # -- soft deletes -----------------------------------------------------------------------

    async def _soft_delete_many(
        self, items: list[UpdateItem], current: dict[str, Record], limiter: Any
    ) -> None:
        """Soft-delete records many to a request, after the same checks as one at a time.

        In doubt and found soft-deleted: done. Edited in Twenty since our write: a conflict
        (left alone unless `force`). The intents of a request are recorded before it; a
        record the answer does not name is read back (soft-deleted already, or gone)."""
        wanted: list[UpdateItem] = []
        for item in items:
            found = current.get(item.destination_id.lower())
            if found is None:
                self._conflict(item, (), missing=True, overwritten=False)
            elif item.in_doubt and found.get("deletedAt") is not None:
                self.summary.reconciled += 1
                self.summary.soft_deleted += 1
                self._record(item.stream_id, _soft_deleted(item, reconciled=True))
            elif self._may_soft_delete(item, found):
                before = item.before_image if item.before_image is not None else dict(found)
                wanted.append(msgspec.structs.replace(item, before_image=before))
        size = max(1, self._destination.mutation_max_records)
        for start in range(0, len(wanted), size):
            async with limiter:
                await self._send_soft_deletes(wanted[start : start + size])

    def _may_soft_delete(self, item: UpdateItem, found: Record) -> bool:
        if item.before_image is not None:
            return True  # our own earlier request: no conflict check, it may have landed
        edited = _edited(item.last_sent, found)
        if not edited:
            return True
        self._conflict(item, edited, missing=False, overwritten=self._settings.force)
        return self._settings.force

    async def _send_soft_deletes(self, batch: list[UpdateItem]) -> None:
        """One delete-many (soft) for `batch`, settled exactly (see `_soft_delete_many`)."""
        self._record_many([(i.stream_id, _requested(i, i.before_image or {})) for i in batch])
        plural = batch[0].object_plural
        left = {i.destination_id.lower(): i for i in batch}
        for _ in range(_ATTEMPTS):
            try:
                answered = await self._destination.delete_many(plural, list(left), soft=True)
            except WriteOutcomeUnknownError:
                left = await self._settle_soft_deletes(plural, left)
                if not left:
                    return
                continue
            except RecordRejectedError as refused:
                for item in left.values():
                    self._failed(item, f"HTTP_{refused.status}", refused.message, False)
                return
            done = {d.lower() for d in answered}
            self._soft_deleted_many([i for k, i in left.items() if k in done], reconciled=False)
            rest = {k: i for k, i in left.items() if k not in done}
            if rest:
                for item in (await self._settle_soft_deletes(plural, rest)).values():
                    self._failed(item, "MISSING", "the record is no longer in Twenty", False)
            return
        for item in left.values():
            self._failed(item, "OUTCOME_UNKNOWN", "outcome still unknown after retries", True)

    async def _settle_soft_deletes(
        self, plural: str, left: dict[str, UpdateItem]
    ) -> dict[str, UpdateItem]:
        """Read back: record the soft-deleted ones as done; return those still live or gone."""
        found = await self._destination.find_by_ids(plural, list(left), include_deleted=True)
        deleted = {str(r["id"]).lower() for r in found if r.get("deletedAt") is not None}
        self._soft_deleted_many([i for k, i in left.items() if k in deleted], reconciled=True)
        return {k: i for k, i in left.items() if k not in deleted}

    def _soft_deleted_many(self, items: list[UpdateItem], *, reconciled: bool) -> None:
        self.summary.soft_deleted += len(items)
        if reconciled:
            self.summary.reconciled += len(items)
        self._record_many([(i.stream_id, _soft_deleted(i, reconciled=reconciled)) for i in items])

    # -- outcomes ---------------------------------------------------------------------------

    def _conflict(
        self, item: UpdateItem, fields: Sequence[str], *, missing: bool, overwritten: bool
    ) -> None:
        resolution: Literal["left_alone", "overwritten"] = (
            "overwritten" if overwritten and not missing else "left_alone"
        )
        conflict = Conflict(item.stream_id, item.destination_id, tuple(fields), missing, resolution)
        self.summary.conflicts.append(conflict)
        self._record_run(
            ConflictDetected(
                stream_id=item.stream_id,
                destination_id=item.destination_id,
                command=self._settings.command,
                fields=list(fields),
                missing=missing,
                resolution=resolution,
            )
        )

    def _failed(self, item: UpdateItem, code: str, message: str, retryable: bool) -> None:
        self.summary.failed += 1
        self._record(item.stream_id, LoadFailed(retryable=retryable, code=code, message=message))


def _holds(current: Record, values: Record, operation: str) -> bool:
    """Whether the record read back holds every value of the request."""
    if operation == "restore" and current.get("deletedAt") is not None:
        return False
    return all(check.agrees for check in compare_record(values, current))


def _requested(item: UpdateItem, before: Record) -> LoadRequested:
    return LoadRequested(
        batch_id=str(uuid.uuid4()),
        destination_id=item.destination_id,
        target_object=item.object_singular,
        operation=item.operation,
        before_image=before,
    )


def _soft_deleted(item: UpdateItem, *, reconciled: bool) -> RecordSoftDeleted:
    return RecordSoftDeleted(destination_id=item.destination_id, reconciled=reconciled)

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

    def _record_run(self, event: Event) -> None:
        run_id = self._settings.run_id
        self._store.append([NewEvent(f"run:{run_id}", event)], run_id=run_id)

    async def apply(self, chunks: Iterable[Sequence[UpdateItem]]) -> UpdateSummary:
        """Apply every item exactly once (per object, one read per page of ids)."""
        limiter = anyio.CapacityLimiter(self._settings.max_in_flight)
        for chunk in chunks:
            for start in range(0, len(chunk), self._destination.batch_size):
                page = chunk[start : start + self._destination.batch_size]
                current = await self._read(page)
                async with anyio.create_task_group() as group:
                    for item in page:
                        self._versions[item.stream_id] = item.version
                        found = current.get(item.destination_id.lower())
                        group.start_soon(self._one, item, found, limiter)
        return self.summary

    async def _read(self, items: Sequence[UpdateItem]) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for plural in dict.fromkeys(i.object_plural for i in items):
            ids = [i.destination_id for i in items if i.object_plural == plural]
            for record in await self._destination.find_by_ids(plural, ids, include_deleted=True):
                found[str(record["id"]).lower()] = record
        return found

    async def _one(self, item: UpdateItem, current: Record | None, limiter: Any) -> None:
        async with limiter:
            if item.operation == "soft_delete":
                await self._soft_delete(item, current)
            else:
                await self._update(item, current)

    # -- updates ----------------------------------------------------------------------------

    async def _update(self, item: UpdateItem, current: Record | None) -> None:
        values = (
            dict(item.payload)
            if item.operation == "restore"
            else changed_fields(item.payload, item.last_sent)
        )
        if current is None:
            self._conflict(item, (), missing=True, overwritten=False)
            return
        if item.in_doubt and (not values or _holds(current, values, item.operation)):
            self.summary.reconciled += 1
            self._landed(item, item.before_image, reconciled=True)
            return
        if item.before_image is None and item.operation == "update":
            edited = _edited(item.last_sent, current)
            if current.get("deletedAt") is not None:
                edited.append("deletedAt")
            if edited:
                self._conflict(item, edited, missing=False, overwritten=self._settings.force)
                if not self._settings.force:
                    return
                tops = {path.split(".")[0] for path in edited}
                values.update({k: v for k, v in item.payload.items() if k in tops})
        if not values and not item.in_doubt and item.before_image is None:
            self.summary.up_to_date += 1
            self._record(item.stream_id, RecordUpToDate(destination_id=item.destination_id))
            return
        before = item.before_image if item.before_image is not None else dict(current)
        await self._send_update(item, values, before)

    async def _send_update(self, item: UpdateItem, values: Record, before: Record) -> None:
        self._record(item.stream_id, _requested(item, before))
        for attempt in range(_ATTEMPTS):
            try:
                if item.operation == "restore" or before.get("deletedAt") is not None:
                    await self._restore_if_deleted(item)
                await self._destination.update_one(item.object_plural, item.destination_id, values)
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
        self._landed(item, before, reconciled=False)

    async def _restore_if_deleted(self, item: UpdateItem) -> None:
        found = await self._destination.find_by_ids(
            item.object_plural, [item.destination_id], include_deleted=True
        )
        if found and found[0].get("deletedAt") is not None:
            await self._destination.restore_one(item.object_plural, item.destination_id)

    def _landed(self, item: UpdateItem, before: Record | None, *, reconciled: bool) -> None:
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
        )
        self._record(item.stream_id, loaded)

    # -- soft deletes -----------------------------------------------------------------------

    async def _soft_delete(self, item: UpdateItem, current: Record | None) -> None:
        if current is None:
            self._conflict(item, (), missing=True, overwritten=False)
            return
        if item.in_doubt and current.get("deletedAt") is not None:
            self.summary.reconciled += 1
            self.summary.soft_deleted += 1
            self._record(item.stream_id, _soft_deleted(item, reconciled=True))
            return
        if item.before_image is None:
            edited = _edited(item.last_sent, current)
            if edited:
                self._conflict(item, edited, missing=False, overwritten=self._settings.force)
                if not self._settings.force:
                    return
        before = item.before_image if item.before_image is not None else dict(current)
        self._record(item.stream_id, _requested(item, before))
        outcome = await self._send_soft_delete(item)
        if outcome is None:
            return
        self.summary.soft_deleted += 1
        self._record(item.stream_id, _soft_deleted(item, reconciled=outcome))

    async def _send_soft_delete(self, item: UpdateItem) -> bool | None:
        """Soft-delete; after an unknown outcome read back first (a second DELETE of a
        soft-deleted record is a 404). True when established by reading back, None on failure.
        """
        doubtful = False
        for _ in range(_ATTEMPTS):
            if doubtful and await self._is_soft_deleted(item):
                return True
            try:
                await self._destination.delete_one(
                    item.object_plural, item.destination_id, soft=True
                )
                return False
            except WriteOutcomeUnknownError:
                doubtful = True
            except RecordNotFoundError:
                if await self._is_soft_deleted(item):
                    return True
                self._failed(item, "MISSING", "the record is no longer in Twenty", False)
                return None
        self._failed(item, "OUTCOME_UNKNOWN", "outcome still unknown after retries", True)
        return None

    async def _is_soft_deleted(self, item: UpdateItem) -> bool:
        found = await self._destination.find_by_ids(
            item.object_plural, [item.destination_id], include_deleted=True
        )
        return bool(found) and found[0].get("deletedAt") is not None

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

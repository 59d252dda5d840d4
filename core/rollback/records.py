"""Undoing one record in Twenty, recorded like a load: the intent first, the outcome after.

For every write: RollbackRequested is appended, the request is sent, RecordRolledBack is
appended. A record in doubt (`rolling_back` after a crash) is looked up first: found already
deleted, or already back to its before-image, it gets RecordRolledBack(already_done) without
a write. Every write here is idempotent (a permanent delete answered 404 was done; a PATCH of
the before-image or a soft delete can be repeated), so an unknown outcome is simply retried.

A record whose current values differ from what we last wrote (per the comparison rules of
`core.pipeline.comparison`) was edited in Twenty after us: it is reported as a conflict
(ConflictDetected) and left alone, unless `force`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
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
from core.rollback.plan import RollbackItem
from events.store import EventStore, NewEvent
from events.types import (
    ConflictDetected,
    Event,
    RecordRemovedInSource,
    RecordReverted,
    RecordRolledBack,
    RollbackRequested,
    RollbackWithheld,
)

__all__ = ["Conflict", "Failure", "RecordUndoer", "UndoCounts", "known_stamp"]

RETRIES = 6
RolledAction = Literal["delete", "restore_before_image", "soft_delete"]


class Conflict(msgspec.Struct, frozen=True, kw_only=True):
    """A record changed in Twenty since our last write (names only, never values)."""

    stream_id: str
    destination_id: str
    fields: tuple[str, ...] = ()
    missing: bool = False
    resolution: Literal["left_alone", "overwritten"] = "left_alone"


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """A record whose rollback write failed; it stays `rolling_back` for the next rollback."""

    stream_id: str
    destination_id: str
    code: str
    message: str


class UndoCounts(msgspec.Struct, kw_only=True):
    """What happened to the records, for RunFinished and the operator."""

    deleted: int = 0
    restored: int = 0
    soft_deleted: int = 0
    already_done: int = 0
    conflicts: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return msgspec.structs.asdict(self)


class _Unsettled(Exception):
    """A write still had an unknown outcome after every retry."""


class RecordUndoer:
    """Undoes RollbackItems in a Destination, recording every step in the EventStore."""

    def __init__(
        self,
        store: EventStore,
        destination: Destination,
        rollback_id: str,
        *,
        force: bool,
        max_in_flight: int = 4,
    ) -> None:
        self._store = store
        self._destination = destination
        self._rollback_id = rollback_id
        self._force = force
        self._max_in_flight = max_in_flight
        self._versions: dict[str, int] = {}
        self._intended: set[str] = set()  # streams with a rollback intent recorded by this run
        self.counts = UndoCounts()
        self.conflicts: list[Conflict] = []
        self.failures: list[Failure] = []

    @property
    def mutation_max_records(self) -> int:
        """Records the destination takes in one delete-many."""
        return max(1, self._destination.mutation_max_records)

    def _record(self, item: RollbackItem, event: Event) -> None:
        version = self._versions.get(item.stream_id, item.version)
        self._store.append(
            [NewEvent(item.stream_id, event, expected_version=version)], run_id=self._rollback_id
        )
        self._versions[item.stream_id] = version + 1

    def _record_many(self, pairs: Sequence[tuple[RollbackItem, Event]]) -> None:
        """Append one event to each of several records, in one transaction."""
        batch = []
        for item, event in pairs:
            version = self._versions.get(item.stream_id, item.version)
            batch.append(NewEvent(item.stream_id, event, expected_version=version))
            self._versions[item.stream_id] = version + 1
        if batch:
            self._store.append(batch, run_id=self._rollback_id)

    async def undo_creates(self, items: list[RollbackItem]) -> None:
        """Delete records we created, many to a request (one object's items, in plan order).

        Records already gone are done without a write; records edited since our write are
        conflicts (left alone unless `force`). A record whose `updatedAt` after our last
        write is known is not read first: the delete names that stamp, so Twenty deletes it
        only while nobody has written to it since, and only the few it leaves are read to
        tell a record already gone from one edited. The others (and all with `force`) are
        read first. The intents of a whole request are recorded before it; after an unknown
        outcome the ids are looked up before anything is resent, and a delete of ids of
        which some are already gone is harmless: each record's outcome is recorded exactly
        (`already_done` when our request did not find it).
        """
        unread = [not self._force and known_stamp(i.written_at) for i in items]
        stamped = [i for i, skip in zip(items, unread, strict=True) if skip]
        read = [i for i, skip in zip(items, unread, strict=True) if not skip]
        wanted = await self._unedited(read) if read else []
        size = self.mutation_max_records
        limiter = anyio.CapacityLimiter(self._max_in_flight)
        async with anyio.create_task_group() as group:
            for start in range(0, len(stamped), size):
                group.start_soon(self._delete_batch, stamped[start : start + size], limiter, True)
            for start in range(0, len(wanted), size):
                group.start_soon(self._delete_batch, wanted[start : start + size], limiter, False)

    async def _unedited(self, items: list[RollbackItem]) -> list[RollbackItem]:
        """Read `items`: record those already gone as done, report those edited since our
        write as conflicts, and return the rest (and the edited ones with `force`)."""
        current = await self.current(items)
        wanted: list[RollbackItem] = []
        gone: list[RollbackItem] = []
        for item in items:
            found = current.get(item.destination_id)
            if found is None:
                gone.append(item)
            elif not self._conflicts(item, edited_fields(item.written, found)):
                wanted.append(item)
        self._deleted(gone, set())
        return wanted

    async def _delete_batch(
        self, batch: list[RollbackItem], limiter: Any, conditional: bool
    ) -> None:
        async with limiter:
            left = await self._send_deletes(batch, conditional)
            if left:  # not deleted by the conditional request: gone, edited, or re-stamped
                rest = await self._unedited(left)
                if rest:
                    await self._send_deletes(rest, conditional=False)

    async def _send_deletes(
        self, batch: list[RollbackItem], conditional: bool
    ) -> list[RollbackItem]:
        """One delete-many for `batch` (resent after unknown outcomes); returns the items a
        conditional delete left in Twenty."""
        intents = [
            (i, self._requested(i, "delete"))
            for i in batch
            if i.pending != "delete" and i.stream_id not in self._intended
        ]
        self._record_many(intents)
        self._intended.update(i.stream_id for i, _ in intents)
        plural = batch[0].object_plural
        left = {i.destination_id.lower(): i for i in batch}
        for _ in range(RETRIES):
            stamps = {i.destination_id: i.written_at for i in left.values()}
            try:
                deleted = await self._destination.delete_many(
                    plural, [i.destination_id for i in left.values()], soft=False,
                    unchanged_since=stamps if conditional else None,
                )  # fmt: skip
            except WriteOutcomeUnknownError:
                found = await self._destination.find_by_ids(
                    plural, list(left), include_deleted=True
                )
                present = {str(r["id"]).lower() for r in found}
                gone = [i for key, i in left.items() if key not in present]
                self._deleted(gone, set())  # ours, or someone's: gone either way
                left = {k: i for k, i in left.items() if k in present}
                if not left:
                    return []
                continue
            except RecordRejectedError as refused:
                for item in left.values():
                    self._fail(item, f"HTTP_{refused.status}", refused.message)
                return []
            done = {d.lower() for d in deleted}
            if conditional:
                self._deleted([i for k, i in left.items() if k in done], done)
                return [i for k, i in left.items() if k not in done]
            self._deleted(list(left.values()), done)
            return []
        for item in left.values():
            self._fail(item, "OUTCOME_UNKNOWN", "outcome still unknown after retries")
        return []

    def _deleted(self, items: list[RollbackItem], deleted: set[str]) -> None:
        """Record the outcome of a delete-many: `deleted` holds the ids our request removed."""
        done = [(i, i.destination_id.lower() not in deleted) for i in items]
        pairs: list[tuple[RollbackItem, Event]] = []
        for item, already in done:
            event = RecordRolledBack(
                action="delete", destination_id=item.destination_id, already_done=already
            )
            pairs += [(item, event), *_gone_again(item)]
        self._record_many(pairs)
        self.counts.deleted += sum(1 for _, already in done if not already)
        self.counts.already_done += sum(1 for _, already in done if already)

    def _requested(self, item: RollbackItem, action: RolledAction) -> RollbackRequested:
        return RollbackRequested(
            rollback_id=self._rollback_id, action=action, destination_id=item.destination_id
        )

    def _intent(self, item: RollbackItem, action: RolledAction) -> None:
        self._record(item, self._requested(item, action))

    def _done(self, item: RollbackItem, action: RolledAction, *, already_done: bool) -> None:
        event: Event = RecordRolledBack(
            action=action, destination_id=item.destination_id, already_done=already_done
        )
        if item.reverts and action == "restore_before_image":
            # Earlier writes of ours stay: the record is still ours, behind the source.
            event = RecordReverted(
                destination_id=item.destination_id,
                undone_from=item.position,
                already_done=already_done,
            )
        self._record(item, event)
        if action == "delete" or isinstance(event, RecordRolledBack):
            for _, removed in _gone_again(item):
                self._record(item, removed)
        if already_done:
            self.counts.already_done += 1

    async def current(self, items: list[RollbackItem]) -> dict[str, Record]:
        """The items' records as Twenty holds them now (soft-deleted ones too), by id."""
        found: dict[str, Record] = {}
        by_object: dict[str, list[str]] = {}
        for item in items:
            by_object.setdefault(item.object_plural, []).append(item.destination_id)
        for plural, ids in by_object.items():
            for record in await self._destination.find_by_ids(plural, ids, include_deleted=True):
                found[str(record["id"]).lower()] = record
        return {
            i.destination_id: found[k] for i in items if (k := i.destination_id.lower()) in found
        }

    async def undo(self, item: RollbackItem, current: Record | None) -> None:
        """Undo one record given its current state in Twenty (None: not there)."""
        try:
            if item.action == "delete":
                await self._undo_create(item, current)
            else:
                await self._undo_change(item, current)
        except _Unsettled as unsettled:
            self._fail(item, "OUTCOME_UNKNOWN", str(unsettled))
        except RecordRejectedError as refused:
            self._fail(item, f"HTTP_{refused.status}", refused.message)

    def _fail(self, item: RollbackItem, code: str, message: str) -> None:
        self.counts.failed += 1
        self.failures.append(
            Failure(
                stream_id=item.stream_id,
                destination_id=item.destination_id,
                code=code,
                message=message,
            )
        )

    async def _undo_create(self, item: RollbackItem, current: Record | None) -> None:
        if current is None:
            self._done(item, "delete", already_done=True)
            return
        if self._conflicts(item, edited_fields(item.written, current)):
            return
        self._intent(item, "delete")
        gone = await self._settle(
            lambda: self._destination.delete_one(
                item.object_plural, item.destination_id, soft=False
            )
        )
        self._done(item, "delete", already_done=gone)
        if not gone:
            self.counts.deleted += 1

    async def _undo_change(self, item: RollbackItem, current: Record | None) -> None:
        if current is None:
            self._conflict(item, (), missing=True)
            return
        is_deleted = current.get("deletedAt") is not None
        if is_deleted and item.soft_deleted_by_us and not item.soft_delete_after:
            # Our own soft delete (`ferry delta --apply-deletes`) is one of the writes undone:
            # bring the record back before its fields, not a user's edit to leave alone.
            self._intent(item, "restore_before_image")
            if await self._settle(
                lambda: self._destination.restore_one(item.object_plural, item.destination_id)
            ):
                self._conflict(item, (), missing=True)
                return
            is_deleted = False
        back = not edited_fields(item.restore, current)
        if item.pending != "soft_delete" and not back:
            edited = edited_fields(item.written, current)
            if is_deleted:
                edited = [*edited, "deletedAt"]
            if self._conflicts(item, edited):
                return
            self._intent(item, "restore_before_image")
            gone = await self._settle(
                lambda: self._destination.update_one(
                    item.object_plural, item.destination_id, item.restore
                )
            )
            if gone:  # deleted by someone between our read and our write
                self._conflict(item, (), missing=True)
                return
            self.counts.restored += 1
        if not item.soft_delete_after:
            self._done(item, "restore_before_image", already_done=back)
            return
        if is_deleted:
            self._done(item, "soft_delete", already_done=True)
            return
        self._intent(item, "soft_delete")
        await self._settle(
            lambda: self._destination.delete_one(item.object_plural, item.destination_id, soft=True)
        )
        self.counts.soft_deleted += 1
        self._done(item, "soft_delete", already_done=False)

    def _conflicts(self, item: RollbackItem, fields: list[str]) -> bool:
        """Report the edited fields; True when the record must be left alone (its recorded
        intent, if any, then ends in RollbackWithheld: the record is ours in Twenty still)."""
        if not fields:
            return False
        self._conflict(item, tuple(fields), missing=False)
        if self._force:
            return False
        if item.pending is not None or item.stream_id in self._intended:
            self._record(item, RollbackWithheld(destination_id=item.destination_id))
            self._intended.discard(item.stream_id)
        return True

    def _conflict(self, item: RollbackItem, fields: tuple[str, ...], *, missing: bool) -> None:
        resolution: Literal["left_alone", "overwritten"] = (
            "overwritten" if self._force and not missing else "left_alone"
        )
        conflict = Conflict(
            stream_id=item.stream_id,
            destination_id=item.destination_id,
            fields=fields,
            missing=missing,
            resolution=resolution,
        )
        self.conflicts.append(conflict)
        self.counts.conflicts += 1
        event = ConflictDetected(
            stream_id=item.stream_id,
            destination_id=item.destination_id,
            command="rollback",
            fields=list(fields),
            missing=missing,
            resolution=resolution,
        )
        run_stream = f"run:{self._rollback_id}"
        self._store.append([NewEvent(run_stream, event)], run_id=self._rollback_id)

    async def _settle(self, write: Callable[[], Awaitable[Any]]) -> bool:
        """Send an idempotent write until its outcome is known; True when it found nothing.

        Raises:
            _Unsettled: the outcome stayed unknown after every retry.
            RecordRejectedError: Twenty refused the write.
        """
        for _ in range(RETRIES):
            try:
                await write()
                return False
            except RecordNotFoundError:
                return True
            except WriteOutcomeUnknownError as unknown:
                last = unknown
        raise _Unsettled(str(last))


def known_stamp(stamp: str) -> bool:
    """Whether `stamp` is an instant Twenty gave (an `updatedAt` to delete on)."""
    if not stamp:
        return False
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _gone_again(item: RollbackItem) -> list[tuple[RollbackItem, Event]]:
    """A record whose row the source no longer holds is `removed` again once rolled back: not
    in Twenty, and not a record for `ferry run` to migrate again."""
    if not item.source_gone:
        return []
    return [(item, RecordRemovedInSource(export="", destination_id=""))]


def edited_fields(written: dict[str, Any], current: Record) -> list[str]:
    """The leaf paths whose current value is not the one written (Twenty's normalisations)."""
    return [check.path for check in compare_record(written, current) if not check.agrees]

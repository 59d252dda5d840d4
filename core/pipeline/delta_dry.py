"""The dry run of a delta: the real code path against a scratch copy of the store and a
destination that writes nothing.

Reads (members, the records' current values for the conflict check) go to Twenty; every
write is captured as a PlannedWrite (operation, object, id, field names: never values) and
answered as if it had succeeded. The store is a copy made with SQLite's backup API in the
work directory and deleted afterwards, so the real event log records nothing at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import msgspec

from core.lifecycle import Lifecycle
from core.ports.destination import BatchOutcome, Destination, Member, Record
from events.private_files import create_private
from events.store import EventStore

__all__ = ["PlannedWrite", "RecordingDestination", "scratch_store", "with_source_keys"]


class PlannedWrite(msgspec.Struct, frozen=True):
    """One write the delta would send: operation, object, record id and field names, and
    the record's stream (`patient:10480`: the source key it comes from; "" when unknown)."""

    operation: str
    object_plural: str
    destination_id: str
    fields: tuple[str, ...] = ()
    stream_id: str = ""


class RecordingDestination:
    """A Destination that reads from `real` and records writes instead of sending them."""

    def __init__(self, real: Destination) -> None:
        self._real = real
        self.planned: list[PlannedWrite] = []
        # Write requests the real run would send for these writes (the real client's
        # chunking: batch_size a create or upsert, mutation_max_records a delete-many).
        self.write_requests = 0

    @property
    def batch_size(self) -> int:
        """The real destination's batch size."""
        return self._real.batch_size

    @property
    def mutation_max_records(self) -> int:
        """The real destination's cap on records per delete- or restore-many request."""
        return self._real.mutation_max_records

    def _plan(self, operation: str, plural: str, record_id: str, values: Record) -> None:
        fields = tuple(k for k in values if k != "id")
        self.planned.append(PlannedWrite(operation, plural, record_id, fields))

    async def create_batch(self, object_name: str, records: Sequence[Record]) -> BatchOutcome:
        """Record a create per record; every one 'succeeds'."""
        self.write_requests += _requests(len(records), self.batch_size)
        for record in records:
            self._plan("create", object_name, str(record["id"]), record)
        return BatchOutcome(created=tuple(records), rejected={})

    async def create_one(self, object_name: str, record: Record) -> Record:
        """Record one create."""
        self.write_requests += 1
        self._plan("create", object_name, str(record.get("id", "")), record)
        return dict(record)

    async def update_one(self, object_name: str, record_id: str, values: Record) -> Record:
        """Record an update of the given fields."""
        self.write_requests += 1
        self._plan("update", object_name, record_id, values)
        return {"id": record_id, **values}

    async def delete_one(self, object_name: str, record_id: str, *, soft: bool) -> None:
        """Record a (soft) delete."""
        self.write_requests += 1
        self._plan("soft_delete" if soft else "delete", object_name, record_id, {})

    async def restore_one(self, object_name: str, record_id: str) -> Record:
        """Record a restore."""
        self.write_requests += 1
        self._plan("restore", object_name, record_id, {})
        return {"id": record_id, "deletedAt": None}

    async def delete_many(
        self,
        object_name: str,
        ids: Sequence[str],
        *,
        soft: bool,
        unchanged_since: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Record a (soft) delete per id; every one 'succeeds'."""
        for record_id in ids:
            self._plan("soft_delete" if soft else "delete", object_name, record_id, {})
        self.write_requests += _requests(len(ids), self.mutation_max_records)
        return list(ids)

    async def restore_many(self, object_name: str, ids: Sequence[str]) -> list[Record]:
        """Record a restore per id."""
        for record_id in ids:
            self._plan("restore", object_name, record_id, {})
        self.write_requests += _requests(len(ids), self.mutation_max_records)
        return [{"id": record_id, "deletedAt": None} for record_id in ids]

    async def upsert_many(self, object_name: str, records: Sequence[Record]) -> list[Record]:
        """Record an update of the given fields per record (the Updater upserts by id only
        records it read live in Twenty: to the operator, each is an update)."""
        self.write_requests += _requests(len(records), self.batch_size)
        for record in records:
            self._plan("update", object_name, str(record["id"]), record)
        return [dict(record) for record in records]

    async def find_by_ids(
        self, object_name: str, ids: Sequence[str], *, include_deleted: bool = False
    ) -> list[Record]:
        """Read from Twenty."""
        return await self._real.find_by_ids(object_name, ids, include_deleted=include_deleted)

    def find(
        self, object_name: str, filter_expr: str | None = None, *, include_deleted: bool = False
    ) -> AsyncIterator[Record]:
        """Read from Twenty."""
        return self._real.find(object_name, filter_expr, include_deleted=include_deleted)

    async def list_members(self) -> list[Member]:
        """Read from Twenty."""
        return await self._real.list_members()


def _requests(records: int, per_request: int) -> int:
    return -(-records // max(1, per_request)) if records else 0


def scratch_store(store: EventStore, directory: Path) -> EventStore:
    """A private copy of the store in `directory` (which the caller removes afterwards)."""
    path = directory / "ferry-dry-run.db"
    target = sqlite3.connect(create_private(path))
    try:
        store.connection.backup(target)
    finally:
        target.close()
    return EventStore.open(path, transition=Lifecycle().next_state, create=False)


def with_source_keys(
    planned: Sequence[PlannedWrite], conn: sqlite3.Connection
) -> list[PlannedWrite]:
    """The planned writes with the stream of each record, found by its Twenty id in the
    (scratch) store's record_state: one pass over it, however many writes."""
    wanted = {write.destination_id for write in planned}
    streams = {
        destination_id: stream_id
        for destination_id, stream_id in conn.execute(
            "SELECT destination_id, stream_id FROM record_state WHERE destination_id IS NOT NULL"
        )
        if destination_id in wanted
    }
    return [
        msgspec.structs.replace(write, stream_id=streams.get(write.destination_id, ""))
        for write in planned
    ]

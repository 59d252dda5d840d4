"""A rollback run: undo our writes newest first, then (with `schema`) our data model.

Wrapped like every run in RunStarted / RunFinished (command `rollback`) on its own stream,
with the scope in RunStarted's options so that an interrupted rollback is finished under the
scope it was started with. Requests go through the Destination given, i.e. through the
session's client and its shared rate limiter.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from typing import Literal

import msgspec

from core.clock import Clock
from core.errors import ConfigError
from core.pipeline.run import new_run_id
from core.ports.destination import Destination, MetadataStore
from core.rollback.plan import (
    IN_TWENTY,
    RollbackItem,
    RollbackScope,
    plan_chunks,
    undo_candidates,
)
from core.rollback.records import Conflict, Failure, RecordUndoer, known_stamp
from core.rollback.schema_undo import SchemaStep, SchemaUndo, schema_steps, undo_schema
from events.store import EventStore, NewEvent
from events.types import Event, RunFinished, RunStarted

__all__ = [
    "PlannedRecord",
    "RollbackEstimate",
    "RollbackOptions",
    "RollbackResult",
    "check_scope",
    "estimate_rollback",
    "plan_records",
    "plan_schema",
    "rollback",
]


class RollbackOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to roll back: which writes, whether the schema too, whether edits are overridden."""

    scope: RollbackScope = RollbackScope()
    schema: bool = False
    force: bool = False
    chunk: int = 1000
    max_in_flight: int = 4


class RollbackResult(msgspec.Struct, kw_only=True):
    """What a rollback did (keys, ids and codes only)."""

    rollback_id: str
    outcome: Literal["completed", "interrupted", "failed"] = "completed"
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    conflicts: list[Conflict] = msgspec.field(default_factory=list)
    failures: list[Failure] = msgspec.field(default_factory=list)
    schema: SchemaUndo | None = None
    message: str = ""
    seconds: float = 0.0


class PlannedRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the dry-run plan: what would be done to which record (no values)."""

    stream_id: str
    action: str
    object_name: str
    destination_id: str
    fields: tuple[str, ...] = ()
    soft_delete_after: bool = False
    in_doubt: bool = False


def check_scope(conn: sqlite3.Connection, scope: RollbackScope) -> None:
    """Refuse a scope naming a run the store does not know.

    Raises:
        ConfigError: the run id is unknown.
    """
    if scope.run_id is None:
        return
    found = conn.execute("SELECT 1 FROM run_summary WHERE run_id = ?", (scope.run_id,)).fetchone()
    if found is None:
        raise ConfigError(f"no run {scope.run_id!r} in this work directory; see `ferry status`")


def plan_records(conn: sqlite3.Connection, scope: RollbackScope) -> Iterator[PlannedRecord]:
    """The records a rollback would undo, in the order it would undo them."""
    for chunk in plan_chunks(conn, scope):
        for item in chunk:
            yield PlannedRecord(
                stream_id=item.stream_id,
                action=item.action,
                object_name=item.object_plural,
                destination_id=item.destination_id,
                fields=tuple(item.restore),
                soft_delete_after=item.soft_delete_after,
                in_doubt=item.pending is not None,
            )


class RollbackEstimate(msgspec.Struct, frozen=True, kw_only=True):
    """What a rollback will send: records to undo, and requests (reads and writes)."""

    records: int = 0
    deletes: int = 0
    restores: int = 0
    requests: int = 0


def estimate_rollback(
    conn: sqlite3.Connection,
    scope: RollbackScope,
    *,
    mutation_max: int,
    ids_per_lookup: int,
    force: bool = False,
    chunk: int = RollbackOptions().chunk,
) -> RollbackEstimate:
    """The requests a rollback of `scope` sends, counted as the runner sends them: per run of
    one object's records, one delete-many per `mutation_max` records (a run of deletes),
    after one look-up per `ids_per_lookup` of those whose stamp after our write is unknown
    (all of them with `force`), or one look-up per `ids_per_lookup` ids then one request
    per restore (two when it soft-deletes again). Retries after faults and 429s, and the
    reads of records a stamped delete finds edited, are not counted."""
    records = deletes = restores = requests = 0
    for run in _runs(plan_chunks(conn, scope, chunk=chunk), mutation_max):
        records += len(run)
        if run[0].action == "delete":
            unread = 0 if force else sum(1 for i in run if known_stamp(i.written_at))
            requests += math.ceil((len(run) - unread) / ids_per_lookup)
            deletes += len(run)
            requests += math.ceil(len(run) / mutation_max)
        else:
            requests += math.ceil(len(run) / ids_per_lookup)  # the read before the writes
            restores += len(run)
            requests += len(run) + sum(1 for i in run if i.soft_delete_after)
    return RollbackEstimate(records=records, deletes=deletes, restores=restores, requests=requests)


def plan_schema(store: EventStore) -> list[SchemaStep]:
    """The schema changes a rollback with `--schema` would undo, newest first."""
    return schema_steps(store)[0]


def _records_left(conn: sqlite3.Connection) -> int:
    """Records that still hold writes of ours in Twenty (or a rollback in progress)."""
    return len(undo_candidates(conn, RollbackScope(), (*IN_TWENTY, "rolling_back")))


async def rollback(
    store: EventStore,
    destination: Destination,
    metadata: MetadataStore,
    options: RollbackOptions,
    *,
    clock: Clock,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[int], None] = lambda n: None,
) -> RollbackResult:
    """Undo our writes in scope newest first (then the schema); always ends with RunFinished.

    `on_progress(n)`: n more records were undone (or found done, or left alone).

    Raises:
        ConfigError: the scope names an unknown run.
        SchemaUndoBlockedError: `schema` while records we wrote remain (unless `force`).
        FatalForRunError: Twenty refused the run (auth); it is resumable.
    """
    check_scope(store.connection, options.scope)
    started = clock.monotonic()
    result = RollbackResult(rollback_id=new_run_id(clock.now()))
    run = _RunLog(store, result.rollback_id)
    run.record(
        RunStarted(
            run_id=result.rollback_id,
            command="rollback",
            entities=[options.scope.entity] if options.scope.entity else [],
            options={**options.scope.options(), "schema": options.schema, "force": options.force},
        )
    )
    undoer = RecordUndoer(
        store,
        destination,
        result.rollback_id,
        force=options.force,
        max_in_flight=options.max_in_flight,
    )
    try:
        await _undo_records(store, undoer, options, should_stop, result, on_progress)
        if options.schema and result.outcome == "completed":
            left = _records_left(store.connection)
            result.schema = await undo_schema(
                store, metadata, result.rollback_id, left,
                force=options.force, should_stop=should_stop,
            )  # fmt: skip
    except BaseException as error:
        result.outcome = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        result.message = type(error).__name__
        raise
    finally:
        _finish(run, result, undoer, clock.monotonic() - started)
    return result


async def _undo_records(
    store: EventStore,
    undoer: RecordUndoer,
    options: RollbackOptions,
    should_stop: Callable[[], bool],
    result: RollbackResult,
    on_progress: Callable[[int], None],
) -> None:
    chunks = plan_chunks(store.connection, options.scope, chunk=options.chunk)
    for run in _runs(chunks, undoer.mutation_max_records):
        if should_stop():
            result.outcome = "interrupted"
            return
        if run[0].action == "delete":
            await undoer.undo_creates(run)
        else:
            # Read just before writing: the conflict check sees Twenty as it is now, and a
            # rollback stopped half-way has undone whole runs, not read ahead for nothing.
            current = await undoer.current(run)
            for item in run:
                await undoer.undo(item, current.get(item.destination_id))
        on_progress(len(run))


def _runs(chunks: Iterable[list[RollbackItem]], size: int) -> Iterator[list[RollbackItem]]:
    """Consecutive items of one object and one kind of action: deletes of one object go many
    to a request, while the plan's order (children before parents) holds between runs.

    A run of deletes that a chunk's end cuts is carried into the next chunk's first run by
    its last part short of `size` (so a request is not sent half full at every chunk's end);
    at most `size - 1` items are carried, so memory stays a chunk's."""
    carry: list[RollbackItem] = []
    for chunk in chunks:
        for _, group in groupby(chunk, key=_run_key):
            run = list(group)
            if carry and _run_key(carry[0]) == _run_key(run[0]):
                run = carry + run
            elif carry:
                yield carry
            carry = []
            whole = len(run) - len(run) % size if run[0].action == "delete" else len(run)
            if whole:
                yield run[:whole]
            carry = run[whole:]
    if carry:
        yield carry


def _run_key(item: RollbackItem) -> tuple[str, bool]:
    return item.object_plural, item.action == "delete"


def _finish(run: _RunLog, result: RollbackResult, undoer: RecordUndoer, seconds: float) -> None:
    result.seconds = seconds
    result.conflicts = undoer.conflicts
    result.failures = undoer.failures
    counts = undoer.counts.as_dict()
    if result.schema is not None:
        counts["fields_deleted"] = result.schema.fields_deleted
        counts["objects_deleted"] = result.schema.objects_deleted
    result.counts = counts
    run.record(RunFinished(outcome=result.outcome, counts=counts, message=result.message))


class _RunLog:
    """Appends facts about the rollback to its own stream."""

    def __init__(self, store: EventStore, rollback_id: str) -> None:
        self._store = store
        self._id = rollback_id

    def record(self, event: Event) -> None:
        self._store.append([NewEvent(f"run:{self._id}", event)], run_id=self._id)

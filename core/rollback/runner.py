"""A rollback run: undo our writes newest first, then (with `schema`) our data model.

Wrapped like every run in RunStarted / RunFinished (command `rollback`) on its own stream,
with the scope in RunStarted's options so that an interrupted rollback is finished under the
scope it was started with. Requests go through the Destination given, i.e. through the
session's client and its shared rate limiter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Literal

import msgspec

from core.clock import Clock
from core.errors import ConfigError
from core.pipeline.run import new_run_id
from core.ports.destination import Destination, MetadataStore
from core.rollback.plan import IN_TWENTY, RollbackScope, plan_chunks, undo_candidates
from core.rollback.records import Conflict, Failure, RecordUndoer
from core.rollback.schema_undo import SchemaStep, SchemaUndo, schema_steps, undo_schema
from events.store import EventStore, NewEvent
from events.types import Event, RunFinished, RunStarted

__all__ = [
    "PlannedRecord",
    "RollbackOptions",
    "RollbackResult",
    "check_scope",
    "plan_records",
    "plan_schema",
    "rollback",
]


class RollbackOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to roll back: which writes, whether the schema too, whether edits are overridden."""

    scope: RollbackScope = RollbackScope()
    schema: bool = False
    force: bool = False
    chunk: int = 100


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
) -> RollbackResult:
    """Undo our writes in scope newest first (then the schema); always ends with RunFinished.

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
    undoer = RecordUndoer(store, destination, result.rollback_id, force=options.force)
    try:
        await _undo_records(store, undoer, options, should_stop, result)
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
) -> None:
    for chunk in plan_chunks(store.connection, options.scope, chunk=options.chunk):
        current = await undoer.current(chunk)
        for item in chunk:
            if should_stop():
                result.outcome = "interrupted"
                return
            await undoer.undo(item, current.get(item.destination_id))


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

"""`ferry delta`: the changes made in Dental-Exec during the cutover, and nothing else.

The new export (a delta bundle, `Modified Since` set, or a later full export) goes through
the same local stages as a run; rows whose content hash the store already holds record
nothing. Then, entity by entity in Twenty's order: new records are created exactly once
(core.loader), records already in Twenty whose payload changed are PATCHed with the changed
fields only, after a conflict check (core.updater). A later full export also reveals the rows
removed in the source (RecordRemovedInSource); those and the rows deleted in the source
(`Deleted = Y`, patient `Status = Deleted`) whose record is in Twenty are soft-deleted with
`apply_deletes`, otherwise only reported. Rerunning the same or an overlapping bundle is
idempotent: nothing changed, nothing sent. A dry run is the same path on a scratch copy of
the store with a destination that only records the writes (core.pipeline.delta_dry).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal

import msgspec

from core.clock import Clock
from core.loader import Loader, LoadItem, LoadSettings, LoadSummary
from core.mapping import LOAD_ORDER, TARGET_LOAD_ORDER, TransformContext
from core.pipeline.delta_dry import (
    PlannedWrite,
    RecordingDestination,
    scratch_store,
    with_source_keys,
)
from core.pipeline.delta_history import delete_candidates, update_candidates
from core.pipeline.delta_removal import (
    DELTA_SEEN,
    HighWater,
    mark_gone_children,
    mark_removed,
)
from core.pipeline.delta_source import store_rows
from core.pipeline.local import LocalStage, LocalSummary
from core.pipeline.pending import Blocked, pending
from core.pipeline.run import Progress, SilentProgress, new_run_id
from core.pipeline.seen_keys import SeenKeys
from core.ports.destination import Destination
from core.ports.source import Source, SourceRow
from core.schema_spec import SchemaSpec
from core.updater import Conflict, UpdateItem, Updater, UpdateSettings, UpdateSummary
from core.workspace import Workspace, private_dir
from events.store import NewEvent
from events.types import Event, RunFinished, RunStarted

__all__ = ["DeltaOptions", "DeltaResult", "DeltaRun", "dry_run_workspace"]


class DeltaOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to apply a delta.

    Attributes:
        dry_run: record and send nothing; report exactly what would be sent.
        apply_deletes: soft-delete in Twenty the records removed or deleted in the source.
        force: overwrite records edited in Twenty since our last write (conflicts).
    """

    dry_run: bool = False
    apply_deletes: bool = False
    force: bool = False


class DeltaResult(msgspec.Struct, kw_only=True):
    """What a delta found and did (keys and ids only, never patient values)."""

    run_id: str
    export: str
    is_delta: bool
    dry_run: bool = False
    outcome: Literal["completed", "interrupted", "failed", "timed_out"] = "completed"
    local: dict[str, LocalSummary] = msgspec.field(default_factory=dict)
    created: dict[str, LoadSummary] = msgspec.field(default_factory=dict)
    updated: dict[str, UpdateSummary] = msgspec.field(default_factory=dict)
    deleted: dict[str, UpdateSummary] = msgspec.field(default_factory=dict)
    removed: list[str] = msgspec.field(default_factory=list)
    deletes_pending: list[str] = msgspec.field(default_factory=list)
    blocked: list[Blocked] = msgspec.field(default_factory=list)
    high_water: dict[str, str] = msgspec.field(default_factory=dict)
    planned: list[PlannedWrite] = msgspec.field(default_factory=list)
    write_requests: int = 0  # a dry run: the write requests the real delta would send
    seconds: float = 0.0
    detect_seconds: float = 0.0  # reading the export and finding what changed (local stages)

    @property
    def conflicts(self) -> list[Conflict]:
        """Every conflict found by the updates and the soft deletes."""
        found = [c for s in self.updated.values() for c in s.conflicts]
        return found + [c for s in self.deleted.values() for c in s.conflicts]

    def sent(self) -> dict[str, int]:
        """Records written to Twenty (or, in a dry run, that would be), by operation."""
        return {
            "created": sum(s.created for s in self.created.values()),
            "updated": sum(s.updated + s.restored for s in self.updated.values()),
            "soft_deleted": sum(s.soft_deleted for s in self.deleted.values()),
        }


class DeltaRun:
    """One `ferry delta`: local stages on the new export, then creates, updates, deletes."""

    def __init__(
        self,
        workspace: Workspace,
        export: Source,
        context: TransformContext,
        spec: SchemaSpec,
        destination: Destination,
        *,
        clock: Clock,
        options: DeltaOptions,
        progress: Progress | None = None,
    ) -> None:
        self._progress = progress or SilentProgress()
        self._ws = workspace
        self._export = export
        self._context = context
        self._spec = spec
        self._options = options
        self._clock = clock
        self._destination: Destination = (
            RecordingDestination(destination) if options.dry_run else destination
        )
        info = export.export_info()
        self.result = DeltaResult(
            run_id=new_run_id(clock.now()),
            export=export.location,
            is_delta=info.is_delta,
            dry_run=options.dry_run,
        )

    def _record_run(self, event: Event) -> None:
        run_id = self.result.run_id
        self._ws.store.append([NewEvent(f"run:{run_id}", event)], run_id=run_id)

    async def execute(self, mapping_hash: str, refresh: frozenset[str]) -> DeltaResult:
        """Apply the export; always closes the run with RunFinished.

        `refresh`: streams whose payload may change although their row did not
        (core.pipeline.delta_source.owners_to_refresh).
        """
        started = self._clock.monotonic()
        present = [e for e in LOAD_ORDER if e in self._export.entities()]
        self._record_run(
            RunStarted(
                run_id=self.result.run_id,
                command="delta",
                entities=present,
                options={
                    "export": self._export.location,
                    "is_delta": self.result.is_delta,
                    "apply_deletes": self._options.apply_deletes,
                    "force": self._options.force,
                },
            )
        )
        try:
            self._local(present, mapping_hash, refresh)
            self.result.detect_seconds = self._clock.monotonic() - started
            await self._load()
            await self._deletes()
        except BaseException as error:
            self.result.outcome = (
                "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            )
            self._finish(started, type(error).__name__)
            raise
        self._finish(started, "")
        return self.result

    def _finish(self, started: float, message: str) -> None:
        self.result.seconds = self._clock.monotonic() - started
        if isinstance(self._destination, RecordingDestination):
            self.result.planned = with_source_keys(
                self._destination.planned, self._ws.store.connection
            )
            self.result.write_requests = self._destination.write_requests
        counts = {**self.result.sent(), "conflicts": len(self.result.conflicts)}
        counts["removed"] = len(self.result.removed)
        self._record_run(RunFinished(outcome=self.result.outcome, counts=counts, message=message))

    # -- local stages -----------------------------------------------------------------------

    def _local(self, present: list[str], mapping_hash: str, refresh: frozenset[str]) -> None:
        conn = self._ws.store.connection
        stage = LocalStage(
            self._ws.store,
            self._context,
            self._spec,
            run_id=self.result.run_id,
            mapping_hash=mapping_hash,
            chunk_size=self._ws.config.run.chunk_size,
            refresh=refresh,
        )
        marks = HighWater()
        seen = None if self.result.is_delta else SeenKeys(conn, DELTA_SEEN)
        for entity in LOAD_ORDER:
            owners = {s for s in refresh if s.startswith(f"{entity}:")}
            if entity not in present and not (owners and self.result.is_delta):
                continue
            rows = self._rows(entity, owners, present, marks)
            if seen is not None:
                rows = seen.track(rows)
            self._progress.stage(entity, "read", None)
            self.result.local[entity] = stage.run(rows, self._advancer(entity, "read"))
        self.result.high_water = {f: m.isoformat(sep=" ") for f, m in sorted(marks.marks.items())}
        if seen is not None:
            store = self._ws.store
            self.result.removed = mark_removed(
                store, present, self._export.location, self.result.run_id
            )
        self.result.removed += mark_gone_children(
            self._ws.store, self._export.location, self.result.run_id
        )

    def _advancer(self, entity: str, stage: str) -> Callable[[int], None]:
        def advance(count: int) -> None:
            self._progress.advance(entity, stage, count)

        return advance

    def _rows(
        self, entity: str, owners: set[str], present: list[str], marks: HighWater
    ) -> Iterator[SourceRow]:
        """The export's rows, then (a delta) the known rows of owners the bundle lacks."""
        keys: set[str] = set()
        if entity in present:
            for row in marks.track(self._export.rows(entity)):
                if row.stream_id in owners:
                    keys.add(row.stream_id)
                yield row
        missing = owners - keys
        if missing and self.result.is_delta:
            conn = self._ws.store.connection
            yield from (r for r in store_rows(conn, entity) if r.stream_id in missing)

    # -- writes -----------------------------------------------------------------------------

    async def _load(self) -> None:
        config = self._ws.config
        load = LoadSettings(
            run_id=self.result.run_id,
            max_in_flight=config.twenty.max_in_flight,
            on_conflict=config.run.on_conflict,
        )
        for entity in (*LOAD_ORDER, *TARGET_LOAD_ORDER):
            conn = self._ws.store.connection
            # Creates counted as they go; the total is unknown until the updates are read.
            self._progress.stage(entity, "write", None)
            loader = Loader(self._ws.store, self._destination, load)
            summary = await loader.load(self._creates(entity))
            if summary.batches:
                self.result.created[entity] = summary
            updater = Updater(self._ws.store, self._destination, self._update_settings())
            updates = await updater.apply(update_candidates(conn, entity))
            if updates != UpdateSummary():
                self.result.updated[entity] = updates

    def _update_settings(self) -> UpdateSettings:
        return UpdateSettings(
            run_id=self.result.run_id,
            max_in_flight=self._ws.config.twenty.max_in_flight,
            force=self._options.force,
        )

    def _creates(self, entity: str) -> Iterator[LoadItem]:
        for chunk in pending(self._ws.store.connection, entity, self._ws.namespace):
            for item in chunk:
                if isinstance(item, Blocked):
                    self.result.blocked.append(item)
                else:
                    self._progress.advance(entity, "write", 1)
                    yield item

    async def _deletes(self) -> None:
        conn = self._ws.store.connection
        for entity in reversed((*LOAD_ORDER, *TARGET_LOAD_ORDER)):
            if not self._options.apply_deletes:
                chunks: Iterable[list[UpdateItem]] = delete_candidates(conn, entity)
                self.result.deletes_pending += [i.stream_id for c in chunks for i in c]
                continue
            updater = Updater(self._ws.store, self._destination, self._update_settings())
            summary = await updater.apply(delete_candidates(conn, entity))
            if summary != UpdateSummary():
                self.result.deleted[entity] = summary


def dry_run_workspace(workspace: Workspace) -> tuple[Workspace, Path]:
    """A copy of the workspace whose store is a scratch copy; remove the folder afterwards."""
    folder = private_dir(workspace.workdir / ".delta-dry-run")
    shutil.rmtree(folder)
    folder = private_dir(folder)
    store = scratch_store(workspace.store, folder)
    return msgspec.structs.replace(workspace, store=store), folder

"""One run of the migration: local stages for every entity, then loading in Twenty's order.

Resume is the same command again: the local stages skip every row whose content hash the
store already holds, and loading starts with what is pending (`loading` records are
reconciled by id before anything is resent). A stop request (Ctrl-C, `--max-duration`) is
honoured between chunks: requests in flight settle, their outcomes are recorded, and the run
is closed with RunFinished(interrupted | timed_out).
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol

import msgspec

from core.clock import Clock, isoformat_utc
from core.loader import Loader, LoadItem, LoadSettings, LoadSummary
from core.mapping import TARGET_LOAD_ORDER, TransformContext
from core.pipeline.delta_history import update_candidates
from core.pipeline.delta_removal import settle_rolled_back_targets
from core.pipeline.local import LocalStage, LocalSummary
from core.pipeline.pending import Blocked, count_pending, has_pending, pending
from core.pipeline.shortfalls import shortfalls
from core.ports.destination import Destination
from core.ports.source import Source, SourceRow
from core.rate_limit import PauseNotice
from core.schema_spec import SchemaSpec
from core.source_audit.decisions import unmerged_patients
from core.updater import Updater, UpdateSettings, UpdateSummary
from core.workspace import Workspace
from events.errors import StoreReplacedError
from events.store import NewEvent
from events.types import Event, RunFinished, RunPaused, RunResumed, RunStarted


class Progress(Protocol):
    """What a run tells its watcher (the CLI draws bars from it)."""

    def stage(self, entity: str, stage: str, total: int | None) -> None:
        """A stage of an entity begins (`local` or `load`)."""

    def advance(self, entity: str, stage: str, count: int) -> None:
        """`count` more records went through the stage."""

    def note(self, message: str) -> None:
        """Something the operator should see (a pause, a blocked record)."""


class SilentProgress:
    """A Progress that shows nothing (tests, scripts)."""

    def stage(self, entity: str, stage: str, total: int | None) -> None:
        """Ignore."""

    def advance(self, entity: str, stage: str, count: int) -> None:
        """Ignore."""

    def note(self, message: str) -> None:
        """Ignore."""


class RunRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What to run.

    Attributes:
        command: the command name recorded in RunStarted (`run`, `sample`, `demo`).
        entities: the entities to work on, in load order (all when empty).
        keys: per entity, the only source keys to work on (a sample); None = every row.
        max_duration_s: stop cleanly after this many seconds.
        retry_failed: also resend records whose last load failed for a non-retryable cause.
        load: False runs the local stages only (plan, dry runs).
        force: write the source's values over records edited in Twenty since our last write
            (conflicts); without it they are left alone and reported.
    """

    command: str = "run"
    entities: tuple[str, ...] = ()
    keys: dict[str, frozenset[str]] | None = None
    max_duration_s: float | None = None
    retry_failed: bool = False
    load: bool = True
    force: bool = False


Outcome = Literal["completed", "interrupted", "failed", "timed_out"]


class RunResult(msgspec.Struct, kw_only=True):
    """What a run did."""

    run_id: str
    outcome: Outcome = "completed"
    local: dict[str, LocalSummary] = msgspec.field(default_factory=dict)
    load: dict[str, LoadSummary] = msgspec.field(default_factory=dict)
    blocked: dict[str, list[Blocked]] = msgspec.field(default_factory=dict)
    updated: dict[str, UpdateSummary] = msgspec.field(default_factory=dict)
    message: str = ""
    reasons: list[str] = msgspec.field(default_factory=list)
    seconds: float = 0.0


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: `20261127T031500-3fa2`."""
    return f"{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"


class Run:
    """Drives one run; the CLI builds it with real adapters, tests with the sandbox."""

    def __init__(
        self,
        workspace: Workspace,
        source: Source,
        context: TransformContext | Callable[[], TransformContext],
        spec: SchemaSpec,
        destination: Destination,
        *,
        clock: Clock,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self._ws = workspace
        self._source = source
        # A factory is called only when the local stages need it: a resume loads what is
        # pending first, without waiting for the export's pre-pass.
        self._context_or_factory = context
        self._spec = spec
        self._destination = destination
        self._clock = clock
        self._progress = progress or SilentProgress()
        self._external_stop = should_stop
        self._deadline: float | None = None
        self.result = RunResult(run_id=new_run_id(clock.now()))

    # -- stop handling --------------------------------------------------------------------

    def _should_stop(self) -> bool:
        if self._external_stop():
            self.result.outcome = "interrupted"
            return True
        if self._deadline is not None and self._clock.monotonic() >= self._deadline:
            self.result.outcome = "timed_out"
            return True
        return False

    def record_run_event(self, event: Event) -> None:
        """Append a fact about this run to its own stream."""
        run_id = self.result.run_id
        self._ws.store.append([NewEvent(f"run:{run_id}", event)], run_id=run_id)

    def on_pause(self, notice: PauseNotice) -> None:
        """The rate limiter must wait long: record it durably and tell the operator."""
        until = isoformat_utc(self._clock.now() + timedelta(seconds=notice.seconds))
        self.record_run_event(RunPaused(until=until, why=notice.reason))
        self._progress.note(f"paused {notice.seconds:.0f}s: {notice.reason}")
        self._paused = True

    def on_resume(self) -> None:
        """Close a recorded pause."""
        if getattr(self, "_paused", False):
            self._paused = False
            self.record_run_event(RunResumed(why="wait_over"))

    # -- the run ----------------------------------------------------------------------------

    async def execute(
        self, request: RunRequest, order: Sequence[str], targets: Sequence[str], mapping_hash: str
    ) -> RunResult:
        """Run the local stages and the loads; always closes the run with RunFinished.

        `order` lists the source entities in load order; `targets` the child records (task and
        note targets) loaded after all of them.
        """
        started = self._clock.monotonic()
        if request.max_duration_s is not None:
            self._deadline = started + request.max_duration_s
        entities = [e for e in order if not request.entities or e in request.entities]
        children = list(targets)
        self.record_run_event(
            RunStarted(
                run_id=self.result.run_id,
                command=request.command,
                entities=entities,
                options={
                    "max_duration_s": request.max_duration_s,
                    "sample": request.keys is not None,
                },
            )
        )
        try:
            if request.load and has_pending(self._ws.store.connection):
                # Resume: finish what an earlier run left pending before reading the export.
                await self._load_stages([*entities, *children], request, stage="resume")
            if not self._stopped():
                self._local_stages(entities, request, mapping_hash)
            if request.load and not self._stopped():
                self.result.blocked.clear()  # what stays blocked is reported by the last pass
                await self._load_stages([*entities, *children], request)
        except BaseException as error:
            self.result.outcome = (
                "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            )
            self.result.message = type(error).__name__ if self.result.outcome == "failed" else ""
            self._finish_after_error(started)
            raise
        if request.load and self.result.outcome == "completed":
            self._judge([*entities, *children], request.command)
        self._finish(started)
        return self.result

    def _judge(self, entities: list[str], command: str) -> None:
        """A run that reached its end is `completed` only when the work is done."""
        max_share = self._ws.config.run.max_rejected_share
        if command == "sample":  # the sample takes rejected rows on purpose, to show them
            max_share = 1.0
        reasons = shortfalls(self._ws.store.connection, entities, max_share)
        if reasons:
            self.result.outcome = "failed"
            self.result.reasons = reasons
            self.result.message = "\n".join(reasons)

    def _finish_after_error(self, started: float) -> None:
        """Close the run after an error, unless the store itself is what failed."""
        # When the file the run was writing is gone, nothing more can be recorded there.
        with contextlib.suppress(StoreReplacedError):
            self._finish(started)

    def _stopped(self) -> bool:
        return self.result.outcome != "completed" or self._should_stop()

    def _finish(self, started: float) -> None:
        self.result.seconds = self._clock.monotonic() - started
        counts: dict[str, int] = {}
        for summary in self.result.load.values():
            counts["created"] = counts.get("created", 0) + summary.created
            counts["linked"] = counts.get("linked", 0) + summary.linked
            counts["failed"] = counts.get("failed", 0) + summary.failed
        for update in self.result.updated.values():
            counts["updated"] = counts.get("updated", 0) + update.updated + update.restored
            counts["conflicts"] = counts.get("conflicts", 0) + len(update.conflicts)
        counts["blocked"] = sum(len(b) for b in self.result.blocked.values())
        outcome = self.result.outcome
        self.record_run_event(
            RunFinished(outcome=outcome, counts=counts, message=self.result.message)
        )

    def _local_stages(self, entities: list[str], request: RunRequest, mapping_hash: str) -> None:
        owns_context = callable(self._context_or_factory)
        context = self._context()
        try:
            self._local_entities(entities, request, mapping_hash, context)
        finally:
            if owns_context:
                # Built here from the factory: its scratch database goes with the stages.
                context.close()

    def _local_entities(
        self,
        entities: list[str],
        request: RunRequest,
        mapping_hash: str,
        context: TransformContext,
    ) -> None:
        present = set(self._source.entities())
        stage = LocalStage(
            self._ws.store,
            context,
            self._spec,
            run_id=self.result.run_id,
            mapping_hash=mapping_hash,
            chunk_size=self._ws.config.run.chunk_size,
            should_stop=self._should_stop,
            refresh=rolled_back_owners(self._ws.store.connection)
            | unmerged_patients(self._ws.store, context.settings.merged_patients),
        )
        for entity in entities:
            if entity not in present or self._stopped():
                continue
            self._progress.stage(entity, "local", None)
            rows: Iterable[SourceRow] = self._source.rows(entity)
            if request.keys is not None:
                wanted = request.keys.get(entity, frozenset())
                rows = (r for r in rows if r.key in wanted)
            self.result.local[entity] = stage.run(rows, self._advancer(entity, "local"))
        if not self._stopped():
            settle_rolled_back_targets(self._ws.store, self.result.run_id)

    def _advancer(self, entity: str, stage: str) -> Callable[[int], None]:
        def advance(count: int) -> None:
            self._progress.advance(entity, stage, count)

        return advance

    def _context(self) -> TransformContext:
        if callable(self._context_or_factory):
            self._context_or_factory = self._context_or_factory()
        return self._context_or_factory

    async def _load_stages(
        self, entities: list[str], request: RunRequest, *, stage: str = "load"
    ) -> None:
        settings = LoadSettings(
            run_id=self.result.run_id,
            max_in_flight=self._ws.config.twenty.max_in_flight,
            on_conflict=self._ws.config.run.on_conflict,
        )
        for entity in entities:
            if self._stopped():
                return
            look_first = self._ws.rebuilt and not _any_in_twenty(self._ws.store.connection, entity)
            loader = Loader(
                self._ws.store,
                self._destination,
                msgspec.structs.replace(settings, look_first=look_first),
            )
            self._progress.stage(entity, stage, count_pending(self._ws.store.connection, entity))
            summary = await loader.load(self._items(entity, request, stage))
            self.result.load[entity] = _added(self.result.load.get(entity), summary)
            await self._updates(entity, request)
            self.on_resume()

    async def _updates(self, entity: str, request: RunRequest) -> None:
        """Bring records already in Twenty up to the source: a delta's rows re-read, an update
        left in doubt by a crash, a record a partial rollback put back to older values."""
        if request.keys is not None:
            return  # a sample creates its slice only
        settings = UpdateSettings(
            run_id=self.result.run_id,
            max_in_flight=self._ws.config.twenty.max_in_flight,
            force=request.force,
            command=request.command,
        )
        updater = Updater(self._ws.store, self._destination, settings)
        summary = await updater.apply(update_candidates(self._ws.store.connection, entity))
        if summary != UpdateSummary():
            self.result.updated[entity] = summary

    def _items(self, entity: str, request: RunRequest, stage: str) -> Iterator[LoadItem]:
        wanted = None if request.keys is None else request.keys.get(entity)
        conn = self._ws.store.connection
        for chunk in pending(
            conn, entity, self._ws.namespace, retry_all_failed=request.retry_failed
        ):
            if self._should_stop():
                return
            for item in chunk:
                if wanted is not None and item.stream_id.partition(":")[2] not in wanted:
                    continue
                if isinstance(item, Blocked):
                    self.result.blocked.setdefault(entity, []).append(item)
                    continue
                self._progress.advance(entity, stage, 1)
                yield item


def rolled_back_owners(conn: sqlite3.Connection) -> frozenset[str]:
    """Rows to transform again because a record made from them, but not their own, was
    rolled back: the owners of rolled-back task and note targets (`task_target:appointment:1`
    is made from `appointment:1`, whose own row may be unchanged and still in Twenty)."""
    owners: set[str] = set()
    for child in TARGET_LOAD_ORDER:
        rows = conn.execute(
            "SELECT stream_id FROM record_state WHERE stream_id >= ? AND stream_id < ? "
            "AND state = 'rolled_back'",
            (f"{child}:", f"{child};"),
        )
        owners.update(stream_id.partition(":")[2] for (stream_id,) in rows)
    return frozenset(owners)


def _any_in_twenty(conn: sqlite3.Connection, entity: str) -> bool:
    """Whether the store knows of any record of `entity` in Twenty (a rebuilt store looks
    records up before creating them only until it does)."""
    row = conn.execute(
        "SELECT 1 FROM record_state WHERE entity = ? AND state IN ('loaded', 'verified') LIMIT 1",
        (entity,),
    ).fetchone()
    return row is not None


def _added(before: LoadSummary | None, more: LoadSummary) -> LoadSummary:
    """Two passes' load counts, added up."""
    if before is None:
        return more
    fields = LoadSummary.__struct_fields__
    return LoadSummary(**{f: getattr(before, f) + getattr(more, f) for f in fields})

"""A migration session: the confirmed mapping, the export and Twenty, put together for a run.

`cli.py` injects the two adapters (how to open an export, how to build a Twenty client), so
that core never imports them. `sample`, `run` and `demo` all go through `Session.run`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import msgspec

from core.clock import Clock, isoformat_utc
from core.mapping import LOAD_ORDER, TARGET_LOAD_ORDER, Mapping, TransformSettings, prepare_context
from core.mapping.gate import check_gate, confirmed_hash, confirmed_headers
from core.mapping.spec import schema_spec_from_mapping
from core.members import MemberReport, check_members, providers_from_rows
from core.pipeline.run import Progress, Run, RunRequest, RunResult
from core.pipeline.source_view import SourceView
from core.ports.destination import Destination, DestinationSettings, MetadataStore, RequestGate
from core.ports.source import Source
from core.rate_limit import LimiterState, PauseNotice, RateLimiter, parse_windows
from core.run_lock import RunLock, hold_workdir
from core.schema_spec import SchemaSpec
from core.source_audit.decisions import merges
from core.workspace import Workspace


class DestinationClient(Destination, MetadataStore, Protocol):
    """The Twenty client: records and metadata, opened and closed as an async context manager.

    `__aexit__` takes the three values Python passes (as `contextlib` declares them), so a
    client with the usual signature matches; returning None or False lets errors propagate.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool | None: ...


# (export path, entity -> {header -> canonical column} from the confirmed mapping, or None)
OpenSource = Callable[[Path, dict[str, dict[str, str]] | None], Source]
MakeClient = Callable[[DestinationSettings, RequestGate], DestinationClient]


LIMITER_KEY = "twenty.rate_limiter"
BATCH_SIZE_KEY = "twenty.learned_batch_size"


def destination_settings(workspace: Workspace) -> DestinationSettings:
    """How to reach Twenty, from ferry.toml and what earlier processes learned (store)."""
    twenty = workspace.config.twenty
    learned = workspace.store.meta(BATCH_SIZE_KEY)
    return DestinationSettings(
        url=twenty.url,
        api_key_env=twenty.api_key_env,
        batch_size=twenty.start_batch_size(int(learned) if learned else None),
        mutation_max_records=twenty.mutation_max_records,
        timeout_s=twenty.timeout_s,
    )


def shared_gate(
    workspace: Workspace, on_pause: Callable[[PauseNotice], None] | None = None
) -> RateLimiter:
    """The request budget, started from what the last process left in the store.

    The limiter saves its state in the store every few seconds while it spends and exactly
    when it closes, so a process restarted after a crash does not burst into a Twenty whose
    bucket the dead process emptied (core.rate_limit.RateLimiter.resume).
    """
    store = workspace.store

    def save(state: LimiterState) -> None:
        store.set_meta(LIMITER_KEY, msgspec.json.encode(state).decode())

    gate = RateLimiter(
        parse_windows(workspace.config.twenty.rate_limit), on_pause=on_pause, on_state=save
    )
    saved = store.meta(LIMITER_KEY)
    try:
        state = msgspec.json.decode(saved, type=LimiterState) if saved else None
    except msgspec.DecodeError:
        state = None  # unreadable: start as if none was saved
    gate.resume(state)
    return gate


def remember(workspace: Workspace, client: object, gate: RateLimiter) -> None:
    """Keep what this process learned for the next: the budget left, the batch size taken."""
    gate.close()
    learned = getattr(client, "learned_batch_size", None)
    if workspace.config.twenty.batch_size == "auto" and isinstance(learned, int):
        workspace.store.set_meta(BATCH_SIZE_KEY, str(learned))


@asynccontextmanager
async def open_client(
    workspace: Workspace,
    make_client: MakeClient,
    on_pause: Callable[[PauseNotice], None] | None = None,
) -> AsyncIterator[DestinationClient]:
    """A Twenty client on the shared budget; what it learned is kept when it closes."""
    gate = shared_gate(workspace, on_pause)
    async with make_client(destination_settings(workspace), gate) as client:
        try:
            yield client
        finally:
            remember(workspace, client, gate)


class Session:
    """One work directory's migration, with its adapters injected."""

    def __init__(
        self, workspace: Workspace, open_source: OpenSource, make_client: MakeClient, clock: Clock
    ) -> None:
        self.workspace = workspace
        # The confirmed mapping says what every header means; the reader keys rows by it.
        self.headers = confirmed_headers(workspace.mapping_path)
        self.source = open_source(Path(workspace.config.source), self.headers)
        self._make_client = make_client
        self._clock = clock
        self._pause_sink: Callable[[PauseNotice], None] = lambda notice: None

    def mapping(self) -> Mapping:
        """The confirmed mapping; refuses when unconfirmed, changed, or not covering the export.

        Raises:
            MappingError: (and its subclasses) naming what to do.
        """
        return check_gate(self.workspace.mapping_path, self.workspace.store, self.source)

    def spec(self) -> SchemaSpec:
        """The data model the confirmed mapping needs."""
        return schema_spec_from_mapping(self.mapping())

    @asynccontextmanager
    async def client(self) -> AsyncIterator[DestinationClient]:
        """A Twenty client with the configured budget; long waits go to the running run."""
        async with open_client(self.workspace, self._make_client, self._on_pause) as client:
            yield client

    def _on_pause(self, notice: PauseNotice) -> None:
        self._pause_sink(notice)

    async def members(self, client: Destination) -> MemberReport:
        """Providers matched to workspace members (placeholder from the config)."""
        providers = providers_from_rows(self.source.rows("provider"))
        config = self.workspace.config
        placeholder = config.run.placeholder_owner or None
        return await check_members(providers, client, placeholder, config.members)

    async def run(
        self,
        request: RunRequest,
        *,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> RunResult:
        """Run the migration (or a slice of it) under the confirmed mapping.

        Raises:
            MappingError: the mapping gate refused.
            FatalForRunError: Twenty refused the run (auth, data model).
            WorkdirBusyError: another process is running in this work directory.
        """
        started_at = isoformat_utc(self._clock.now())
        with hold_workdir(self.workspace.workdir, request.command, started_at) as lock:
            return await self._run(request, lock, progress, should_stop)

    async def _run(
        self,
        request: RunRequest,
        lock: RunLock,
        progress: Progress | None,
        should_stop: Callable[[], bool],
    ) -> RunResult:
        mapping = self.mapping()
        spec = schema_spec_from_mapping(mapping)
        store = self.workspace.store
        async with self.client() as client:
            report = await self.members(client)
            settings = TransformSettings(
                namespace=self.workspace.namespace,
                owner_for=report.owner_for,
                merged_patients=merges(store),
            )
            # The export as it stands: the first one with every delta applied since.
            view = SourceView(self.source, store.connection)
            run = Run(
                self.workspace,
                view,
                lambda: prepare_context(view, mapping, settings),
                spec,
                client,
                clock=self._clock,
                progress=progress,
                should_stop=should_stop,
            )
            lock.name_run(run.result.run_id)
            self._pause_sink = run.on_pause
            try:
                return await run.execute(
                    request, LOAD_ORDER, TARGET_LOAD_ORDER, confirmed_hash(store) or ""
                )
            finally:
                self._pause_sink = lambda notice: None

"""Ferry's command line: the composition root.

`ferry` reads the work directory option (and FERRY_WORKDIR) and builds one `Composition`:
ferry.toml with each command's Twenty options over it, the store, the workspace, the session
with the real adapters (the Dental-Exec reader, the Twenty client), and the event loop, one
way each. The commands (package `commands`, one module per group) get it as their `App`.
Errors Ferry raises on purpose (`FerryError` and `EventStoreError`) become one clear line on
stderr and the exit code of `core.exit_codes`, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from commands import (
    config,
    delta,
    demo,
    events,
    mapping,
    members,
    plan,
    report,
    rollback,
    run,
    sample,
    sandbox,
    schema,
    source,
    verify,
)
from commands.context import App
from commands.options import TwentyOptions
from commands.render import fail
from core import exit_codes
from core.errors import FerryError
from events.errors import EventStoreError

if TYPE_CHECKING:  # imported where used: `ferry --help` need not load the store
    from core.config import WorkspaceConfig
    from core.ports.destination import DestinationSettings, RequestGate
    from core.ports.source import Source
    from core.session import DestinationClient, Session
    from core.workspace import Workspace
    from events.store import EventStore

T = TypeVar("T")


def _version() -> str:
    try:
        return version("ferry")
    except PackageNotFoundError:  # running from a checkout without install
        return "0+unknown"


def _open_export(path: Path, headers: dict[str, dict[str, str]] | None = None) -> Source:
    """The Dental-Exec reader: the one adapter for the source."""
    from adapters.dental_exec import open_export

    return open_export(path, headers)


def _twenty_client(settings: DestinationSettings, gate: RequestGate) -> DestinationClient:
    """The Twenty REST client: the one adapter for the destination."""
    from adapters.twenty import TwentyClient

    return TwentyClient(settings, gate=gate)


class Composition:
    """Everything a command needs, built from the work directory one way each (an `App`)."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def store_path(self) -> Path:
        return self._workdir / "ferry.db"

    @property
    def mapping_path(self) -> Path:
        return self._workdir / "mapping.toml"

    @property
    def version(self) -> str:
        return _version()

    def has_config(self) -> bool:
        from core.config import CONFIG_NAME

        return (self._workdir / CONFIG_NAME).exists()

    def store(self, *, create: bool = False) -> EventStore:
        from core.lifecycle import Lifecycle
        from events.store import EventStore

        return EventStore.open(self.store_path, transition=Lifecycle().next_state, create=create)

    def config(self, twenty: TwentyOptions | None = None) -> WorkspaceConfig:
        from core.config import load_config, override

        return override(load_config(self._workdir), **(twenty or TwentyOptions()).overrides())

    def workspace(self, twenty: TwentyOptions | None = None) -> Workspace:
        from core.workspace import open_workspace

        return open_workspace(self._workdir, self.config(twenty))

    def session(self, twenty: TwentyOptions | None = None) -> Session:
        from core.clock import SystemClock
        from core.session import Session

        return Session(self.workspace(twenty), _open_export, _twenty_client, SystemClock())

    def open_export(self, path: Path, headers: dict[str, dict[str, str]] | None = None) -> Source:
        return _open_export(path, headers)

    def held(self, command: str, *, hold: bool = True) -> AbstractContextManager[object]:
        from core.run_lock import hold_workdir

        if not hold:
            return contextlib.nullcontext()
        return hold_workdir(self._workdir, command, datetime.now(UTC).isoformat(timespec="seconds"))

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        import anyio

        return anyio.run(work)

    def call(
        self, on: Workspace | TwentyOptions, work: Callable[[DestinationClient], Awaitable[T]]
    ) -> T:
        from core.ports.destination import DestinationSettings
        from core.rate_limit import RateLimiter, parse_windows
        from core.session import open_client

        async def with_client() -> T:
            if not isinstance(on, TwentyOptions):
                async with open_client(on, _twenty_client) as client:
                    return await work(client)
            settings = DestinationSettings(
                url=on.url or "", api_key_env=on.api_key_env or "TWENTY_API_KEY"
            )
            gate = RateLimiter(parse_windows(on.rate_limit or "100/60s"))
            async with _twenty_client(settings, gate) as client:
                return await work(client)

        return self.run(with_client)


class _FerryGroup(click.Group):
    """The command group; SQLite's own errors on the store become Ferry's, naming the file.

    A command that fails inside a task group raises an exception group: the error Ferry
    raised on purpose is taken out of it, so `main` prints one line instead of a traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BaseExceptionGroup as group:
            leaf = _plain_error(group)
            if leaf is None:
                raise
            raise _translated(ctx, leaf) from group
        except sqlite3.DatabaseError as error:
            raise _translated(ctx, error) from error


def _plain_error(group: BaseExceptionGroup[Any]) -> BaseException | None:
    """The first error of a group that Ferry can say in one line (None: none is)."""
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            found = _plain_error(error)
            if found is not None:
                return found
        elif isinstance(error, FerryError | EventStoreError | sqlite3.DatabaseError):
            return error
    return None


def _translated(ctx: click.Context, error: BaseException) -> BaseException:
    if isinstance(error, sqlite3.DatabaseError):
        from events.errors import store_error

        where = ctx.obj.store_path if isinstance(ctx.obj, Composition) else "ferry.db"
        return store_error(where, error)
    return error


@click.group(cls=_FerryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="ferry")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    envvar="FERRY_WORKDIR",
    help="Work directory: ferry.db, ferry.toml, mapping.toml, reports/ (env FERRY_WORKDIR).",
)
@click.pass_context
def ferry(ctx: click.Context, workdir: Path) -> None:
    """Ferry: migrate a Dental-Exec export into Twenty CRM; every record's journey on record."""
    app: App = Composition(workdir)
    ctx.obj = app


for _module in (events, source, sandbox, schema, members, mapping, config, run, verify, plan,
                sample, demo, delta, rollback, report):  # fmt: skip
    for _command in _module.COMMANDS:
        ferry.add_command(_command)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the `ferry` console script."""
    try:
        return ferry.main(args=argv, prog_name="ferry", standalone_mode=True)
    except (FerryError, EventStoreError) as error:
        fail(str(error), exit_codes.FAILED)
    except KeyboardInterrupt:
        fail("interrupted", exit_codes.INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

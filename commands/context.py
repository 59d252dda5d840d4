"""What every command is handed: the `App` that `cli.py` builds from the work directory.

The App is the one way to open the store, the workspace (ferry.toml with the command's
overrides), the session, an export and a Twenty client, and the one way onto the event
loop; the commands never build them themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar, cast

import click

if TYPE_CHECKING:
    from commands.options import TwentyOptions
    from core.config import WorkspaceConfig
    from core.ports.source import Source
    from core.session import DestinationClient, Session
    from core.workspace import Workspace
    from events.store import EventStore

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class App(Protocol):
    """The work directory and everything built from it, one way each."""

    @property
    def workdir(self) -> Path: ...

    @property
    def store_path(self) -> Path: ...

    @property
    def mapping_path(self) -> Path: ...

    @property
    def version(self) -> str: ...

    def has_config(self) -> bool:
        """Whether the work directory has a ferry.toml (`ferry init` ran)."""
        ...

    def store(self, *, create: bool = False) -> EventStore:
        """The work directory's event store; a clear error when it is missing."""
        ...

    def config(self, twenty: TwentyOptions | None = None) -> WorkspaceConfig:
        """ferry.toml with the command's Twenty options over it."""
        ...

    def workspace(self, twenty: TwentyOptions | None = None) -> Workspace:
        """The work directory opened under `config(twenty)`; close it when done."""
        ...

    def session(self, twenty: TwentyOptions | None = None) -> Session:
        """The migration session of the work directory, with the real adapters."""
        ...

    def open_export(self, path: Path, headers: dict[str, dict[str, str]] | None = None) -> Source:
        """A Dental-Exec export read through the mapping's header meanings."""
        ...

    def held(self, command: str, *, hold: bool = True) -> AbstractContextManager[object]:
        """The work directory held for one command that writes (core.run_lock): a second
        `run`, `delta` or `rollback` on it is refused at once, naming the holder."""
        ...

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work()` on the event loop."""
        ...

    def call(
        self,
        on: Workspace | TwentyOptions,
        work: Callable[[DestinationClient], Awaitable[T]],
    ) -> T:
        """Run `work(client)` on the event loop with a Twenty client, then close the client.

        On a workspace the client spends the budget the last process left; on bare options
        (no work directory) it spends a fresh one.
        """
        ...


def app_of(ctx: click.Context) -> App:
    """The App that the root command put on the context."""
    return cast("App", ctx.find_root().obj)


def pass_app(command: Callable[Concatenate[App, P], R]) -> Callable[P, R]:
    """Give the command the App as its first argument."""

    @functools.wraps(command)
    def with_app(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(app_of(click.get_current_context()), *args, **kwargs)

    return with_app

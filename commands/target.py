"""Where a schema or members command works: the work directory's session, or bare options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from commands.context import App
from commands.options import TwentyOptions

if TYPE_CHECKING:
    from core.schema_spec import SchemaSpec
    from core.session import DestinationClient, Session

T = TypeVar("T")


class Target:
    """The work directory's session, or the bare options when there is no ferry.toml.

    With a ferry.toml in the work directory, the confirmed mapping decides the data model
    (the gate refuses a changed or unconfirmed mapping) and changes are recorded in ferry.db.
    Without one, the default data model is used and nothing is recorded.
    """

    def __init__(self, app: App, twenty: TwentyOptions) -> None:
        self._app = app
        self.session: Session | None = None
        if app.has_config():
            self.session = app.session(twenty)
        elif twenty.url is None:
            raise click.UsageError("give --twenty-url (or run `ferry init` in the work directory)")
        self._twenty = twenty

    def spec(self) -> SchemaSpec:
        from core.schema_spec import default_spec

        return self.session.spec() if self.session else default_spec()

    def call(self, work: Callable[[DestinationClient], Awaitable[T]]) -> T:
        """Run `work(client)` on the event loop with a client, then close everything."""
        try:
            on = self.session.workspace if self.session is not None else self._twenty
            return self._app.call(on, work)
        finally:
            self.close()

    def close(self) -> None:
        if self.session is not None:
            self.session.workspace.close()

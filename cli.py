"""Ferry's command line: the composition root.

Each command reads options (and the environment) into arguments, calls one library function,
and renders the result. This module is the only place that prints and calls `anyio.run`.
Errors Ferry raises on purpose (`FerryError` and `EventStoreError`) become one clear line on
stderr and exit code 1 or 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click

from core.errors import FerryError


def _version() -> str:
    try:
        return version("ferry")
    except PackageNotFoundError:  # running from a checkout without install
        return "0+unknown"


class Context:
    """What every command gets: the work directory and the paths derived from it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    @property
    def store_path(self) -> Path:
        return self.workdir / "ferry.db"


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = Context(workdir)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the `ferry` console script."""
    try:
        return ferry.main(args=argv, prog_name="ferry", standalone_mode=True)
    except FerryError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        _fail("interrupted", 130)


# Commands are registered below, one section per area. Keep each section's bodies thin:
# arguments in, one library call, rendering out.

# --- events and status (foundation) ---------------------------------------------------------

# --- source: Dental-Exec export (reader, audit, fixtures generator) -------------------------

# --- sandbox: the local Twenty server -------------------------------------------------------

# --- destination: schema, members -----------------------------------------------------------

# --- mapping --------------------------------------------------------------------------------

# --- runs: init, plan, sample, run, verify, demo --------------------------------------------

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

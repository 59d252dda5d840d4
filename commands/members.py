"""`ferry members check`: Dental-Exec providers matched to Twenty workspace members."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from commands.context import App, pass_app
from commands.options import TwentyOptions, twenty_options
from commands.render import warn
from commands.target import Target

if TYPE_CHECKING:
    from core.members import MemberReport


@click.group()
def members() -> None:
    """Twenty workspace members and the Dental-Exec providers they stand for."""


@members.command("check")
@twenty_options
@click.option(
    "--export",
    "export",
    default=None,
    type=click.Path(path_type=Path),
    help="The Dental-Exec export to read providers from (default: ferry.toml's source).",
)
@click.option(
    "--placeholder",
    default=None,
    envvar="FERRY_PLACEHOLDER_OWNER",
    help="Email of the member who gets unmatched assignments (default: ferry.toml).",
)
@pass_app
def members_check(
    app: App, twenty: TwentyOptions, export: Path | None, placeholder: str | None
) -> None:
    """Match providers to workspace members by email; list unmatched, missing and shared."""
    from core.members import check_members, providers_from_rows

    target = Target(app, twenty)
    session = target.session
    if session is not None:
        source = app.open_export(export, session.headers) if export else session.source
        placeholder = placeholder or session.workspace.config.run.placeholder_owner or None
    elif export is None:
        raise click.UsageError("give --export (or run `ferry init` in the work directory)")
    else:
        source = app.open_export(export)
    providers = providers_from_rows(source.rows("provider"))
    mapped = session.workspace.config.members if session is not None else {}
    report = target.call(lambda c: check_members(providers, c, placeholder, mapped))
    print_members(report)


def print_members(report: MemberReport) -> None:
    """The providers table, the warnings, the placeholder owner and the counts."""
    from core.reports.members_check import member_rows, member_warnings

    table = Table("provider", "name", "export email", "outcome", "records go to", "to do")
    for row in member_rows(report):
        cells = (row.code, row.name, row.email, row.outcome, row.member, row.action)
        table.add_row(*(escape(cell) for cell in cells))
    console = Console(highlight=False)
    console.print(table)
    for line in member_warnings(report):
        warn(console, line)
    owner = report.placeholder
    click.echo(
        f"placeholder owner: {owner.email} ({owner.id})"
        if owner
        else f"placeholder owner: none ({report.placeholder_problem}; set one with "
        "`ferry config set run.placeholder_owner EMAIL`)"
    )
    click.echo(f"{len(report.matched)} matched, {len(report.defaulted)} to the placeholder")


COMMANDS = (members,)

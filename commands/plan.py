"""`ferry plan`: the pre-flight check of a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
import msgspec
from rich.console import Console
from rich.table import Table

from commands.context import App, pass_app
from commands.options import TwentyOptions, twenty_options
from commands.render import echo_json, exit_with, warn
from core import exit_codes

if TYPE_CHECKING:
    from core.pipeline.plan import Plan


@click.command("plan")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--offline", is_flag=True, help="Do not contact Twenty: the schema and members go unchecked."
)
@twenty_options
@pass_app
def plan_command(app: App, as_json: bool, offline: bool, twenty: TwentyOptions) -> None:
    """Pre-flight: records, requests, duration under the budget, and every blocker (exit 1)."""
    from core.checks import check_workspace_destination, current_source, workspace_plan

    workspace = app.workspace(twenty)
    try:
        source = current_source(workspace, app.open_export)
        checked = (
            None
            if offline
            else app.call(workspace, lambda c: check_workspace_destination(workspace, source, c))
        )
        plan = workspace_plan(workspace, source, checked)
    finally:
        workspace.close()
    if as_json:
        echo_json({**msgspec.to_builtins(plan), "is_ready": plan.is_ready})
    else:
        print_plan(plan)
    exit_with(exit_codes.check_exit(plan.is_ready))


def print_plan(plan: Plan) -> None:
    """The plan's table per entity, the load and verify estimates, and every finding."""
    from core.pipeline.plan import NOT_RECORDS

    table = Table(
        "entity", "to send", "in Twenty", "rejected", "skipped", "not sent", "load requests",
        title=f"Plan (records counted from the {plan.counted_from})",
    )  # fmt: skip
    for e in plan.entities:
        cells = (e.to_send, e.in_twenty, e.rejected, e.skipped, e.not_sent, e.load_requests)
        table.add_row(e.entity, *(f"{c:,}" for c in cells))
    console = Console(highlight=False)
    console.print(table)
    for e in plan.entities:
        if e.not_sent:
            click.echo(f"{e.entity}: {e.not_sent:,} row(s) {NOT_RECORDS[e.entity]}")
    click.echo(
        f"load: {plan.load_requests:,} requests at {plan.batch_size} records each, "
        f"~{plan.load_seconds / 60:,.1f} min under {plan.rate_limit} "
        f"(tightest window {plan.tightest_window}); verify: {plan.verify_requests:,} "
        f"requests, ~{plan.verify_seconds / 60:,.1f} min"
    )
    for finding in plan.findings:
        warn(console, f"{finding.code}: {finding.what}", finding.severity.upper())
        click.echo(f"    what to do: {finding.fix}")
    click.echo("ready to run" if plan.is_ready else "not ready: resolve the blockers above")


COMMANDS = (plan_command,)

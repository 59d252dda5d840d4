"""`ferry verify`: read every migrated record back and reconcile with the source."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
import msgspec
from rich.console import Console
from rich.table import Table

from commands.context import App, pass_app
from commands.options import TwentyOptions, twenty_options
from commands.progress import RichProgress
from commands.render import echo_json, exit_with, next_step
from core import exit_codes

if TYPE_CHECKING:
    from core.pipeline.verification import VerificationOutcome


@click.command("verify")
@click.option(
    "--entity", default=None, help="Only read back this entity (the reconciliation covers all)."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the verification and reconciliation as JSON."
)
@twenty_options
@pass_app
def verify_command(app: App, entity: str | None, as_json: bool, twenty: TwentyOptions) -> None:
    """Read every migrated record back by id, compare each field; write reconciliation.md."""
    from core.checks import count_current_source, records_to_verify
    from core.clock import SystemClock
    from core.pipeline.verification import verify_workspace

    workspace = app.workspace(twenty)
    try:
        counted = count_current_source(workspace, app.open_export)
        now = SystemClock().now()
        # `--json` prints data only: no bar in the output a script parses.
        progress = RichProgress(Console(stderr=True, quiet=as_json))
        progress.stage("records", "read back", records_to_verify(workspace, entity))
        with progress.bars:
            outcome = app.call(
                workspace,
                lambda c: verify_workspace(
                    workspace,
                    c,
                    now,
                    entity=entity,
                    source_rows=counted.rows,
                    source_problem=counted.problem,
                    source_absent=counted.absent,
                    on_page=lambda n: progress.advance("records", "read back", n),
                ),
            )
    finally:
        workspace.close()
    if as_json:
        _echo_verification_json(outcome)
    else:
        print_verification(outcome)
        click.echo(next_step("verify", is_ok=outcome.is_clean))
    exit_with(exit_codes.check_exit(outcome.is_clean))


def _echo_verification_json(outcome: VerificationOutcome) -> None:
    from core.reports import reconciliation_data

    summary = outcome.summary
    echo_json(
        {
            "run_id": outcome.run_id,
            "checked": summary.checked,
            "failed": summary.failed,
            "entities": msgspec.to_builtins(summary.entities),
            "fields": summary.fields,
            "reconciliation": reconciliation_data(outcome.reconciliation),
            "deletes_waiting": outcome.deletes_waiting,
            "is_clean": outcome.is_clean,
            "report": str(outcome.report),
        }
    )


def print_verification(outcome: VerificationOutcome) -> None:
    """The read-back table, the fields that differ and the reconciliation's verdict."""
    from core.reports.reconciliation import OPEN_CATEGORIES

    table = Table("entity", "checked", "verified", "mismatched", "missing", title=outcome.run_id)
    for name, counts in outcome.summary.entities.items():
        cells = (counts.checked, counts.verified, counts.mismatched, counts.missing)
        table.add_row(name, *(f"{c:,}" for c in cells))
    Console().print(table)
    for field, count in sorted(outcome.summary.fields.items()):
        click.echo(f"differs: {field} in {count:,} record(s)")
    reconciliation = outcome.reconciliation
    if reconciliation.source_problem:
        click.echo(f"reconciliation {reconciliation.source_problem}: {outcome.report}")
        return
    adds_up = "adds up" if reconciliation.adds_up else "DOES NOT add up"
    click.echo(f"reconciliation {adds_up}: {outcome.report}")
    for entity, acknowledged in reconciliation.absent.items():
        how = "by acknowledgement" if acknowledged else "WITHOUT acknowledgement"
        click.echo(f"absent from the export {how}: {entity} (nothing of it migrated)")
    open_ = {
        category: sum(e.counts[category] for e in reconciliation.entities)
        for category in OPEN_CATEGORIES
    }
    for category, count in open_.items():
        if count:
            click.echo(f"not done: {count:,} record(s) {category.replace('_', ' ')}")
    if outcome.deletes_waiting:
        click.echo(
            f"not done: {outcome.deletes_waiting:,} record(s) removed or deleted in the source "
            "still live in Twenty (ferry delta EXPORT --apply-deletes)"
        )
    if not outcome.is_clean:
        click.echo("Twenty does not hold what the source says yet: see `ferry status`")


COMMANDS = (verify_command,)

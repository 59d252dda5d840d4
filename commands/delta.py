"""`ferry delta`: the changes made in Dental-Exec during the cutover."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from commands.anchors import anchor_workspace
from commands.context import App, pass_app
from commands.options import TwentyOptions, twenty_options
from commands.progress import RichProgress
from commands.render import duration, next_step, wide_console

if TYPE_CHECKING:
    from core.pipeline.delta import DeltaResult
    from core.workspace import Workspace


@click.command("delta")
@click.argument("new_export", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Print every write that would be sent; send and record nothing."
)
@click.option(
    "--apply-deletes",
    is_flag=True,
    help="Soft-delete in Twenty the records removed or deleted in the source.",
)
@click.option(
    "--force", is_flag=True, help="Overwrite records edited in Twenty since our last write."
)
@twenty_options
@pass_app
def delta_command(
    app: App,
    new_export: Path,
    dry_run: bool,
    apply_deletes: bool,
    force: bool,
    twenty: TwentyOptions,
) -> None:
    """Send only what changed in Dental-Exec since the last run (delta bundle or full export)."""
    from core.clock import SystemClock
    from core.pipeline.delta import DeltaOptions
    from core.pipeline.delta_apply import apply_delta
    from core.pipeline.delta_report import render_delta_report
    from core.reports.files import write_private

    options = DeltaOptions(dry_run=dry_run, apply_deletes=apply_deletes, force=force)
    session = app.session(twenty)
    try:
        export = app.open_export(new_export, session.headers)
        progress = RichProgress(Console(stderr=True))
        with app.held("delta", hold=not dry_run), progress.bars:
            result = app.run(lambda: apply_delta(session, export, options, SystemClock(), progress))
        report, anchored = None, ""
        if not dry_run:
            text = render_delta_report(result)
            report = write_private(session.workspace.reports / f"delta-{result.run_id}.md", text)
            anchored = anchor_workspace(session.workspace)
        if dry_run:
            click.echo(_delta_cost(session.workspace, result))
    finally:
        session.workspace.close()
    print_delta(result, report)
    if anchored:
        click.echo(anchored)
    step = "delta dry run" if dry_run else "delta"
    click.echo(next_step(step, is_ok=result.outcome == "completed"))


def _delta_cost(workspace: Workspace, result: DeltaResult) -> str:
    """`N write request(s) ...: about T under the budget` for a dry run's planned writes."""
    from core.pipeline.plan import IDS_PER_LOOKUP, estimate_seconds

    budget = workspace.config.twenty.rate_limit
    # The real delta reads each record it updates or deletes once before writing (conflicts).
    reads = -(-sum(1 for w in result.planned if w.operation != "create") // IDS_PER_LOOKUP)
    requests = result.write_requests + reads
    return (
        f"the delta would send {result.write_requests:,} write request(s) and about "
        f"{reads:,} read(s): about {duration(estimate_seconds(requests, budget))} under {budget}"
    )


def print_delta(result: DeltaResult, report: Path | None) -> None:
    """Every planned write (dry run), the table per entity, conflicts, deletes, high-water."""
    from core.pipeline.delta_report import split_targets

    kind = "delta bundle" if result.is_delta else "full export"
    for write in result.planned:
        fields = f" fields {','.join(write.fields)}" if write.fields else ""
        click.echo(
            f"would {write.operation} {write.object_plural} {write.destination_id} "
            f"{write.stream_id or '(no source record)'}{fields}"
        )
    table = Table(
        "entity", "read", "unchanged", "created", "updated", "up to date", "soft-deleted",
        "failed", title=f"delta {result.run_id} ({kind}): {result.outcome}",
    )  # fmt: skip
    for entity in dict.fromkeys([*result.local, *result.created, *result.updated]):
        local, made = result.local.get(entity), result.created.get(entity)
        changed, gone = result.updated.get(entity), result.deleted.get(entity)
        cells = [
            local.read if local else 0, local.unchanged if local else 0,
            made.created if made else 0, changed.updated + changed.restored if changed else 0,
            changed.up_to_date if changed else 0, gone.soft_deleted if gone else 0,
            (made.failed if made else 0) + (changed.failed if changed else 0),
        ]  # fmt: skip
        table.add_row(entity, *(f"{c:,}" for c in cells))
    wide_console(120).print(table)
    sent = result.sent()
    verb = "would send" if result.dry_run else "sent"
    click.echo(
        f"{verb}: {sent['created']} created, {sent['updated']} updated, "
        f"{sent['soft_deleted']} soft-deleted; {len(result.conflicts)} conflict(s)"
    )
    for conflict in result.conflicts:
        what = "missing in Twenty" if conflict.missing else ", ".join(conflict.fields)
        click.echo(f"conflict {conflict.stream_id}: {what} ({conflict.resolution})")
    if result.removed:
        records, targets = split_targets(result.removed)
        where = "removed in the source" if not result.is_delta else "gone with a deleted row"
        click.echo(f"{where}: {len(records)} record(s), {len(targets)} task/note target(s)")
    if result.deletes_pending:
        click.echo(
            f"{len(result.deletes_pending)} record(s) removed or deleted in the source are still "
            "in Twenty: rerun with --apply-deletes to soft-delete them"
        )
    for name, mark in result.high_water.items():
        click.echo(f"high-water {name}: {mark}")
    if result.dry_run:
        click.echo("dry run: nothing was sent to Twenty and nothing was recorded")
    elif report is not None:
        click.echo(f"report: {report}")


COMMANDS = (delta_command,)

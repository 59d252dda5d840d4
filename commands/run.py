"""`ferry run`: migrate everything; and the execution of a run shared with `ferry sample`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from commands.anchors import anchor_workspace
from commands.context import App, pass_app
from commands.options import TwentyOptions, twenty_options
from commands.progress import RichProgress, StopOnInterrupt
from commands.render import exit_with, next_step, wide_console
from core import exit_codes

if TYPE_CHECKING:
    from core.pipeline.run import RunRequest, RunResult


def execute(app: App, request: RunRequest, twenty: TwentyOptions) -> RunResult:
    """Run a request with progress bars and Ctrl-C handling; write and print its report."""
    session = app.session(twenty)
    progress = RichProgress(Console(stderr=True))
    try:
        with StopOnInterrupt() as stop, progress.bars:
            result = app.run(
                lambda: session.run(request, progress=progress, should_stop=lambda: stop.requested)
            )
        # Imported after the run: a resumed run's first request need not wait for them.
        from core.reports.files import write_private
        from core.reports.run_report import render_run_report, run_facts, store_facts

        facts = store_facts(session.workspace.store.connection, result.run_id)
        report = render_run_report(run_facts(result), facts)
        path = write_private(session.workspace.reports / f"run-{result.run_id}.md", report)
        anchored = anchor_workspace(session.workspace)
    finally:
        session.workspace.close()
    print_run_summary(result, path)
    click.echo(anchored)
    return result


def print_run_summary(result: RunResult, report: Path) -> None:
    """The run's table per entity, its time and report, and what was not done."""
    table = Table(
        "entity", "read", "unchanged", "validated", "rejected", "skipped", "created", "linked",
        "failed", "blocked", title=f"run {result.run_id}: {result.outcome}",
    )  # fmt: skip
    for entity in dict.fromkeys([*result.local, *result.load]):
        local, load = result.local.get(entity), result.load.get(entity)
        cells: list[int | str] = (
            [local.read, local.unchanged, local.validated, local.rejected, local.skipped]
            if local
            else [""] * 5
        )
        cells += [load.created, load.linked, load.failed] if load else [""] * 3
        cells.append(len(result.blocked.get(entity, [])))
        if any(c not in ("", 0) for c in cells):
            table.add_row(entity, *(str(c) for c in cells))
    wide_console(120).print(table)
    click.echo(f"{result.seconds:.1f} s; report: {report}")
    for reason in result.reasons:
        click.echo(f"not done: {reason}", err=True)
    if result.outcome != "completed" and not result.reasons:
        click.echo("run `ferry run` again to resume exactly where it stopped")


@click.command("run")
@click.option(
    "--entity", "entities", multiple=True, help="Only this entity (repeatable), e.g. patient."
)
@click.option(
    "--max-duration", type=float, default=None, help="Stop cleanly after this many seconds."
)
@click.option(
    "--retry-failed", is_flag=True, help="Also resend records whose last load was refused."
)
@click.option(
    "--without-sample-approval", is_flag=True, help="Run even though no sample was approved."
)
@click.option(
    "--force",
    is_flag=True,
    help="Write the source's values over records edited in Twenty since our last write.",
)
@twenty_options
@pass_app
def run_command(
    app: App,
    entities: tuple[str, ...],
    max_duration: float | None,
    retry_failed: bool,
    without_sample_approval: bool,
    force: bool,
    twenty: TwentyOptions,
) -> None:
    """Migrate everything in Twenty's order; run again after any stop to resume exactly."""
    from core.pipeline.run import RunRequest

    if not without_sample_approval:
        _require_sample_approval(app)
    request = RunRequest(
        entities=entities, max_duration_s=max_duration, retry_failed=retry_failed, force=force
    )
    result = execute(app, request, twenty)
    click.echo(next_step("run", is_ok=result.outcome == "completed" and not result.reasons))
    exit_with(exit_codes.run_exit(result.outcome))


def _require_sample_approval(app: App) -> None:
    """`ferry run` needs an approved sample unless told otherwise."""
    from core.sample_run import has_approved_sample

    with app.store() as store:
        approved = has_approved_sample(store, app.workdir / "reports")
    if not approved:
        raise click.ClickException(
            "no approved sample for the current mapping: run `ferry sample`, review "
            "reports/sample-diff.html, then `ferry sample approve` "
            "(or pass --without-sample-approval)"
        )


COMMANDS = (run_command,)

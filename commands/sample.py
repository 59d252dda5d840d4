"""`ferry sample` and `ferry sample approve`: a representative slice, run and diffed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from commands.context import App, app_of, pass_app
from commands.options import TwentyOptions, twenty_options
from commands.progress import RichProgress
from commands.render import next_step
from commands.run import execute

if TYPE_CHECKING:
    from core.pipeline.sample import SampleSelection
    from core.pipeline.sample_approval import DiffInfo


@click.group("sample", invoke_without_command=True)
@click.option(
    "--size",
    type=click.IntRange(min=1),
    default=None,
    help="Records (source rows) to aim at (default: run.sample_size of ferry.toml, 400).",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed of the random part of the sample."
)
@twenty_options
@click.pass_context
def sample_group(ctx: click.Context, size: int | None, seed: int, twenty: TwentyOptions) -> None:
    """Select a representative slice, run it into Twenty, write the field-level diff."""
    if ctx.invoked_subcommand is not None:
        return
    selection, info, paths = _run_sample(app_of(ctx), size, seed, twenty)
    click.echo(
        f"sample: {selection.records} records ({selection.patients} patients, "
        f"{len(selection.entities)} objects), {len(selection.strata)} strata covered"
        + (f" ({len(selection.unselectable)} only on rows without a key)"
           if selection.unselectable else "")
    )  # fmt: skip
    click.echo(f"diff: {info.records} records, {info.disagreements} field(s) not read back as sent")
    for path in paths[:2]:
        click.echo(f"written: {path} (patient values: owner-only, do not share)")
    for path in paths[2:]:
        click.echo(f"written: {path} (de-identified: may be shared with the practice)")
    click.echo(next_step("sample", is_ok=not info.disagreements))


@sample_group.command("approve")
@click.option(
    "--user",
    default=None,
    help="Who approves (default: the login name).",
)
@click.option(
    "--accept-differences",
    is_flag=True,
    help="Approve although some fields did not read back as sent.",
)
@pass_app
def sample_approve_command(app: App, user: str | None, accept_differences: bool) -> None:
    """Record the approval of the current sample diff (`ferry run` needs it)."""
    import getpass

    from core.clock import SystemClock
    from core.pipeline.approval import approve_sample as record_approval
    from core.pipeline.sample_approval import approve_sample

    approval = approve_sample(
        app.workdir / "reports",
        user=user or getpass.getuser(),
        now=SystemClock().now(),
        accept_differences=accept_differences,
    )
    if app.store_path.exists():  # the audit trail: SampleApproved in the event log
        with app.store() as store:
            record_approval(
                store, approval.run_id, approval.diff_hash, approval.user, approval.mapping_hash
            )
    click.echo(
        f"sample run {approval.run_id} approved by {approval.user} at {approval.approved_at} "
        f"(diff {approval.diff_hash[:12]})"
    )
    click.echo(next_step("sample approve"))


def _run_sample(
    app: App, size: int | None, seed: int, twenty: TwentyOptions
) -> tuple[SampleSelection, DiffInfo, list[Path]]:
    """Select the sample, run it (progress, run report), read it back and write the diff."""
    from core.pipeline.run import RunRequest
    from core.sample_run import choose_sample, read_back_sample, sample_size, write_sample_outputs

    session = app.session(twenty)
    try:
        selection = choose_sample(session, size, seed)
    finally:
        session.workspace.close()
    result = execute(app, RunRequest(command="sample", keys=selection.keys), twenty)
    session = app.session(twenty)
    try:
        progress = RichProgress(Console(stderr=True))
        progress.stage("sample", "read back", sample_size(selection))
        with progress.bars:
            diff = app.run(
                lambda: read_back_sample(
                    session,
                    selection,
                    result.run_id,
                    lambda n: progress.advance("sample", "read back", n),
                )
            )
        info, paths = write_sample_outputs(session.workspace, diff)
    finally:
        session.workspace.close()
    return selection, info, paths


COMMANDS = (sample_group,)

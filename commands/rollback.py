"""`ferry rollback`: undo the migration in Twenty, newest first."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from rich.console import Console

from commands.anchors import anchor_workspace
from commands.context import App, pass_app
from commands.options import TwentyOptions, instant_option, twenty_options
from commands.progress import RichProgress, StopOnInterrupt
from commands.render import duration, exit_with, next_step
from core import exit_codes

if TYPE_CHECKING:
    from core.rollback import RollbackEstimate, RollbackOptions, RollbackResult, RollbackScope
    from core.workspace import Workspace


@click.command("rollback")
@click.option("--run", "run_id", default=None, help="Only undo the writes of this run id.")
@click.option("--entity", default=None, help="Only undo records of this entity, e.g. patient.")
@click.option(
    "--since", default=None, help="Only undo writes made at or after this ISO-8601 instant (UTC)."
)
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (action, object, id, fields); change nothing."
)
@click.option(
    "--schema", is_flag=True, help="Also remove the custom fields and objects Ferry created."
)
@click.option("--yes", is_flag=True, help="Do not ask; required in a non-interactive shell.")
@click.option("--force", is_flag=True, help="Also undo records edited in Twenty since our write.")
@twenty_options
@pass_app
def rollback_command(
    app: App,
    run_id: str | None,
    entity: str | None,
    since: str | None,
    dry_run: bool,
    schema: bool,
    yes: bool,
    force: bool,
    twenty: TwentyOptions,
) -> None:
    """Undo the migration in Twenty, newest first: delete, restore before-images, re-delete."""
    from core.rollback import RollbackOptions, RollbackScope, check_scope

    scope = RollbackScope(run_id=run_id, entity=entity, since=instant_option(since))
    workspace = app.workspace(twenty)
    try:
        check_scope(workspace.store.connection, scope)
        estimate = _rollback_estimate(workspace, scope, force)
        if dry_run:
            _print_rollback_plan(workspace, scope, schema, _rollback_cost(workspace, estimate))
            return
        _confirm_rollback(yes, _rollback_cost(workspace, estimate))
        options = RollbackOptions(
            scope=scope,
            schema=schema,
            force=force,
            max_in_flight=workspace.config.twenty.max_in_flight,
        )
        result = _run_rollback(app, workspace, options, estimate.records)
        anchored = anchor_workspace(workspace)
    finally:
        workspace.close()
    _print_rollback_result(result)
    click.echo(anchored)
    click.echo(next_step("rollback", is_ok=result.outcome == "completed" and not result.failures))
    left_alone = any(c.resolution == "left_alone" for c in result.conflicts)
    exit_with(
        exit_codes.rollback_exit(
            result.outcome, has_failures=bool(result.failures), has_left_alone=left_alone
        )
    )


def _rollback_estimate(workspace: Workspace, scope: RollbackScope, force: bool) -> RollbackEstimate:
    """The records and requests a rollback of `scope` would send (core.rollback)."""
    from adapters.twenty.records import IDS_PER_LOOKUP
    from core.rollback import estimate_rollback

    return estimate_rollback(
        workspace.store.connection,
        scope,
        mutation_max=workspace.config.twenty.mutation_max_records,
        ids_per_lookup=IDS_PER_LOOKUP,
        force=force,
    )


def _rollback_cost(workspace: Workspace, estimate: RollbackEstimate) -> str:
    """`N write(s): D delete(s), R restore(s); Q request(s), about T under the budget`."""
    from core.pipeline.plan import estimate_seconds

    budget = workspace.config.twenty.rate_limit
    seconds = estimate_seconds(estimate.requests, budget)
    return (
        f"{estimate.records:,} record(s) to undo ({estimate.deletes:,} delete(s), "
        f"{estimate.restores:,} restore(s)); {estimate.requests:,} request(s), about "
        f"{duration(seconds)} under {budget}"
    )


def _confirm_rollback(yes: bool, cost: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.ClickException(
            "rollback changes Twenty: pass --yes in a non-interactive shell "
            "(or run `ferry rollback --dry-run` first to see the plan)"
        )
    click.confirm(f"{cost}. Undo these writes in Twenty now?", abort=True)


def _run_rollback(
    app: App, workspace: Workspace, options: RollbackOptions, total: int
) -> RollbackResult:
    """The rollback through one Twenty client (the configured budget, shared limiter), with
    a progress bar (records, rate, time left)."""
    from core.clock import SystemClock
    from core.rollback import rollback

    progress = RichProgress(Console(stderr=True))
    progress.stage("records", "undo", total)
    with app.held("rollback"), StopOnInterrupt() as stop, progress.bars:
        return app.call(
            workspace,
            lambda client: rollback(
                workspace.store,
                client,
                client,
                options,
                clock=SystemClock(),
                should_stop=lambda: stop.requested,
                on_progress=lambda n: progress.advance("records", "undo", n),
            ),
        )


def _print_rollback_plan(
    workspace: Workspace, scope: RollbackScope, schema: bool, cost: str
) -> None:
    from core.rollback import plan_records, plan_schema

    counts: dict[str, int] = {}
    for line in plan_records(workspace.store.connection, scope):
        counts[line.action] = counts.get(line.action, 0) + 1
        action = "restore" if line.action == "restore_before_image" else line.action
        text = f"{action:<8} {line.object_name:<14} {line.destination_id}  {line.stream_id}"
        if line.fields:
            text += f"  fields: {', '.join(line.fields)}"
        if line.soft_delete_after:
            text += "  then soft-delete"
        if line.in_doubt:
            text += "  (interrupted: checked in Twenty first)"
        click.echo(text)
    steps = plan_schema(workspace.store) if schema else []
    for step in steps:
        name = f"{step.object_name}.{step.field_name}" if step.field_name else step.object_name
        extra = f" (with {len(step.with_fields)} field(s))" if step.with_fields else ""
        click.echo(f"{step.change:<8} {name} {step.metadata_id}{extra}")
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to undo"
    click.echo(f"plan: {summary}" + (f"; {len(steps)} schema change(s)" if schema else ""))
    click.echo(cost)
    click.echo("dry run: nothing was changed")


def _print_rollback_result(result: RollbackResult) -> None:
    for conflict in result.conflicts:
        what = "gone from Twenty" if conflict.missing else f"edited: {', '.join(conflict.fields)}"
        click.echo(
            f"conflict {conflict.stream_id} {conflict.destination_id} {what} "
            f"({conflict.resolution.replace('_', ' ')})"
        )
    for failure in result.failures:
        click.echo(f"failed {failure.stream_id} {failure.destination_id}: {failure.code}")
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items() if v)
    click.echo(
        f"rollback {result.rollback_id}: {result.outcome}; {counts or 'nothing to undo'} "
        f"({result.seconds:.1f} s)"
    )
    if result.conflicts:
        click.echo("records left alone were edited in Twenty after us: check them, or --force")
    if result.failures or result.outcome != "completed":
        click.echo("run `ferry rollback` again to finish: it resumes where it stopped")
    if result.schema is not None and result.schema.options_left:
        click.echo(f"{result.schema.options_left} option addition(s) to existing fields were left")


COMMANDS = (rollback_command,)

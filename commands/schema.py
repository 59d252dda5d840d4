"""`ferry schema plan|apply|checklist`: Twenty's data model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from commands.context import App, pass_app
from commands.options import TwentyOptions, twenty_options
from commands.progress import RichProgress
from commands.render import next_step
from commands.target import Target

if TYPE_CHECKING:
    from core.schema import SchemaChange


@click.group()
def schema() -> None:
    """Twenty's data model: plan, apply, or check by hand the objects and fields Ferry needs."""


@schema.command("plan")
@twenty_options
@pass_app
def schema_plan(app: App, twenty: TwentyOptions) -> None:
    """Show what is missing or conflicting in the workspace's data model."""
    from core.schema import plan_workspace

    target = Target(app, twenty)
    spec = target.spec()
    result = target.call(lambda c: plan_workspace(spec, c))
    for change in result.changes:
        where = f"{change.object_name}.{change.field_name}".rstrip(".")
        click.echo(f"+ {change.kind.replace('_', ' ')} {where} {change.detail}".rstrip())
    for conflict in result.conflicts:
        click.echo(f"! conflict {conflict.describe()}")
    click.echo(
        f"{len(result.changes)} change(s) to make, {len(result.conflicts)} conflict(s), "
        f"{result.satisfied} item(s) already in place"
    )
    if result.conflicts:
        raise click.ClickException("resolve the conflicts before `ferry schema apply`")


@schema.command("apply")
@twenty_options
@click.option(
    "--probe/--no-probe",
    default=True,
    show_default=True,
    help="Write, read back and delete one test record per object afterwards.",
)
@pass_app
def schema_apply(app: App, twenty: TwentyOptions, probe: bool) -> None:
    """Create the missing objects and fields (idempotent, resumable); each change is an event."""
    from core.schema import change_event, setup
    from events.store import NewEvent

    target = Target(app, twenty)
    spec = target.spec()
    store = target.session.workspace.store if target.session else None
    if store is None:
        click.echo("note: no work directory here; changes are not recorded", err=True)

    def record(change: SchemaChange, metadata_id: str) -> None:
        click.echo(f"applied {change.kind} {change.object_name} {change.field_name}".rstrip())
        if store is not None:
            store.append([NewEvent("migration", change_event(change, metadata_id))])

    progress = RichProgress(Console(stderr=True))
    if probe:
        progress.stage("objects", "probe", len(spec.objects))
    with progress.bars:
        done = target.call(
            lambda c: setup(
                spec,
                c,
                c,
                record,
                run_probe=probe,
                on_probe=lambda n: progress.advance("objects", "probe", n),
            )
        )
    click.echo(f"{len(done.applied.changes)} change(s) applied")
    for result in done.probes:
        status = "ok" if result.ok else f"FAILED {result.error or ', '.join(result.missing_fields)}"
        click.echo(f"probe {result.object_name}: {status}")
    if any(not result.ok for result in done.probes):
        raise click.ClickException("a probe record was not accepted as written; see above")
    click.echo(next_step("schema apply"))


@schema.command("checklist")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the Markdown here instead of printing it.",
)
@click.option(
    "--compare/--no-compare",
    default=False,
    show_default=True,
    help="Tick what the workspace already has (needs Twenty to answer).",
)
@twenty_options
@pass_app
def schema_checklist(app: App, out: Path | None, compare: bool, twenty: TwentyOptions) -> None:
    """The Markdown checklist for an admin building the data model in Settings → Data Model."""
    from core.schema import plan_workspace
    from core.schema_checklist import checklist
    from core.schema_spec import default_spec

    if compare or app.has_config():
        target = Target(app, twenty)
        spec = target.spec()
        current = target.call(lambda c: plan_workspace(spec, c)) if compare else None
        if not compare:
            target.close()
    else:
        spec, current = default_spec(), None
    text = checklist(spec, current)
    if out is None:
        click.echo(text)
    else:
        from events.private_files import write_private

        write_private(out, text)
        click.echo(f"Checklist written to {out}")


COMMANDS = (schema,)

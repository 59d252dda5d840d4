"""`ferry map propose|confirm|diff|show`: the mapping from the export to Twenty."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.context import App, pass_app
from commands.render import next_step

if TYPE_CHECKING:
    from core.ports.source import Source


@click.group("map")
def map_group() -> None:
    """Propose, confirm and compare the mapping (mapping.toml) from the export to Twenty."""


@map_group.command("propose")
@click.argument("export", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the mapping (default: <workdir>/mapping.toml).",
)
@pass_app
def map_propose(app: App, export: Path, out: Path | None) -> None:
    """Propose mapping.toml from the export's headers and values; write the mapping document
    (reports/mapping.md and .html) and print a summary, lowest confidence first."""
    from core.mapping import write_mapping
    from core.mapping.proposer import propose_mapping
    from core.reports.mapping_summary import write_proposal_report
    from events.private_files import private_dir

    proposal = propose_mapping(app.open_export(export))
    target = out or app.mapping_path
    digest = write_mapping(proposal.mapping, target)
    reports = private_dir(app.workdir / "reports")
    if app.store_path.exists():  # a proposal may be the confirmed mapping again
        with app.store() as store:
            written = write_proposal_report(proposal, target, reports, store)
    else:
        written = write_proposal_report(proposal, target, reports)
    for line in written.lines:
        click.echo(line)
    click.echo(f"mapping (sha256 {digest[:12]}), to edit:\n  {target}")
    click.echo(f"mapping document to read and sign (also as {written.markdown.name}):")
    click.echo(f"  {written.html}")
    click.echo(next_step("map propose", is_ok=not proposal.unplaced))


@map_group.command("confirm")
@click.option(
    "--user",
    default=None,
    help="Who confirms (default: the login name of the operator).",
)
@click.option(
    "--allow-missing",
    "allow_missing",
    multiple=True,
    help="A file this export is meant not to hold, e.g. payments (repeatable; recorded).",
)
@pass_app
def map_confirm(app: App, user: str | None, allow_missing: tuple[str, ...]) -> None:
    """Record MappingConfirmed (file hash, user, time, files acknowledged absent) for the
    work dir's mapping.toml, after checking the export's files and required columns."""
    import getpass

    from core.mapping.gate import confirm_mapping
    from core.source_audit.readiness import file_label
    from events.private_files import private_dir

    who = user or getpass.getuser()
    source = _configured_source(app)
    private_dir(app.workdir)
    with app.store(create=True) as store:
        event = confirm_mapping(app.mapping_path, store, who, source, allow_missing)
    for entity in filter(None, event.absent_files.split(",")):
        click.echo(f"acknowledged absent from the export: {file_label(entity)}")
    click.echo(f"Mapping confirmed by {who}: sha256 {event.mapping_hash}")
    click.echo(next_step("map confirm"))


def _configured_source(app: App) -> Source | None:
    """The export named in ferry.toml, read through the headers of the mapping about to be
    confirmed; None before `ferry init` (checked again by `run`)."""
    from core.mapping import MappingError, load_mapping
    from core.mapping.headers import header_meanings

    if not app.has_config():
        return None
    path = Path(app.config().source)
    try:
        headers = header_meanings(load_mapping(app.mapping_path))
    except MappingError:
        headers = None  # confirm_mapping names what is wrong with the mapping itself
    return app.open_export(path, headers) if path.exists() else None


@map_group.command("diff")
@pass_app
def map_diff(app: App) -> None:
    """Show what changed in mapping.toml since it was last confirmed."""
    from core.mapping import load_mapping
    from core.mapping.gate import diff_mappings, load_confirmed

    current = load_mapping(app.mapping_path)
    changes = diff_mappings(load_confirmed(app.mapping_path), current)
    for change in changes:
        click.echo(f"{change.where}: {change.before!r} -> {change.after!r}")
    click.echo(f"{len(changes)} change(s) since the last confirmation")


@map_group.command("show")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the Markdown (default reports/mapping.md); the HTML goes beside it.",
)
@pass_app
def map_show(app: App, out: Path | None) -> None:
    """Write the mapping document for sign-off (Markdown and HTML), owner-only."""
    write_mapping_document(app, out)


def write_mapping_document(app: App, out: Path | None) -> None:
    """`map show` and `report mapping`: the document of the work directory's mapping.toml."""
    from core.reports.mapping_render import write_mapping_report
    from events.private_files import private_dir

    markdown = out or private_dir(app.workdir / "reports") / "mapping.md"
    if not app.store_path.exists():
        written = write_mapping_report(app.mapping_path, markdown)
    else:
        with app.store() as store:
            written = write_mapping_report(app.mapping_path, markdown, store)
    click.echo(f"written: {written[0]} and {written[1]}, owner-only")


COMMANDS = (map_group,)

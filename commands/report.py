"""`ferry report NAME` and `ferry export twenty-csv`: deliverables and import files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from commands.context import App, pass_app
from commands.mapping import write_mapping_document
from commands.render import fail

if TYPE_CHECKING:
    from core.reports.tabular import Format

REPORT_NAMES = (
    "audit-log", "reconciliation", "rejected", "member-defaults", "conflicts",
    "rebuild-guide", "mapping", "summary", "bundle",
)  # fmt: skip


def _write_handoff(app: App, name: str, out: Path | None) -> str:
    """`ferry report summary|bundle`: the owner's page, or the zip of every deliverable."""
    from core.checks import count_current_source
    from core.clock import SystemClock, isoformat_utc
    from core.reports.bundle import MANIFEST_NAME, write_bundle, write_summary

    workspace = app.workspace()
    try:
        counted = count_current_source(workspace, app.open_export)
        now = isoformat_utc(SystemClock().now())
        if name == "summary":
            page = write_summary(workspace, counted, generated_at=now, out=out)
            return f"written: {page}, owner-only"
        bundle = write_bundle(workspace, counted, generated_at=now, out=out)
    finally:
        workspace.close()
    files = f"{len(bundle.entries)} file(s), each with its SHA-256 in {MANIFEST_NAME}"
    return f"written: {bundle.path} ({files}), owner-only"


@click.command("report")
@click.argument("name", type=click.Choice(list(REPORT_NAMES)))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "csv", "json"]),
    default="md",
    show_default=True,
    help="Markdown, CSV or JSON (JSON lines for row reports).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write it (default reports/NAME.EXT; summary.html, handoff.zip), owner-only.",
)
@pass_app
def report_command(app: App, name: str, fmt: str, out: Path | None) -> None:
    """Write an audit deliverable (owner-only, under reports/ unless --out).

    `summary` is one HTML page for the practice owner; `bundle` zips every deliverable with
    a manifest (file, SHA-256, size) for hand-off. --format does not apply to either.
    """
    if name == "mapping":  # Markdown and HTML, as `ferry map show`
        if fmt != "md":
            fail("the mapping document is Markdown and HTML: drop --format")
        write_mapping_document(app, out)
        return
    from core.checks import count_current_source
    from core.reports.deliverables import ReportRequest, default_path, write_report

    if name in ("summary", "bundle"):
        click.echo(_write_handoff(app, name, out))
        return
    workspace = app.workspace()
    try:
        rows = None
        if name == "reconciliation":
            rows = count_current_source(workspace, app.open_export).rows
        report_format = cast("Format", fmt)
        request = ReportRequest(
            name=name,
            fmt=report_format,
            path=out or default_path(workspace.reports, name, report_format),
            placeholder=workspace.config.run.placeholder_owner,
            source_rows=rows,
        )
        written = write_report(workspace.store.connection, request)
    finally:
        workspace.close()
    count = "" if written.rows is None else f" ({written.rows:,} row(s))"
    click.echo(f"written: {written.path}{count}, owner-only")


@click.group("export")
def export_group() -> None:
    """Files for importing by other means than the API run."""


@export_group.command("twenty-csv")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default reports/twenty-csv), owner-only.",
)
@pass_app
def export_twenty_csv_command(app: App, out: Path | None) -> None:
    """One CSV per Twenty object for Twenty's import screen, parents first, with the ids.

    The export is read first exactly as `ferry run` reads it (local stages only, nothing is
    sent), so the files hold what the API run would send, under the same ids.
    """
    from core.pipeline.run import RunRequest
    from core.reports.twenty_csv import export_twenty_csv

    session = app.session()
    workspace = session.workspace
    try:
        app.run(lambda: session.run(RunRequest(command="export twenty-csv", load=False)))
        target = out or workspace.reports / "twenty-csv"
        result = export_twenty_csv(
            workspace.store.connection, session.spec(), workspace.namespace, target
        )
    finally:
        workspace.close()
    rows = sum(o.rows for o in result.objects)
    click.echo(f"written: {len(result.files)} file(s), {rows:,} row(s) in {target}, owner-only")
    click.echo(f"next: import them in the order of {target / 'README.md'} (see docs/runbook.md)")


COMMANDS = (report_command, export_group)

"""`ferry source audit`, `ferry source decide` and `ferry fixtures generate`: the export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from commands.context import App, pass_app


@click.group()
def source() -> None:
    """Read and check a Dental-Exec export."""


@source.command("audit")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the report as Markdown to this file, and the fix-up lists as CSV beside it.",
)
@click.option("--limit", default=1000, show_default=True, help="Findings kept per code.")
@pass_app
def source_audit(app: App, export: Path, as_json: bool, out: Path | None, limit: int) -> None:
    """Inventory an export and list data-quality findings (keys and lines, never values)."""
    import json

    from core.mapping.gate import confirmed_headers
    from core.source_audit import audit_source, render_terminal, to_json_data, write_audit_files

    # Once a mapping is confirmed in the work directory, it says what every header means.
    headers = confirmed_headers(app.mapping_path)
    report = audit_source(app.open_export(export, headers), per_code_limit=limit)
    if app.store_path.exists():
        from core.source_audit.decisions import fill_recorded

        with app.store() as store:  # decisions on record stay in the new list
            fill_recorded(store, report.fixups.duplicates)
    written = write_audit_files(report, out) if out is not None else []
    if as_json:
        click.echo(json.dumps(to_json_data(report), indent=2, default=str))
    else:
        for line in render_terminal(report):
            click.echo(line)
        if out is not None:
            click.echo(f"Report written to {out}")
            for path, rows in written[1:]:
                click.echo(f"Fix-up list written to {path} ({rows:,} rows)")
            click.echo("next: work through the fix-up lists in Dental-Exec, then export again")


@source.group("decide")
def source_decide() -> None:
    """Record the practice's decisions from a fix-up list the audit wrote."""


@source_decide.command("duplicates")
@click.argument("fixup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", default=None, help="Who decided (default: the operator's login name).")
@pass_app
def source_decide_duplicates(app: App, fixup_file: Path, user: str | None) -> None:
    """Record the merge decisions filled in fixup-duplicates.csv (`decision`: merge or
    separate; `keep_patient_id`: the patient a merge keeps, empty for the one it looks like).

    Every later run and delta applies them: a merged patient is not created, and its
    appointments, plans, policies and other records are linked to the kept patient.
    """
    import getpass

    from adapters.dental_exec.fixup_lists import read_fixup_list
    from core.reports.next_step import next_step
    from core.source_audit.decisions import read_decisions, record_decisions

    listed = read_fixup_list(fixup_file)
    decisions, undecided = read_decisions(listed.rows, listed.header, fixup_file.name)
    who = user or getpass.getuser()
    with app.store() as store:
        done = record_decisions(store, decisions, undecided, user=who, file_hash=listed.sha256)
    for decision in done.recorded:
        if decision.decision == "merge":
            what = f"merged into patient {decision.keep_key}"
            click.echo(f"  line {decision.line}: patient {decision.merged_key} {what}")
        else:
            pair = f"{decision.patient_key} and {decision.same_person_as}"
            click.echo(f"  line {decision.line}: patients {pair} stay separate")
    merged = sum(d.decision == "merge" for d in done.recorded)
    click.echo(
        f"Decisions recorded by {who}: {merged} merge(s), {len(done.recorded) - merged} "
        f"separate; {done.unchanged} already on record; {done.undecided} row(s) left blank"
    )
    click.echo(next_step("source decide"))


@click.group()
def fixtures() -> None:
    """Synthetic Dental-Exec exports for tests and load runs."""


@fixtures.command("generate")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the export into (created if missing).",
)
@click.option(
    "--patients",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Patients to generate; the other files follow realistic ratios.",
)
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Random seed: same seed, same bytes."
)
@click.option(
    "--locations",
    default=2,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Practice locations in the export.",
)
@click.option(
    "--encoding",
    type=click.Choice(["cp1252", "utf-8"]),
    default="cp1252",
    show_default=True,
    help="Windows-1252 (the default export) or UTF-8 (the Unicode option).",
)
@click.option(
    "--dialect",
    type=click.Choice(["canonical", "dentrix", "eaglesoft", "opendental"]),
    default="canonical",
    show_default=True,
    help="Header spelling: Dental-Exec's own, or another system's (docs/mapping.md).",
)
@click.option(
    "--delta-from",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Write a delta of this base export instead of a full export.",
)
@click.option(
    "--change-rate",
    default=0.05,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="With --delta-from: share of rows changed.",
)
@click.option(
    "--new-rate",
    default=0.02,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="With --delta-from: new rows, as a share of the base.",
)
@click.option(
    "--delete-rate",
    default=0.01,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="With --delta-from: share of rows deleted (soft or hard).",
)
def fixtures_generate(delta_from: Path | None, **options: Any) -> None:
    """Write a synthetic export (or, with --delta-from, a delta and its manifest)."""
    from adapters.dental_exec.delta import DeltaOptions, generate_delta
    from adapters.dental_exec.generator import GeneratorOptions, generate_export

    if delta_from is not None:
        rates = {k: options[k] for k in ("change_rate", "new_rate", "delete_rate")}
        delta = generate_delta(
            DeltaOptions(base=delta_from, out=options["out"], seed=options["seed"], **rates)
        )
        click.echo(f"Delta written to {delta.out}: " + ", ".join(delta.summary()))
        return
    result = generate_export(
        GeneratorOptions(
            out=options["out"],
            patients=options["patients"],
            seed=options["seed"],
            locations=options["locations"],
            encoding=options["encoding"],
            dialect=options["dialect"],
        )
    )
    total = sum(result.files.values())
    click.echo(f"Export written to {result.out}: {total:,} rows in {len(result.files)} files")
    click.echo(f"Deliberate row errors: {len(result.injected_errors)} (see the manifest)")


COMMANDS = (source, fixtures)

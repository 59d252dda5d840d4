"""`ferry status`, `events list|anchor|verify`, `replay` and `trail`: the log and its state."""

from __future__ import annotations

from pathlib import Path

import click
import msgspec
from rich.console import Console
from rich.table import Table

from commands.anchors import anchor_key, write_anchor
from commands.context import App, pass_app
from commands.options import ANCHOR_KEY_OPTION, instant_option
from commands.render import echo_json, exit_with, fail
from core import exit_codes
from core.reports.event_log import EVENT_COLUMNS, event_row


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: entities, totals, runs, next.")
@pass_app
def status_command(app: App, as_json: bool) -> None:
    """Records per entity and state, the runs, failures, and what to do next."""
    from core.status import advise
    from events.queries import status_counts

    with app.store() as store:
        counts = status_counts(store.connection)
        advice = advise(store.connection, counts)
    if as_json:
        echo_json({**msgspec.to_builtins(counts), **msgspec.to_builtins(advice)})
        return
    console = Console(width=max(Console().width, 100))
    states = sorted(counts.totals)
    table = Table("entity", *states, "total", title=f"Records ({counts.events} events)")
    for entity, by_state in counts.entities.items():
        cells = [str(by_state.get(s, 0)) for s in states]
        table.add_row(entity, *cells, str(sum(by_state.values())))
    totals = [str(counts.totals[s]) for s in states]
    table.add_row("all", *totals, str(sum(counts.totals.values())))
    console.print(table)
    for run in counts.runs[:5]:
        pause = ""
        if run["status"] == "paused":
            pause = f", paused until {run['paused_until']} ({run['pause_reason']})"
        console.print(
            f"run {run['run_id']}: {run['status']}{pause}, {run['event_count']} events, "
            f"started {run['started_at']}"
        )
    for state, codes in advice.failures.items():
        listed = ", ".join(f"{code} {n}" for code, n in codes.items())
        console.print(f"{state}: {listed}")
    for reason in advice.why_failed:
        console.print(f"why: {reason}", markup=False)
    for step in advice.next_steps:
        console.print(f"next: {step}")


@click.group("events")
def events_group() -> None:
    """Query and verify the append-only event log."""


@events_group.command("list")
@click.option("--stream", "stream_id", help="Only this stream, e.g. patient:10482.")
@click.option("--type", "type_", help="Only this event type, e.g. RecordRejected.")
@click.option("--run", "run_id", help="Only events recorded under this run id.")
@click.option("--since", help="Recorded at or after this ISO-8601 instant (UTC if no zone).")
@click.option("--until", help="Recorded before this ISO-8601 instant (UTC if no zone).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table for people, json (one object a line) or csv for tools.",
)
@click.option(
    "--show-data",
    is_flag=True,
    help="Include source rows, payloads, before-images and diff values (PHI) in json/csv.",
)
@pass_app
def events_list_command(
    app: App,
    stream_id: str | None,
    type_: str | None,
    run_id: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    fmt: str,
    show_data: bool,
) -> None:
    """List events in log order, filtered (patient values hidden unless --show-data)."""
    from core.reports.tabular import csv_line
    from events.queries import EventFilter, list_events

    where = EventFilter(
        stream_id=stream_id,
        type=type_,
        run_id=run_id,
        since=instant_option(since),
        until=instant_option(until),
        limit=limit,
    )
    with app.store() as store:
        rows = (event_row(e, show_data) for e in list_events(store.connection, where))
        if fmt == "json":
            for row in rows:
                click.echo(msgspec.json.encode(row).decode())
        elif fmt == "csv":
            click.echo(csv_line(EVENT_COLUMNS), nl=False)
            for row in rows:
                data = msgspec.json.encode(row["data"]).decode()
                click.echo(csv_line({**row, "data": data}[c] for c in EVENT_COLUMNS), nl=False)
        else:
            table = Table("position", "recorded_at", "stream_id", "v", "type", "run_id")
            for row in rows:
                table.add_row(
                    str(row["position"]),
                    row["recorded_at"],
                    row["stream_id"],
                    str(row["version"]),
                    row["type"],
                    row["run_id"] or "",
                )
            Console().print(table)


@events_group.command("anchor")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the anchor (default: anchors/anchor-POSITION-TIME.json), owner-only.",
)
@ANCHOR_KEY_OPTION
@pass_app
def events_anchor_command(app: App, out: Path | None, anchor_key_env: str | None) -> None:
    """Write the chain head (position, hash, time, signature) to a file to keep elsewhere."""
    from events.audit import verify_chain

    _, key = anchor_key(app, anchor_key_env)
    with app.store() as store:
        report = verify_chain(store.connection)
        if not report.is_ok:
            fail(
                f"not anchored: the chain is broken at position {report.first_bad_position} "
                f"({report.reason}); `ferry events verify` shows it"
            )
        click.echo(write_anchor(app.workdir, store, key, out))


@events_group.command("verify")
@click.option(
    "--anchor",
    "anchor_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also check the log against this anchor (from `ferry events anchor` or a run).",
)
@ANCHOR_KEY_OPTION
@pass_app
def events_verify_command(app: App, anchor_path: Path | None, anchor_key_env: str | None) -> None:
    """Recompute the hash chain (and check an anchor); print OK or what failed (exit 1)."""
    from events.anchor import check_anchor, read_anchor
    from events.audit import verify_chain

    anchor = read_anchor(anchor_path) if anchor_path is not None else None
    key_env, key = anchor_key(app, anchor_key_env) if anchor else ("", None)
    with app.store() as store:
        report = verify_chain(store.connection)
        anchored = check_anchor(store.connection, anchor, key) if anchor else None
    if not report.is_ok:
        click.echo(f"FAILED at position {report.first_bad_position}: {report.reason}", err=True)
        exit_with(exit_codes.FAILED)
    if anchored is not None and not anchored.is_ok:
        click.echo(f"FAILED against {anchor_path}: {anchored.reason}", err=True)
        exit_with(exit_codes.FAILED)
    click.echo(f"OK: {report.events} events, chain intact")
    if anchored is not None:
        signature = (
            "signature checked"
            if anchored.is_signature_checked
            else f"signature not checked: ${key_env} is not set"
            if anchor and anchor.signature
            else "unsigned anchor"
        )
        click.echo(f"OK: position {anchored.position} holds the anchored hash ({signature})")


@click.command("replay")
@click.option("--until", "until", help="Stop at this POSITION (integer) or ISO-8601 TIME.")
@click.option("--check", is_flag=True, help="Compare the rebuilt projections with the live ones.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the rebuilt projections in this new SQLite file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the rebuilt status as JSON.")
@pass_app
def replay_command(
    app: App, until: str | None, check: bool, out: Path | None, as_json: bool
) -> None:
    """Rebuild the projections from the log, up to a point; show or check them."""
    from core.replay import rebuild_projections, replay_position

    if check and until is not None:
        raise click.UsageError("--check compares the whole log with the live state; drop --until")
    with app.store() as store:
        conn = store.connection
        position = None
        if until is not None:
            instant = None if until.isdigit() else instant_option(until)
            position = replay_position(conn, until, instant)
        replayed = rebuild_projections(conn, until=position, out=out, check=check)
    if as_json:
        click.echo(msgspec.json.encode(replayed.counts).decode())
    else:
        click.echo(f"replayed {replayed.last} events")
        for state, count in sorted(replayed.counts.totals.items()):
            click.echo(f"  {state:<14} {count}")
        if out:
            click.echo(f"rebuilt projections written to {out}")
    if check:
        if replayed.diffs:
            for diff in replayed.diffs:
                click.echo(f"MISMATCH {diff.table} {diff.key}", err=True)
            exit_with(exit_codes.FAILED)
        click.echo("check: rebuilt projections equal the live ones")


@click.command("trail")
@click.argument("stream_id")
@click.option("--show-data", is_flag=True, help="Include source rows and payloads (PHI).")
@pass_app
def trail_command(app: App, stream_id: str, show_data: bool) -> None:
    """One record's full history, oldest first (patient values hidden unless --show-data).

    \b
    STREAM_ID is one of:
      patient:10038   a record: entity and source key (`ferry events list` shows them)
      10038           the source key alone, when only one entity has it
      migration       the migration's own events (init, mapping, schema, approvals)
      run:<id>        one run's events (`ferry status` lists the runs)
    """
    from core.trail import candidate_streams, trail_lines

    with app.store() as store:
        found = candidate_streams(store.connection, stream_id)
        if len(found) > 1:
            raise click.ClickException(
                f"{stream_id!r} is the key of {len(found)} records ({', '.join(found)}); "
                "give one of them"
            )
        stream_id = found[0] if found else stream_id
        history = store.read_stream(stream_id)
    if not history:
        raise click.ClickException(
            f"no events for {stream_id!r}; give <entity>:<source key> (e.g. patient:10038), a "
            "source key alone, `migration` or run:<id>; `ferry events list` shows the streams"
        )
    for line in trail_lines(history, show_data):
        click.echo(line)


COMMANDS = (status_command, events_group, replay_command, trail_command)

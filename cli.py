"""Ferry's command line: the composition root.

Each command reads options (and the environment) into arguments, calls one library function,
and renders the result. This module is the only place that prints and calls `anyio.run`.
Errors Ferry raises on purpose (`FerryError` and `EventStoreError`) become one clear line on
stderr and exit code 1 or 2, never a traceback.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec
from rich.console import Console
from rich.table import Table

from core.clock import isoformat_utc
from core.errors import FerryError
from core.reports.event_log import EVENT_COLUMNS as _EVENT_COLUMNS
from core.reports.event_log import event_facts as _event_facts
from core.reports.event_log import event_row as _event_row
from events.errors import EventStoreError

if TYPE_CHECKING:  # imported where used: `ferry --help` need not load the store
    from events.store import EventStore


def _version() -> str:
    try:
        return version("ferry")
    except PackageNotFoundError:  # running from a checkout without install
        return "0+unknown"


class Context:
    """What every command gets: the work directory and the paths derived from it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    @property
    def store_path(self) -> Path:
        return self.workdir / "ferry.db"


pass_context = click.make_pass_decorator(Context)


class _FerryGroup(click.Group):
    """The command group; SQLite's own errors on the store become Ferry's, naming the file.

    A command that fails inside a task group raises an exception group: the error Ferry
    raised on purpose is taken out of it, so `main` prints one line instead of a traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BaseExceptionGroup as group:
            leaf = _plain_error(group)
            if leaf is None:
                raise
            raise _translated(ctx, leaf) from group
        except sqlite3.DatabaseError as error:
            raise _translated(ctx, error) from error


def _plain_error(group: BaseExceptionGroup[Any]) -> BaseException | None:
    """The first error of a group that Ferry can say in one line (None: none is)."""
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            found = _plain_error(error)
            if found is not None:
                return found
        elif isinstance(error, FerryError | EventStoreError | sqlite3.DatabaseError):
            return error
    return None


def _translated(ctx: click.Context, error: BaseException) -> BaseException:
    if isinstance(error, sqlite3.DatabaseError):
        from events.errors import store_error

        where = ctx.obj.store_path if isinstance(ctx.obj, Context) else "ferry.db"
        return store_error(where, error)
    return error


@click.group(cls=_FerryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="ferry")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    envvar="FERRY_WORKDIR",
    help="Work directory: ferry.db, ferry.toml, mapping.toml, reports/ (env FERRY_WORKDIR).",
)
@click.pass_context
def ferry(ctx: click.Context, workdir: Path) -> None:
    """Ferry: migrate a Dental-Exec export into Twenty CRM; every record's journey on record."""
    ctx.obj = Context(workdir)


def _variable_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An option that names an environment variable; a value that looks like a key is refused
    without being repeated (a click error would echo it)."""
    from core.config import check_variable_name

    if value is None:
        return None
    return check_variable_name(value, f"--{(param.name or '').replace('_', '-')}")


def _next_step(command: str, *, is_ok: bool = True) -> str:
    from core.reports.next_step import next_step

    return next_step(command, is_ok=is_ok)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the `ferry` console script."""
    try:
        return ferry.main(args=argv, prog_name="ferry", standalone_mode=True)
    except (FerryError, EventStoreError) as error:
        _fail(str(error))
    except KeyboardInterrupt:
        _fail("interrupted", 130)


# Commands are registered below, one section per area. Keep each section's bodies thin:
# arguments in, one library call, rendering out.

# --- events and status (foundation) ---------------------------------------------------------


def _open_store(context: Context) -> EventStore:
    """The work directory's store; a clear error when it is missing or not a store."""
    from core.lifecycle import Lifecycle
    from events.store import EventStore

    return EventStore.open(context.store_path, transition=Lifecycle().next_state, create=False)


def _instant_option(value: str | None) -> str | None:
    """An ISO-8601 date or datetime as the store's UTC text (naive means UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date or datetime") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return isoformat_utc(parsed)


@ferry.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: entities, totals, runs, next.")
@pass_context
def status_command(context: Context, as_json: bool) -> None:
    """Records per entity and state, the runs, failures, and what to do next."""
    from core.status import advise
    from events.queries import status_counts

    with _open_store(context) as store:
        counts = status_counts(store.connection)
        advice = advise(store.connection, counts)
    if as_json:
        body = {**msgspec.to_builtins(counts), **msgspec.to_builtins(advice)}
        click.echo(msgspec.json.format(msgspec.json.encode(body)).decode())
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


@ferry.group("events")
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
@pass_context
def events_list_command(
    context: Context,
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
        since=_instant_option(since),
        until=_instant_option(until),
        limit=limit,
    )
    with _open_store(context) as store:
        rows = (_event_row(e, show_data) for e in list_events(store.connection, where))
        if fmt == "json":
            for row in rows:
                click.echo(msgspec.json.encode(row).decode())
        elif fmt == "csv":
            click.echo(csv_line(_EVENT_COLUMNS), nl=False)
            for row in rows:
                data = msgspec.json.encode(row["data"]).decode()
                click.echo(csv_line({**row, "data": data}[c] for c in _EVENT_COLUMNS), nl=False)
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


_ANCHOR_KEY_OPTION = click.option(
    "--anchor-key-env",
    default=None,
    callback=_variable_name,
    help="Variable holding the anchor's HMAC key (default: ferry.toml, FERRY_ANCHOR_KEY).",
)


def _anchor_key(context: Context, key_env: str | None) -> tuple[str, bytes | None]:
    """The anchor key's variable (option, else ferry.toml, else the default) and its value."""
    from core.config import CONFIG_NAME, AnchorConfig, load_config

    if key_env is None:
        has_config = (context.workdir / CONFIG_NAME).exists()
        config = load_config(context.workdir).anchor if has_config else AnchorConfig()
        key_env = config.key_env
    key = os.environ.get(key_env, "")
    return key_env, key.encode() if key else None


def _write_anchor(workdir: Path, store: EventStore, key: bytes | None, out: Path | None) -> str:
    """Anchor the store's head into `out` (default anchors/); the line that says where."""
    from core.clock import isoformat_utc
    from events.anchor import default_anchor_path, take_anchor, write_anchor

    anchor = take_anchor(store.connection, isoformat_utc(datetime.now(UTC)), key)
    path = write_anchor(anchor, out or default_anchor_path(workdir, anchor))
    signed = "signed" if anchor.signature else "unsigned: no anchor key set"
    return f"anchor: position {anchor.position} in {path} ({signed}); keep a copy off this machine"


def _anchor_workspace(workspace: Any) -> str:
    """At the end of a run, delta or rollback: anchor the head into the work directory."""
    key = os.environ.get(workspace.config.anchor.key_env, "")
    return _write_anchor(workspace.workdir, workspace.store, key.encode() if key else None, None)


@events_group.command("anchor")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the anchor (default: anchors/anchor-POSITION-TIME.json), owner-only.",
)
@_ANCHOR_KEY_OPTION
@pass_context
def events_anchor_command(context: Context, out: Path | None, anchor_key_env: str | None) -> None:
    """Write the chain head (position, hash, time, signature) to a file to keep elsewhere."""
    from events.audit import verify_chain

    _, key = _anchor_key(context, anchor_key_env)
    with _open_store(context) as store:
        report = verify_chain(store.connection)
        if not report.is_ok:
            _fail(
                f"not anchored: the chain is broken at position {report.first_bad_position} "
                f"({report.reason}); `ferry events verify` shows it"
            )
        click.echo(_write_anchor(context.workdir, store, key, out))


@events_group.command("verify")
@click.option(
    "--anchor",
    "anchor_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also check the log against this anchor (from `ferry events anchor` or a run).",
)
@_ANCHOR_KEY_OPTION
@pass_context
def events_verify_command(
    context: Context, anchor_path: Path | None, anchor_key_env: str | None
) -> None:
    """Recompute the hash chain (and check an anchor); print OK or what failed (exit 1)."""
    from events.anchor import check_anchor, read_anchor
    from events.audit import verify_chain

    anchor = read_anchor(anchor_path) if anchor_path is not None else None
    key_env, key = _anchor_key(context, anchor_key_env) if anchor else ("", None)
    with _open_store(context) as store:
        report = verify_chain(store.connection)
        anchored = check_anchor(store.connection, anchor, key) if anchor else None
    if not report.is_ok:
        click.echo(f"FAILED at position {report.first_bad_position}: {report.reason}", err=True)
        sys.exit(1)
    if anchored is not None and not anchored.is_ok:
        click.echo(f"FAILED against {anchor_path}: {anchored.reason}", err=True)
        sys.exit(1)
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


@ferry.command("replay")
@click.option("--until", "until", help="Stop at this POSITION (integer) or ISO-8601 TIME.")
@click.option("--check", is_flag=True, help="Compare the rebuilt projections with the live ones.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the rebuilt projections in this new SQLite file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the rebuilt status as JSON.")
@pass_context
def replay_command(
    context: Context, until: str | None, check: bool, out: Path | None, as_json: bool
) -> None:
    """Rebuild the projections from the log, up to a point; show or check them."""
    import tempfile

    from core.lifecycle import Lifecycle
    from events.audit import compare_projections, replay
    from events.queries import position_at, status_counts

    if check and until is not None:
        raise click.UsageError("--check compares the whole log with the live state; drop --until")
    with _open_store(context) as store, tempfile.TemporaryDirectory() as tmp:
        conn = store.connection
        position = None
        if until is not None:
            position = (
                int(until) if until.isdigit() else position_at(conn, _instant_option(until) or "")
            )
        target = out or Path(tmp) / "replay.db"
        last = replay(conn, target, Lifecycle().next_state, until_position=position)
        rebuilt = sqlite3.connect(target)
        counts = status_counts(rebuilt)
        rebuilt.close()
        diffs = compare_projections(conn, target) if check else []
    if as_json:
        click.echo(msgspec.json.encode(counts).decode())
    else:
        click.echo(f"replayed {last} events")
        for state, count in sorted(counts.totals.items()):
            click.echo(f"  {state:<14} {count}")
        if out:
            click.echo(f"rebuilt projections written to {out}")
    if check:
        if diffs:
            for diff in diffs:
                click.echo(f"MISMATCH {diff.table} {diff.key}", err=True)
            sys.exit(1)
        click.echo("check: rebuilt projections equal the live ones")


@ferry.command("trail")
@click.argument("stream_id")
@click.option("--show-data", is_flag=True, help="Include source rows and payloads (PHI).")
@pass_context
def trail_command(context: Context, stream_id: str, show_data: bool) -> None:
    """One record's full history, oldest first (patient values hidden unless --show-data).

    \b
    STREAM_ID is one of:
      patient:10038   a record: entity and source key (`ferry events list` shows them)
      10038           the source key alone, when only one entity has it
      migration       the migration's own events (init, mapping, schema, approvals)
      run:<id>        one run's events (`ferry status` lists the runs)
    """
    from events.queries import streams_for_key

    with _open_store(context) as store:
        if ":" not in stream_id and stream_id != "migration":
            found = streams_for_key(store.connection, stream_id.strip())
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
    for stored in history:
        facts = _event_facts(stored, show_data)
        facts.pop("type", None)
        detail = ", ".join(f"{k}={v}" for k, v in facts.items() if v not in (None, "", [], {}))
        run = f" run {stored.run_id}" if stored.run_id else ""
        click.echo(f"#{stored.position} v{stored.version} {stored.recorded_at}{run} {stored.type}")
        if detail:
            click.echo(f"    {detail}")


# --- source: Dental-Exec export (reader, audit, fixtures generator) -------------------------


@ferry.group()
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
@pass_context
def source_audit(
    context: Context, export: Path, as_json: bool, out: Path | None, limit: int
) -> None:
    """Inventory an export and list data-quality findings (keys and lines, never values)."""
    import json

    from adapters.dental_exec import open_export
    from core.mapping.gate import confirmed_headers
    from core.source_audit import audit_source, render_terminal, to_json_data, write_audit_files

    # Once a mapping is confirmed in the work directory, it says what every header means.
    headers = confirmed_headers(_mapping_path(context))
    report = audit_source(open_export(export, headers), per_code_limit=limit)
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


@ferry.group()
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


# --- sandbox: the local Twenty server -------------------------------------------------------


@ferry.group()
def sandbox() -> None:
    """A local Twenty API server to rehearse against (records, metadata, limits, faults)."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=3000, show_default=True, type=int, help="TCP port.")
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file holding the workspace; data persists across restarts.",
)
@click.option(
    "--api-key",
    envvar="FERRY_SANDBOX_API_KEY",
    default=None,
    help="Bearer key to accept (env FERRY_SANDBOX_API_KEY); a random one is printed if absent.",
)
@click.option(
    "--rate-limit",
    "rate_limits",
    multiple=True,
    metavar="N/WINDOW",
    help="Token bucket of the workspace, e.g. 100/60s or 100/s; repeat for several windows.",
)
@click.option(
    "--rate-limit-headers",
    is_flag=True,
    help="Answer 429 in Twenty's v2 style (Retry-After, X-RateLimit-*, RATE_LIMITED).",
)
@click.option("--batch-max", default=200, show_default=True, type=int, help="Records per batch.")
@click.option(
    "--mutation-max",
    default=200,
    show_default=True,
    type=int,
    help="Records one update- or destroy-many may touch.",
)
@click.option("--latency-ms", default=0.0, show_default=True, type=float, help="Added delay.")
@click.option("--fail-rate", default=0.0, show_default=True, type=float, help="P(503) per call.")
@click.option(
    "--fail-writes", default=0.0, show_default=True, type=float, help="P(500) per data write."
)
@click.option(
    "--drop-after-commit",
    default=0.0,
    show_default=True,
    type=float,
    help="P(commit a write, then drop the connection unanswered).",
)
@click.option("--seed", default=None, type=int, help="Seed of the fault dice (replayable runs).")
@click.option(
    "--members",
    "members_csv",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV `name,email` of workspace members to seed.",
)
def sandbox_serve(rate_limits: tuple[str, ...], **options: Any) -> None:
    """Serve a local Twenty workspace over HTTP until interrupted."""
    from adapters.twenty_sandbox import SandboxConfig, SandboxState, parse_rate_window, serve

    windows = tuple(parse_rate_window(text) for text in rate_limits)
    config = SandboxConfig(rate_windows=windows, **options)
    state = SandboxState(config)
    click.echo(f"Twenty sandbox on http://{config.host}:{config.port}/rest (db {config.db_path})")
    if config.api_key is None:
        click.echo(f"API key: {state.api_key}")
    serve(config, state)


# --- destination: schema, members -----------------------------------------------------------


def _twenty_options(command: Any) -> Any:
    """Options of every command that talks to Twenty; ferry.toml gives them when present."""
    options = [
        click.option(
            "--twenty-url",
            envvar="TWENTY_API_URL",
            default=None,
            help="Base URL of the Twenty API (env TWENTY_API_URL; default: ferry.toml).",
        ),
        click.option(
            "--api-key-env",
            default=None,
            callback=_variable_name,
            help="Name of the variable holding the API key (default: ferry.toml, TWENTY_API_KEY).",
        ),
        click.option(
            "--rate-limit",
            default=None,
            help="Request budget, e.g. 100/60s or 100/1s,100/60s (default: ferry.toml).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


class _Target:
    """Where a schema or members command works: the work directory's session, or bare options.

    With a ferry.toml in the work directory, the confirmed mapping decides the data model
    (the gate refuses a changed or unconfirmed mapping) and changes are recorded in ferry.db.
    Without one, the default data model is used and nothing is recorded.
    """

    def __init__(
        self,
        context: Context,
        twenty_url: str | None,
        api_key_env: str | None,
        rate_limit: str | None,
    ) -> None:
        from core.config import CONFIG_NAME

        self.session: Any = None
        overrides = {
            "twenty.url": twenty_url,
            "twenty.api_key_env": api_key_env,
            "twenty.rate_limit": rate_limit,
        }
        if (context.workdir / CONFIG_NAME).exists():
            self.session = _session(context, **overrides)
        elif twenty_url is None:
            raise click.UsageError("give --twenty-url (or run `ferry init` in the work directory)")
        self._bare = (twenty_url or "", api_key_env or "TWENTY_API_KEY", rate_limit or "100/60s")

    def spec(self) -> Any:
        from core.schema_spec import default_spec

        return self.session.spec() if self.session else default_spec()

    def call(self, work: Any) -> Any:
        """Run `work(client)` on the event loop with a client, then close everything."""
        import anyio

        async def run() -> Any:
            if self.session is not None:
                async with self.session.client() as client:
                    return await work(client)
            async with _bare_client(*self._bare) as client:
                return await work(client)

        try:
            return anyio.run(run)
        finally:
            self.close()

    def close(self) -> None:
        if self.session is not None:
            self.session.workspace.close()


def _bare_client(twenty_url: str, api_key_env: str, rate_limit: str) -> Any:
    from adapters.twenty import TwentyClient
    from core.ports.destination import DestinationSettings
    from core.rate_limit import RateLimiter, parse_windows

    settings = DestinationSettings(url=twenty_url, api_key_env=api_key_env)
    return TwentyClient(settings, gate=RateLimiter(parse_windows(rate_limit)))


@ferry.group()
def schema() -> None:
    """Twenty's data model: plan, apply, or check by hand the objects and fields Ferry needs."""


@schema.command("plan")
@_twenty_options
@pass_context
def schema_plan(
    context: Context, twenty_url: str | None, api_key_env: str | None, rate_limit: str | None
) -> None:
    """Show what is missing or conflicting in the workspace's data model."""
    from core.schema import plan_workspace

    target = _Target(context, twenty_url, api_key_env, rate_limit)
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
@_twenty_options
@click.option(
    "--probe/--no-probe",
    default=True,
    show_default=True,
    help="Write, read back and delete one test record per object afterwards.",
)
@pass_context
def schema_apply(
    context: Context,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
    probe: bool,
) -> None:
    """Create the missing objects and fields (idempotent, resumable); each change is an event."""
    from core.schema import change_event, setup
    from events.store import NewEvent

    target = _Target(context, twenty_url, api_key_env, rate_limit)
    spec = target.spec()
    store = target.session.workspace.store if target.session else None
    if store is None:
        click.echo("note: no work directory here; changes are not recorded", err=True)

    def record(change: Any, metadata_id: str) -> None:
        click.echo(f"applied {change.kind} {change.object_name} {change.field_name}".rstrip())
        if store is not None:
            store.append([NewEvent("migration", change_event(change, metadata_id))])

    progress = _RichProgress(Console(stderr=True))
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
    click.echo(_next_step("schema apply"))


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
@_twenty_options
@pass_context
def schema_checklist(
    context: Context,
    out: Path | None,
    compare: bool,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
) -> None:
    """The Markdown checklist for an admin building the data model in Settings → Data Model."""
    from core.config import CONFIG_NAME
    from core.schema import plan_workspace
    from core.schema_checklist import checklist
    from core.schema_spec import default_spec

    has_workdir = (context.workdir / CONFIG_NAME).exists()
    if compare or has_workdir:
        target = _Target(context, twenty_url, api_key_env, rate_limit)
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


@ferry.group()
def members() -> None:
    """Twenty workspace members and the Dental-Exec providers they stand for."""


@members.command("check")
@_twenty_options
@click.option(
    "--export",
    "export",
    default=None,
    type=click.Path(path_type=Path),
    help="The Dental-Exec export to read providers from (default: ferry.toml's source).",
)
@click.option(
    "--placeholder",
    default=None,
    envvar="FERRY_PLACEHOLDER_OWNER",
    help="Email of the member who gets unmatched assignments (default: ferry.toml).",
)
@pass_context
def members_check(
    context: Context,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
    export: Path | None,
    placeholder: str | None,
) -> None:
    """Match providers to workspace members by email; list unmatched, missing and shared."""
    from adapters.dental_exec import open_export
    from core.members import check_members, providers_from_rows

    target = _Target(context, twenty_url, api_key_env, rate_limit)
    if target.session is not None:
        headers = target.session.headers
        source = open_export(export, headers) if export else target.session.source
        placeholder = placeholder or target.session.workspace.config.run.placeholder_owner or None
    elif export is None:
        raise click.UsageError("give --export (or run `ferry init` in the work directory)")
    else:
        source = open_export(export)
    providers = providers_from_rows(source.rows("provider"))
    mapped = target.session.workspace.config.members if target.session is not None else {}
    report = target.call(lambda c: check_members(providers, c, placeholder, mapped))
    _print_members(report)


def _print_members(report: Any) -> None:
    from rich.markup import escape

    from core.reports.members_check import member_rows, member_warnings

    table = Table("provider", "name", "export email", "outcome", "records go to", "to do")
    for row in member_rows(report):
        cells = (row.code, row.name, row.email, row.outcome, row.member, row.action)
        table.add_row(*(escape(cell) for cell in cells))
    console = Console(highlight=False)
    console.print(table)
    for line in member_warnings(report):
        _warn(console, line)
    owner = report.placeholder
    click.echo(
        f"placeholder owner: {owner.email} ({owner.id})"
        if owner
        else f"placeholder owner: none ({report.placeholder_problem}; set one with "
        "`ferry config set run.placeholder_owner EMAIL`)"
    )
    click.echo(f"{len(report.matched)} matched, {len(report.defaulted)} to the placeholder")


def _warn(console: Console, line: str, label: str = "WARNING:") -> None:
    """A WARNING or BLOCKER line: the label styled on a terminal (bold yellow, bold red),
    plain text when the output is not a terminal; never wrapped."""
    from rich.text import Text

    style = "bold red" if label.startswith("BLOCKER") else "bold yellow"
    console.print(Text.assemble((label, style), f" {line}"), soft_wrap=True)


# --- mapping --------------------------------------------------------------------------------


@ferry.group("map")
def map_group() -> None:
    """Propose, confirm and compare the mapping (mapping.toml) from the export to Twenty."""


def _mapping_path(context: Context) -> Path:
    return context.workdir / "mapping.toml"


@map_group.command("propose")
@click.argument("export", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the mapping (default: <workdir>/mapping.toml).",
)
@pass_context
def map_propose(context: Context, export: Path, out: Path | None) -> None:
    """Propose mapping.toml from the export's headers and values; write the mapping document
    (reports/mapping.md and .html) and print a summary, lowest confidence first."""
    from adapters.dental_exec import open_export
    from core.mapping import write_mapping
    from core.mapping.proposer import propose_mapping
    from core.reports.mapping_summary import write_proposal_report
    from core.reports.next_step import next_step
    from events.private_files import private_dir

    proposal = propose_mapping(open_export(export))
    target = out or _mapping_path(context)
    digest = write_mapping(proposal.mapping, target)
    reports = private_dir(context.workdir / "reports")
    if context.store_path.exists():  # a proposal may be the confirmed mapping again
        with _open_store(context) as store:
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
@pass_context
def map_confirm(context: Context, user: str | None, allow_missing: tuple[str, ...]) -> None:
    """Record MappingConfirmed (file hash, user, time, files acknowledged absent) for the
    work dir's mapping.toml, after checking the export's files and required columns."""
    import getpass

    from core.lifecycle import Lifecycle
    from core.mapping.gate import confirm_mapping
    from core.reports.next_step import next_step
    from core.source_audit.readiness import file_label
    from events.private_files import private_dir
    from events.store import EventStore

    who = user or getpass.getuser()
    source = _configured_source(context, _mapping_path(context))
    private_dir(context.workdir)
    path = context.store_path
    with EventStore.open(path, transition=Lifecycle().next_state, create=True) as store:
        event = confirm_mapping(_mapping_path(context), store, who, source, allow_missing)
    for entity in filter(None, event.absent_files.split(",")):
        click.echo(f"acknowledged absent from the export: {file_label(entity)}")
    click.echo(f"Mapping confirmed by {who}: sha256 {event.mapping_hash}")
    click.echo(next_step("map confirm"))


def _configured_source(context: Context, mapping_path: Path) -> Any:
    """The export named in ferry.toml, read through the headers of the mapping about to be
    confirmed; None before `ferry init` (checked again by `run`)."""
    from adapters.dental_exec import open_export
    from core.config import load_config
    from core.mapping import MappingError, load_mapping
    from core.mapping.headers import header_meanings

    if not (context.workdir / "ferry.toml").exists():
        return None
    path = Path(load_config(context.workdir).source)
    try:
        headers = header_meanings(load_mapping(mapping_path))
    except MappingError:
        headers = None  # confirm_mapping names what is wrong with the mapping itself
    return open_export(path, headers) if path.exists() else None


@map_group.command("diff")
@pass_context
def map_diff(context: Context) -> None:
    """Show what changed in mapping.toml since it was last confirmed."""
    from core.mapping import load_mapping
    from core.mapping.gate import diff_mappings, load_confirmed

    current = load_mapping(_mapping_path(context))
    changes = diff_mappings(load_confirmed(_mapping_path(context)), current)
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
@pass_context
def map_show(context: Context, out: Path | None) -> None:
    """Write the mapping document for sign-off (Markdown and HTML), owner-only."""
    _write_mapping_document(context, out)


def _write_mapping_document(context: Context, out: Path | None) -> None:
    """`map show` and `report mapping`: the document of the work directory's mapping.toml."""
    from core.reports.mapping_render import write_mapping_report
    from events.private_files import private_dir

    markdown = out or private_dir(context.workdir / "reports") / "mapping.md"
    if not context.store_path.exists():
        written = write_mapping_report(_mapping_path(context), markdown)
    else:
        with _open_store(context) as store:
            written = write_mapping_report(_mapping_path(context), markdown, store)
    click.echo(f"written: {written[0]} and {written[1]}, owner-only")


# --- runs: init, plan, sample, run, verify, demo --------------------------------------------


@ferry.command("init")
@click.option(
    "--source",
    "source_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="The Dental-Exec export: a directory or a ZIP.",
)
@click.option(
    "--twenty-url", default=None, help="Base URL of the Twenty API (default: local sandbox)."
)
@click.option(
    "--api-key-env",
    default=None,
    callback=_variable_name,
    help="Name of the environment variable holding the API key (default TWENTY_API_KEY).",
)
@click.option(
    "--placeholder-owner",
    default=None,
    help="Email of the workspace member who gets assignments no provider matches.",
)
@pass_context
def init_command(
    context: Context,
    source_path: Path,
    twenty_url: str | None,
    api_key_env: str | None,
    placeholder_owner: str | None,
) -> None:
    """Create the work directory: ferry.toml, ferry.db (with the migration's id space), reports/."""
    from core.config import WorkspaceConfig, override
    from core.workspace import init_workspace

    config = override(
        WorkspaceConfig(source=str(source_path.resolve())),
        **{
            "twenty.url": twenty_url,
            "twenty.api_key_env": api_key_env,
            "run.placeholder_owner": placeholder_owner,
        },
    )
    workspace = init_workspace(context.workdir, config, ferry_version=_version())
    workspace.close()
    click.echo(f"initialised {context.workdir}: ferry.toml, ferry.db, reports/")
    click.echo(f"migration namespace {workspace.namespace} (every Twenty id derives from it)")
    click.echo("next: `ferry source audit`, then `ferry map propose EXPORT`")


@ferry.group("config")
def config_group() -> None:
    """Show or change ferry.toml's settings without running `ferry init` again."""


@config_group.command("show")
@pass_context
def config_show(context: Context) -> None:
    """Every setting, `key = value`; for the API key only the variable's name and whether it
    is set (the key itself is never shown)."""
    from core.config import load_config
    from core.settings import setting_lines

    for line in setting_lines(load_config(context.workdir), os.environ):
        click.echo(line)


@config_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@pass_context
def config_set(context: Context, key: str, value: str) -> None:
    """Set KEY (e.g. run.placeholder_owner, twenty.batch_size, members.DDS1) to VALUE, checked
    first; "" clears an email. ferry.toml stays owner-only; see `ferry config show`."""
    from core.settings import save_setting, setting_lines

    config = save_setting(context.workdir, key, value)
    section, _, name = key.strip().partition(".")
    is_member = section.lower() == "members"
    shown = f"members.{name.strip().upper()}" if is_member else key.strip()
    lines = setting_lines(config, os.environ)
    click.echo(next((x for x in lines if x.split(" = ")[0] == shown), f"{shown} removed"))
    if is_member or shown == "run.placeholder_owner":
        click.echo("next: ferry members check (see whose records go to whom)")


def _session(context: Context, **overrides: Any) -> Any:
    """The work directory's migration session, with the real adapters plugged in."""
    from adapters.dental_exec import open_export
    from adapters.twenty import TwentyClient
    from core.clock import SystemClock
    from core.config import load_config, override
    from core.session import Session
    from core.workspace import open_workspace

    config = override(load_config(context.workdir), **overrides)
    workspace = open_workspace(context.workdir, config)
    return Session(
        workspace,
        open_export,
        lambda settings, gate: TwentyClient(settings, gate=gate),
        SystemClock(),
    )


class _RichProgress:
    """Progress bars per entity and stage, with rate and ETA; notes print above them."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>10}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[tuple[str, str], Any] = {}

    def stage(self, entity: str, stage: str, total: int | None) -> None:
        if total == 0:
            return  # nothing to load for this entity: no empty bar
        self._tasks[(entity, stage)] = self.bars.add_task(
            f"{stage:<5} {entity}", total=total, rate=""
        )

    def advance(self, entity: str, stage: str, count: int) -> None:
        task = self._tasks.get((entity, stage))
        if task is not None:
            self.bars.advance(task, count)
            state = self.bars.tasks[task]
            self.bars.update(task, rate=_rate_text(state.completed, state.elapsed, state.speed))

    def note(self, message: str) -> None:
        self.bars.console.print(message)


RATE_MIN_SECONDS = 1.0
RATE_MIN_ITEMS = 100


def _rate_text(done: float, elapsed: float | None, speed: float | None) -> str:
    """`1,234/s`, or nothing while the phase is too short or too small for a rate to mean
    anything (50 records in a few milliseconds would read as 100,000/s)."""
    if not elapsed or elapsed < RATE_MIN_SECONDS or done < RATE_MIN_ITEMS:
        return ""
    return f"{speed or done / elapsed:,.0f}/s"


class _StopOnInterrupt:
    """First Ctrl-C: stop after in-flight requests settle. Second: abort at once."""

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> _StopOnInterrupt:
        import signal

        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        click.echo(
            "\nstopping after the requests in flight settle (Ctrl-C again to abort)", err=True
        )

    def __exit__(self, *exc: object) -> None:
        import signal

        signal.signal(signal.SIGINT, self._previous)


def _twenty_overrides(
    twenty_url: str | None, api_key_env: str | None, rate_limit: str | None, batch_size: int | None
) -> dict[str, Any]:
    return {
        "twenty.url": twenty_url,
        "twenty.api_key_env": api_key_env,
        "twenty.rate_limit": rate_limit,
        "twenty.batch_size": batch_size,
    }


def _run_overrides(command: Any) -> Any:
    """Options that override ferry.toml for one command."""
    options = [
        click.option("--twenty-url", default=None, help="Override twenty.url of ferry.toml."),
        click.option(
            "--api-key-env",
            default=None,
            callback=_variable_name,
            help="Override twenty.api_key_env (a variable name).",
        ),
        click.option(
            "--rate-limit", default=None, help="Override twenty.rate_limit, e.g. 100/60s."
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(1, 200),
            default=None,
            help="Override twenty.batch_size (records per batch create).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _execute(context: Context, request: Any, overrides: dict[str, Any]) -> Any:
    """Run a request with progress bars and Ctrl-C handling; write and print its report."""
    import anyio

    session = _session(context, **overrides)
    console = Console(stderr=True)
    progress = _RichProgress(console)
    try:
        with _StopOnInterrupt() as stop, progress.bars:
            result = anyio.run(
                lambda: session.run(request, progress=progress, should_stop=lambda: stop.requested)
            )
        # Imported after the run: a resumed run's first request need not wait for them.
        from core.reports.files import write_private
        from core.reports.run_report import render_run_report, run_facts, store_facts

        facts = store_facts(session.workspace.store.connection, result.run_id)
        report = render_run_report(run_facts(result), facts)
        path = write_private(session.workspace.reports / f"run-{result.run_id}.md", report)
        anchored = _anchor_workspace(session.workspace)
    finally:
        session.workspace.close()
    _print_run_summary(result, path)
    click.echo(anchored)
    return result


def _print_run_summary(result: Any, report: Path) -> None:
    table = Table(
        "entity",
        "read",
        "unchanged",
        "validated",
        "rejected",
        "skipped",
        "created",
        "linked",
        "failed",
        "blocked",
        title=f"run {result.run_id}: {result.outcome}",
    )
    for entity in dict.fromkeys([*result.local, *result.load]):
        local, load = result.local.get(entity), result.load.get(entity)
        cells = (
            [local.read, local.unchanged, local.validated, local.rejected, local.skipped]
            if local
            else [""] * 5
        )
        cells += [load.created, load.linked, load.failed] if load else [""] * 3
        cells.append(len(result.blocked.get(entity, [])))
        if any(c not in ("", 0) for c in cells):
            table.add_row(entity, *(str(c) for c in cells))
    Console(width=max(Console().width, 120)).print(table)
    click.echo(f"{result.seconds:.1f} s; report: {report}")
    for reason in result.reasons:
        click.echo(f"not done: {reason}", err=True)
    if result.outcome != "completed" and not result.reasons:
        click.echo("run `ferry run` again to resume exactly where it stopped")


@ferry.command("run")
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
@_run_overrides
@pass_context
def run_command(
    context: Context,
    entities: tuple[str, ...],
    max_duration: float | None,
    retry_failed: bool,
    without_sample_approval: bool,
    force: bool,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
    batch_size: int | None,
) -> None:
    """Migrate everything in Twenty's order; run again after any stop to resume exactly."""
    from core.pipeline.run import RunRequest

    _require_sample_approval(context, without_sample_approval)
    request = RunRequest(
        entities=entities, max_duration_s=max_duration, retry_failed=retry_failed, force=force
    )
    result = _execute(
        context, request, _twenty_overrides(twenty_url, api_key_env, rate_limit, batch_size)
    )
    click.echo(_next_step("run", is_ok=result.outcome == "completed" and not result.reasons))
    if result.outcome not in ("completed",):
        sys.exit(3 if result.outcome in ("interrupted", "timed_out") else 1)


def _require_sample_approval(context: Context, skip: bool) -> None:
    """`ferry run` needs an approved sample unless told otherwise."""
    if skip:
        return
    from core.mapping.gate import confirmed_hash
    from core.pipeline.approval import is_sample_approved as approval_recorded
    from core.pipeline.sample_approval import is_sample_approved

    with _open_store(context) as store:
        # The approval must be on record and match the current diff and confirmed mapping:
        # a new sample or a changed mapping voids it.
        recorded = approval_recorded(store, confirmed_hash(store))
        current = is_sample_approved(context.workdir / "reports", confirmed_hash(store))
    if not (recorded and current):
        raise click.ClickException(
            "no approved sample for the current mapping: run `ferry sample`, review "
            "reports/sample-diff.html, then `ferry sample approve` "
            "(or pass --without-sample-approval)"
        )


# verify, plan, sample: read-back checks and reports. The helpers below build the workspace
# and the Twenty client from ferry.toml with the per-command overrides of `_run_overrides`.


def _checks_workspace(context: Context, overrides: dict[str, Any]) -> Any:
    """The work directory with ferry.toml's Twenty settings overridden."""
    from core.config import load_config, override
    from core.workspace import open_workspace

    return open_workspace(context.workdir, override(load_config(context.workdir), **overrides))


def _checks_client(workspace: Any) -> Any:
    """A Twenty client configured by the workspace (key read from its variable), on the
    budget the last process left (core.session.open_client); call it with `_checks_call`."""
    from adapters.twenty import TwentyClient
    from core.session import open_client

    return open_client(workspace, lambda settings, gate: TwentyClient(settings, gate=gate))


def _checks_call(client: Any, work: Any) -> Any:
    """Run `work(client)` on the event loop, then close the client."""
    import anyio

    async def run() -> Any:
        async with client as opened:
            return await work(opened)

    return anyio.run(run)


def _source_count(workspace: Any) -> Any:
    """The source as it stands, counted from the files: the first export and every delta
    applied since (`core.pipeline.verification.count_source_rows`)."""
    from adapters.dental_exec import open_export
    from core.mapping.gate import confirmed_headers
    from core.pipeline.source_view import delta_exports
    from core.pipeline.verification import count_source_rows

    locations = [workspace.config.source, *delta_exports(workspace.store.connection)]
    headers = confirmed_headers(workspace.mapping_path)
    exports = [
        (location, open_export(Path(location), headers) if Path(location).exists() else None)
        for location in locations
    ]
    return count_source_rows(exports)


def _checks_source(workspace: Any) -> Any:
    """The workspace's export, or None when it is no longer where ferry.toml says."""
    from adapters.dental_exec import open_export
    from core.mapping.gate import confirmed_headers

    path = Path(workspace.config.source)
    return open_export(path, confirmed_headers(workspace.mapping_path)) if path.exists() else None


@ferry.command("verify")
@click.option(
    "--entity", default=None, help="Only read back this entity (the reconciliation covers all)."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the verification and reconciliation as JSON."
)
@_run_overrides
@pass_context
def verify_command(
    context: Context,
    entity: str | None,
    as_json: bool,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
    batch_size: int | None,
) -> None:
    """Read every migrated record back by id, compare each field; write reconciliation.md."""
    from core.clock import SystemClock
    from core.pipeline.verification import verify_workspace
    from core.reports import reconciliation_data

    overrides = _twenty_overrides(twenty_url, api_key_env, rate_limit, batch_size)
    workspace = _checks_workspace(context, overrides)
    try:
        counted = _source_count(workspace)
        now = SystemClock().now()
        # `--json` prints data only: no bar in the output a script parses.
        progress = _RichProgress(Console(stderr=True, quiet=as_json))
        progress.stage("records", "read back", _records_to_verify(workspace, entity))
        with progress.bars:
            outcome = _checks_call(
                _checks_client(workspace),
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
    summary = outcome.summary
    if as_json:
        data = {
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
        click.echo(msgspec.json.format(msgspec.json.encode(data)).decode())
    else:
        _print_verification(outcome)
        click.echo(_next_step("verify", is_ok=outcome.is_clean))
    if not outcome.is_clean:
        sys.exit(1)


def _records_to_verify(workspace: Any, entity: str | None) -> int:
    """The records `ferry verify` reads back (for its progress bar)."""
    sql = (
        "SELECT COUNT(*) FROM record_state WHERE state IN ('loaded', 'verified', "
        "'verify_failed')" + (" AND entity = ?" if entity else "")
    )
    return int(workspace.store.connection.execute(sql, (entity,) if entity else ()).fetchone()[0])


def _print_verification(outcome: Any) -> None:
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


@ferry.command("plan")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--offline", is_flag=True, help="Do not contact Twenty: the schema and members go unchecked."
)
@_run_overrides
@pass_context
def plan_command(
    context: Context,
    as_json: bool,
    offline: bool,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
    batch_size: int | None,
) -> None:
    """Pre-flight: records, requests, duration under the budget, and every blocker (exit 1)."""
    overrides = _twenty_overrides(twenty_url, api_key_env, rate_limit, batch_size)
    workspace = _checks_workspace(context, overrides)
    try:
        plan = _make_plan(workspace, offline)
    finally:
        workspace.close()
    if as_json:
        data = {**msgspec.to_builtins(plan), "is_ready": plan.is_ready}
        click.echo(msgspec.json.format(msgspec.json.encode(data)).decode())
    else:
        _print_plan(plan)
    if not plan.is_ready:
        sys.exit(1)


def _make_plan(workspace: Any, offline: bool) -> Any:
    from core.mapping.gate import check_gate, confirmed_hash
    from core.mapping.spec import schema_spec_from_mapping
    from core.members import providers_from_rows
    from core.pipeline.plan import PlanInputs, check_destination, make_plan
    from core.pipeline.sample_approval import is_sample_approved
    from core.schema_spec import default_spec

    source = _checks_source(workspace)
    twenty = workspace.config.twenty

    def gate() -> Any:
        return check_gate(workspace.mapping_path, workspace.store, source)

    schema = members = None
    if not offline:
        try:
            spec = schema_spec_from_mapping(gate())
        except FerryError:
            spec = default_spec()  # the mapping finding says what is wrong with it
        providers = providers_from_rows(source.rows("provider")) if source else []
        placeholder = workspace.config.run.placeholder_owner or None
        schema, members = _checks_call(
            _checks_client(workspace),
            lambda c: check_destination(
                spec, c, c, providers, placeholder, workspace.config.members
            ),
        )
    from core.session import destination_settings

    inputs = PlanInputs(
        batch_size=destination_settings(workspace).batch_size,
        rate_limit=twenty.rate_limit,
        source=source,
        mapping_check=gate,
        sample_approved=lambda: is_sample_approved(workspace, confirmed_hash(workspace.store)),
        schema=schema,
        members=members,
    )
    return make_plan(workspace.store.connection, inputs)


def _print_plan(plan: Any) -> None:
    from core.pipeline.plan import NOT_RECORDS

    table = Table(
        "entity", "to send", "in Twenty", "rejected", "skipped", "not sent", "load requests",
        title=f"Plan (records counted from the {plan.counted_from})",
    )  # fmt: skip
    for e in plan.entities:
        cells = (e.to_send, e.in_twenty, e.rejected, e.skipped, e.not_sent, e.load_requests)
        table.add_row(e.entity, *(f"{c:,}" for c in cells))
    console = Console(highlight=False)
    console.print(table)
    for e in plan.entities:
        if e.not_sent:
            click.echo(f"{e.entity}: {e.not_sent:,} row(s) {NOT_RECORDS[e.entity]}")
    click.echo(
        f"load: {plan.load_requests:,} requests at {plan.batch_size} records each, "
        f"~{plan.load_seconds / 60:,.1f} min under {plan.rate_limit} "
        f"(tightest window {plan.tightest_window}); verify: {plan.verify_requests:,} "
        f"requests, ~{plan.verify_seconds / 60:,.1f} min"
    )
    for finding in plan.findings:
        _warn(console, f"{finding.code}: {finding.what}", finding.severity.upper())
        click.echo(f"    what to do: {finding.fix}")
    click.echo("ready to run" if plan.is_ready else "not ready: resolve the blockers above")


@ferry.group("sample", invoke_without_command=True)
@click.option(
    "--size",
    type=click.IntRange(min=1),
    default=None,
    help="Records (source rows) to aim at (default: run.sample_size of ferry.toml, 400).",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed of the random part of the sample."
)
@_run_overrides
@click.pass_context
def sample_group(
    ctx: click.Context,
    size: int | None,
    seed: int,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
    batch_size: int | None,
) -> None:
    """Select a representative slice, run it into Twenty, write the field-level diff."""
    if ctx.invoked_subcommand is not None:
        return
    context = ctx.find_object(Context)
    overrides = _twenty_overrides(twenty_url, api_key_env, rate_limit, batch_size)
    selection, info, paths = _run_sample(context, size, seed, overrides)
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
    click.echo(_next_step("sample", is_ok=not info.disagreements))


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
@pass_context
def sample_approve_command(context: Context, user: str | None, accept_differences: bool) -> None:
    """Record the approval of the current sample diff (`ferry run` needs it)."""
    import getpass

    from core.clock import SystemClock
    from core.pipeline.approval import approve_sample as record_approval
    from core.pipeline.sample_approval import approve_sample

    approval = approve_sample(
        context.workdir / "reports",
        user=user or getpass.getuser(),
        now=SystemClock().now(),
        accept_differences=accept_differences,
    )
    if context.store_path.exists():  # the audit trail: SampleApproved in the event log
        with _open_store(context) as store:
            record_approval(
                store, approval.run_id, approval.diff_hash, approval.user, approval.mapping_hash
            )
    click.echo(
        f"sample run {approval.run_id} approved by {approval.user} at {approval.approved_at} "
        f"(diff {approval.diff_hash[:12]})"
    )
    click.echo(_next_step("sample approve"))


def _run_sample(context: Context, size: int | None, seed: int, overrides: dict[str, Any]) -> Any:
    """Select the sample, run it (progress, run report), read it back and write the diff."""
    import anyio

    from core.mapping.gate import confirmed_hash
    from core.pipeline.run import RunRequest
    from core.pipeline.sample import SampleOptions, select_sample
    from core.pipeline.sample_approval import (
        DIFF_CSV,
        DIFF_HTML,
        SHAREABLE_CSV,
        SHAREABLE_HTML,
        write_sample_diff,
    )
    from core.pipeline.sample_diff import build_sample_diff, field_sources, field_transforms

    session = _session(context, **overrides)
    try:
        session.mapping()  # the gate refuses before anything is selected or sent
        wanted = size or session.workspace.config.run.sample_size
        selection = select_sample(session.source, SampleOptions(size=wanted, seed=seed))
    finally:
        session.workspace.close()
    result = _execute(context, RunRequest(command="sample", keys=selection.keys), overrides)
    session = _session(context, **overrides)
    try:
        sources = field_sources(session.mapping())
        transforms = field_transforms(session.mapping())
        conn = session.workspace.store.connection

        progress = _RichProgress(Console(stderr=True))
        progress.stage("sample", "read back", sum(len(k) for k in selection.keys.values()))

        async def read_back() -> Any:
            async with session.client() as client:
                return await build_sample_diff(
                    conn,
                    client,
                    selection.keys,
                    sources,
                    transforms=transforms,
                    custom=selection.custom,
                    patients=selection.patient_of,
                    run_id=result.run_id,
                    on_page=lambda n: progress.advance("sample", "read back", n),
                )

        with progress.bars:
            diff = anyio.run(read_back)
        reports = session.workspace.reports
        mapping_hash = confirmed_hash(session.workspace.store) or ""
        info = write_sample_diff(reports, diff, mapping_hash=mapping_hash)
    finally:
        session.workspace.close()
    written = (DIFF_HTML, DIFF_CSV, SHAREABLE_HTML, SHAREABLE_CSV)
    return selection, info, [reports / name for name in written]


_REPO_FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _demo_steps(workdir: Path, export: Path, url: str, key_env: str) -> list[tuple[str, list[str]]]:
    """The whole flow an operator runs, as the commands they would type."""
    return [
        (
            "create the work directory",
            [
                "init",
                "--source",
                str(export),
                "--twenty-url",
                url,
                "--api-key-env",
                key_env,
                "--placeholder-owner",
                "office@brightsmiles.example",
            ],
        ),
        (
            "audit the export",
            ["source", "audit", str(export), "--out", str(workdir / "reports" / "source-audit.md")],
        ),
        ("propose the field map", ["map", "propose", str(export)]),
        ("confirm the field map", ["map", "confirm", "--user", "demo"]),
        ("create the custom objects and fields", ["schema", "apply"]),
        ("match providers to workspace members", ["members", "check"]),
        ("run a sample and diff it field by field", ["sample", "--size", "5"]),
        ("approve the sample", ["sample", "approve", "--user", "demo"]),
        ("migrate everything", ["run"]),
        ("read everything back and reconcile", ["verify"]),
        ("check the tamper-evident event log", ["events", "verify"]),
    ]


@ferry.command("demo")
@click.option(
    "--bundle",
    type=click.Choice(["small_cp1252", "small_utf8"]),
    default="small_cp1252",
    show_default=True,
    help="Which bundled fixture export to migrate.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Fresh work directory for the demo (default: ./ferry-demo-<time>).",
)
def demo_command(bundle: str, out: Path | None) -> None:
    """The whole flow on the bundled fixtures, against an embedded Twenty sandbox."""
    import secrets
    import time

    from adapters.twenty_sandbox import SandboxConfig, running_sandbox

    export = _REPO_FIXTURES / "dental_exec" / bundle
    if not export.exists():
        raise click.ClickException(
            f"the bundled fixtures are missing at {export}; run from a checkout"
        )
    workdir = out or Path(f"ferry-demo-{time.strftime('%Y%m%d-%H%M%S')}")
    if workdir.exists() and any(workdir.iterdir()):
        raise click.ClickException(f"{workdir} is not empty; the demo needs a fresh directory")
    key_env, started = "FERRY_DEMO_API_KEY", time.monotonic()
    config = SandboxConfig(
        api_key=secrets.token_urlsafe(24),
        port=0,
        members_csv=_REPO_FIXTURES / "demo" / "members.csv",
    )
    with running_sandbox(config) as sandbox:
        os.environ[key_env] = sandbox.api_key
        click.echo(f"embedded Twenty sandbox on {sandbox.base_url} (stopped at the end)")
        steps = _demo_steps(workdir, export, sandbox.base_url, key_env)
        for number, (title, args) in enumerate(steps, 1):
            click.secho(f"\n[{number}/{len(steps)}] {title}: ferry {' '.join(args[:2])}", bold=True)
            try:
                ferry.main(args=["--workdir", str(workdir), *args], standalone_mode=False)
            except click.ClickException as error:
                raise click.ClickException(
                    f"step {number} ({title}) failed: {error.format_message()}"
                ) from error
        stats = sandbox.stats()
    reports = workdir / "reports"
    click.secho(
        f"\ndemo finished in {time.monotonic() - started:.0f} s; sandbox stopped", bold=True
    )
    click.echo(f"  {stats['requests']} requests to Twenty, {stats['throttled']} throttled")
    click.echo(f"  work directory: {workdir} (ferry.db, ferry.toml, mapping.toml)")
    for name in ("source-audit.md", "sample-diff.html", "reconciliation.md"):
        click.echo(f"  report: {reports / name}")
    click.echo(f"  run reports: {reports}/run-*.md; try `ferry --workdir {workdir} status`")


# --- delta: changes made in Dental-Exec during the cutover ---------------------------------


@ferry.command("delta")
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
@_run_overrides
@pass_context
def delta_command(
    context: Context,
    new_export: Path,
    dry_run: bool,
    apply_deletes: bool,
    force: bool,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
    batch_size: int | None,
) -> None:
    """Send only what changed in Dental-Exec since the last run (delta bundle or full export)."""
    import anyio

    from adapters.dental_exec import open_export
    from core.clock import SystemClock
    from core.pipeline.delta import DeltaOptions
    from core.pipeline.delta_apply import apply_delta
    from core.pipeline.delta_report import render_delta_report
    from core.reports.files import write_private

    options = DeltaOptions(dry_run=dry_run, apply_deletes=apply_deletes, force=force)
    session = _session(
        context, **_twenty_overrides(twenty_url, api_key_env, rate_limit, batch_size)
    )
    try:
        export = open_export(new_export, session.headers)
        progress = _RichProgress(Console(stderr=True))
        with _held(session.workspace.workdir, "delta", hold=not dry_run), progress.bars:
            result = anyio.run(
                lambda: apply_delta(session, export, options, SystemClock(), progress)
            )
        report, anchored = None, ""
        if not dry_run:
            text = render_delta_report(result)
            report = write_private(session.workspace.reports / f"delta-{result.run_id}.md", text)
            anchored = _anchor_workspace(session.workspace)
        if dry_run:
            click.echo(_delta_cost(session.workspace, result))
    finally:
        session.workspace.close()
    _print_delta(result, report)
    if anchored:
        click.echo(anchored)
    step = "delta dry run" if dry_run else "delta"
    click.echo(_next_step(step, is_ok=result.outcome == "completed"))


def _delta_cost(workspace: Any, result: Any) -> str:
    """`N write request(s) ...: about T under the budget` for a dry run's planned writes."""
    from core.pipeline.plan import IDS_PER_LOOKUP, estimate_seconds

    budget = workspace.config.twenty.rate_limit
    # The real delta reads each record it updates or deletes once before writing (conflicts).
    reads = -(-sum(1 for w in result.planned if w.operation != "create") // IDS_PER_LOOKUP)
    requests = result.write_requests + reads
    return (
        f"the delta would send {result.write_requests:,} write request(s) and about "
        f"{reads:,} read(s): about {_duration(estimate_seconds(requests, budget))} under {budget}"
    )


def _print_delta(result: Any, report: Path | None) -> None:
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
    Console(width=max(Console().width, 120)).print(table)
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


# --- rollback -------------------------------------------------------------------------------


@ferry.command("rollback")
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
@_run_overrides
@pass_context
def rollback_command(
    context: Context,
    run_id: str | None,
    entity: str | None,
    since: str | None,
    dry_run: bool,
    schema: bool,
    yes: bool,
    force: bool,
    twenty_url: str | None,
    api_key_env: str | None,
    rate_limit: str | None,
    batch_size: int | None,
) -> None:
    """Undo the migration in Twenty, newest first: delete, restore before-images, re-delete."""
    from core.rollback import RollbackOptions, RollbackScope, check_scope

    scope = RollbackScope(run_id=run_id, entity=entity, since=_instant_option(since))
    overrides = _twenty_overrides(twenty_url, api_key_env, rate_limit, batch_size)
    workspace = _checks_workspace(context, overrides)
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
        result = _run_rollback(workspace, options, estimate.records)
        anchored = _anchor_workspace(workspace)
    finally:
        workspace.close()
    _print_rollback_result(result)
    click.echo(anchored)
    click.echo(_next_step("rollback", is_ok=result.outcome == "completed" and not result.failures))
    if result.outcome != "completed":
        sys.exit(3 if result.outcome == "interrupted" else 1)
    if result.failures or any(c.resolution == "left_alone" for c in result.conflicts):
        sys.exit(1)


def _rollback_estimate(workspace: Any, scope: Any, force: bool) -> Any:
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


def _rollback_cost(workspace: Any, estimate: Any) -> str:
    """`N write(s): D delete(s), R restore(s); Q request(s), about T under the budget`."""
    from core.pipeline.plan import estimate_seconds

    budget = workspace.config.twenty.rate_limit
    seconds = estimate_seconds(estimate.requests, budget)
    return (
        f"{estimate.records:,} record(s) to undo ({estimate.deletes:,} delete(s), "
        f"{estimate.restores:,} restore(s)); {estimate.requests:,} request(s), about "
        f"{_duration(seconds)} under {budget}"
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:,.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds / 3600:,.1f} h"


def _confirm_rollback(yes: bool, cost: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.ClickException(
            "rollback changes Twenty: pass --yes in a non-interactive shell "
            "(or run `ferry rollback --dry-run` first to see the plan)"
        )
    click.confirm(f"{cost}. Undo these writes in Twenty now?", abort=True)


def _held(workdir: Path, command: str, *, hold: bool = True) -> Any:
    """The work directory held for one command that writes (core.run_lock): a second
    `run`, `delta` or `rollback` on it is refused at once, naming the holder."""
    import contextlib
    from datetime import UTC, datetime

    from core.run_lock import hold_workdir

    if not hold:
        return contextlib.nullcontext()
    return hold_workdir(workdir, command, datetime.now(UTC).isoformat(timespec="seconds"))


def _run_rollback(workspace: Any, options: Any, total: int) -> Any:
    """The rollback through one Twenty client (the configured budget, shared limiter), with
    a progress bar (records, rate, time left)."""
    from core.clock import SystemClock
    from core.rollback import rollback

    progress = _RichProgress(Console(stderr=True))
    progress.stage("records", "undo", total)
    with _held(workspace.workdir, "rollback"), _StopOnInterrupt() as stop, progress.bars:
        return _checks_call(
            _checks_client(workspace),
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


def _print_rollback_plan(workspace: Any, scope: Any, schema: bool, cost: str) -> None:
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


def _print_rollback_result(result: Any) -> None:
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


# --- reports --------------------------------------------------------------------------------


def _write_handoff(context: Context, name: str, out: Path | None) -> str:
    """`ferry report summary|bundle`: the owner's page, or the zip of every deliverable."""
    from core.clock import SystemClock
    from core.config import load_config
    from core.reports.bundle import MANIFEST_NAME, write_bundle, write_summary
    from core.workspace import open_workspace

    workspace = open_workspace(context.workdir, load_config(context.workdir))
    try:
        counted, now = _source_count(workspace), isoformat_utc(SystemClock().now())
        if name == "summary":
            page = write_summary(workspace, counted, generated_at=now, out=out)
            return f"written: {page}, owner-only"
        bundle = write_bundle(workspace, counted, generated_at=now, out=out)
    finally:
        workspace.close()
    files = f"{len(bundle.entries)} file(s), each with its SHA-256 in {MANIFEST_NAME}"
    return f"written: {bundle.path} ({files}), owner-only"


@ferry.command("report")
@click.argument(
    "name",
    type=click.Choice(
        ["audit-log", "reconciliation", "rejected", "member-defaults", "conflicts",
         "rebuild-guide", "mapping", "summary", "bundle"]
    ),
)  # fmt: skip
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
@pass_context
def report_command(context: Context, name: str, fmt: str, out: Path | None) -> None:
    """Write an audit deliverable (owner-only, under reports/ unless --out).

    `summary` is one HTML page for the practice owner; `bundle` zips every deliverable with
    a manifest (file, SHA-256, size) for hand-off. --format does not apply to either.
    """
    if name == "mapping":  # Markdown and HTML, as `ferry map show`
        if fmt != "md":
            _fail("the mapping document is Markdown and HTML: drop --format")
        _write_mapping_document(context, out)
        return
    from core.config import load_config
    from core.reports.deliverables import ReportRequest, default_path, write_report
    from core.workspace import open_workspace

    if name in ("summary", "bundle"):
        click.echo(_write_handoff(context, name, out))
        return
    workspace = open_workspace(context.workdir, load_config(context.workdir))
    try:
        rows = None
        if name == "reconciliation":
            rows = _source_count(workspace).rows
        request = ReportRequest(
            name=name,
            fmt=fmt,  # type: ignore[arg-type]
            path=out or default_path(workspace.reports, name, fmt),  # type: ignore[arg-type]
            placeholder=workspace.config.run.placeholder_owner,
            source_rows=rows,
        )
        written = write_report(workspace.store.connection, request)
    finally:
        workspace.close()
    count = "" if written.rows is None else f" ({written.rows:,} row(s))"
    click.echo(f"written: {written.path}{count}, owner-only")


# --- export ---------------------------------------------------------------------------------


@ferry.group("export")
def export_group() -> None:
    """Files for importing by other means than the API run."""


@export_group.command("twenty-csv")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default reports/twenty-csv), owner-only.",
)
@pass_context
def export_twenty_csv_command(context: Context, out: Path | None) -> None:
    """One CSV per Twenty object for Twenty's import screen, parents first, with the ids.

    The export is read first exactly as `ferry run` reads it (local stages only, nothing is
    sent), so the files hold what the API run would send, under the same ids.
    """
    import anyio

    from core.pipeline.run import RunRequest
    from core.reports.twenty_csv import export_twenty_csv

    session = _session(context)
    workspace = session.workspace
    try:
        anyio.run(lambda: session.run(RunRequest(command="export twenty-csv", load=False)))
        target = out or workspace.reports / "twenty-csv"
        result = export_twenty_csv(
            workspace.store.connection, session.spec(), workspace.namespace, target
        )
    finally:
        workspace.close()
    rows = sum(o.rows for o in result.objects)
    click.echo(f"written: {len(result.files)} file(s), {rows:,} row(s) in {target}, owner-only")
    click.echo(f"next: import them in the order of {target / 'README.md'} (see docs/runbook.md)")


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

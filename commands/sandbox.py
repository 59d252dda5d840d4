"""`ferry sandbox serve`: the local Twenty server to rehearse against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.group()
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


COMMANDS = (sandbox,)

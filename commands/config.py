"""`ferry init` and `ferry config show|set`: the work directory and ferry.toml."""

from __future__ import annotations

import os
from pathlib import Path

import click

from commands.context import App, pass_app
from commands.options import variable_name


@click.command("init")
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
    callback=variable_name,
    help="Name of the environment variable holding the API key (default TWENTY_API_KEY).",
)
@click.option(
    "--placeholder-owner",
    default=None,
    help="Email of the workspace member who gets assignments no provider matches.",
)
@pass_app
def init_command(
    app: App,
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
    workspace = init_workspace(app.workdir, config, ferry_version=app.version)
    workspace.close()
    click.echo(f"initialised {app.workdir}: ferry.toml, ferry.db, reports/")
    click.echo(f"migration namespace {workspace.namespace} (every Twenty id derives from it)")
    click.echo("next: `ferry source audit`, then `ferry map propose EXPORT`")


@click.group("config")
def config_group() -> None:
    """Show or change ferry.toml's settings without running `ferry init` again."""


@config_group.command("show")
@pass_app
def config_show(app: App) -> None:
    """Every setting, `key = value`; for the API key only the variable's name and whether it
    is set (the key itself is never shown)."""
    from core.settings import setting_lines

    for line in setting_lines(app.config(), os.environ):
        click.echo(line)


@config_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@pass_app
def config_set(app: App, key: str, value: str) -> None:
    """Set KEY (e.g. run.placeholder_owner, twenty.batch_size, members.DDS1) to VALUE, checked
    first; "" clears an email. ferry.toml stays owner-only; see `ferry config show`."""
    from core.settings import save_setting, setting_lines

    config = save_setting(app.workdir, key, value)
    section, _, name = key.strip().partition(".")
    is_member = section.lower() == "members"
    shown = f"members.{name.strip().upper()}" if is_member else key.strip()
    lines = setting_lines(config, os.environ)
    click.echo(next((x for x in lines if x.split(" = ")[0] == shown), f"{shown} removed"))
    if is_member or shown == "run.placeholder_owner":
        click.echo("next: ferry members check (see whose records go to whom)")


COMMANDS = (init_command, config_group)

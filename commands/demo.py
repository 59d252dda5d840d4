"""`ferry demo`: the whole flow on the bundled fixtures, against an embedded sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import click

_REPO_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


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


@click.command("demo")
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
@click.pass_context
def demo_command(ctx: click.Context, bundle: str, out: Path | None) -> None:
    """The whole flow on the bundled fixtures, against an embedded Twenty sandbox."""
    import secrets
    import time

    from adapters.twenty_sandbox import SandboxConfig, running_sandbox

    root = ctx.find_root().command
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
                root.main(args=["--workdir", str(workdir), *args], standalone_mode=False)
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


COMMANDS = (demo_command,)

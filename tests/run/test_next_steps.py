"""Every command that changes the state ends with one line saying what to do next.

One work directory on the small fixture bundle goes through the whole operator flow against
a local sandbox: init, map propose, map confirm, schema apply, sample, sample approve, run,
verify, delta (dry run, then for real), rollback. Each command's last line is `next: ...`,
names the command that follows, and fits an 80-column terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from adapters.twenty_sandbox import SandboxHandle
from cli import ferry
from tests.run.conftest import FIXTURES, KEY_ENV


def _last_line(workdir: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), *args])
    assert result.exit_code == code, f"ferry {' '.join(args)}: {result.output}{result.exception!r}"
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert sum(line.startswith("next: ") for line in lines) == 1, result.output
    return lines[-1]


def test_each_state_changing_command_says_what_comes_next(
    start_sandbox: Callable[..., SandboxHandle],
    key_env: Callable[[str], None],
    tmp_path: Path,
) -> None:
    sandbox = start_sandbox()
    key_env(sandbox.api_key)
    export, delta = FIXTURES / "small_cp1252", FIXTURES / "delta_cp1252"
    work = tmp_path / "work"
    steps = [
        (("init", "--source", str(export), "--twenty-url", sandbox.base_url,
          "--api-key-env", KEY_ENV), "ferry map propose"),
        (("map", "propose", str(export)), "ferry map confirm"),
        (("map", "confirm", "--user", "ana"), "ferry schema apply"),
        (("schema", "apply", "--no-probe"), "ferry sample"),
        (("sample", "--size", "5"), "ferry sample approve"),
        (("sample", "approve", "--user", "ana", "--accept-differences"), "ferry run"),
        (("run",), "ferry verify"),
        (("verify",), "ferry report reconciliation"),
        (("delta", str(delta), "--dry-run"), "without --dry-run"),
        (("delta", str(delta)), "ferry verify"),
        (("rollback", "--yes"), "ferry status"),
    ]  # fmt: skip
    seen = []
    for args, expected in steps:
        if args[0] == "map" and args[1] == "confirm":
            config = work / "ferry.toml"
            text = config.read_text(encoding="utf-8")
            config.write_text(text.replace('"100/60s"', '"1000/1s"'), encoding="utf-8")
        line = _last_line(work, *args)
        assert line.startswith("next: ") and expected in line, (args, line)
        assert len(line) <= 80, line
        seen.append(line)
    assert len(set(seen)) == len(seen)  # each step points somewhere new

"""`ferry plan`'s table and finding lines as an operator sees them: providers and custom
fields are not "to send", and WARNING/BLOCKER are styled on a terminal, plain in a pipe."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from adapters.dental_exec import open_export
from cli import ferry
from core.pipeline.plan import PlanInputs, make_plan
from tests.pipeline.migrated import open_store

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "fixtures" / "dental_exec" / "small_cp1252"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _rows(entity: str) -> int:
    return next(f.rows or 0 for f in open_export(SMALL).inventory() if f.entity == entity)


def test_providers_and_custom_fields_are_not_to_send(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ferry.db")
    plan = make_plan(store.connection, PlanInputs(source=open_export(SMALL)))
    by_entity = {e.entity: e for e in plan.entities}
    for entity in ("provider", "custom_field"):
        assert by_entity[entity].to_send == 0 and by_entity[entity].load_requests == 0
        assert by_entity[entity].not_sent == _rows(entity) > 0
    assert by_entity["patient"].to_send == 18 and by_entity["patient"].not_sent == 0
    sendable = sum(e.to_send for e in plan.entities)
    assert plan.load_requests == sum(e.load_requests for e in plan.entities)
    assert sendable == sum(
        f.rows or 0
        for f in open_export(SMALL).inventory()
        if f.entity not in ("provider", "custom_field")
    )


def _init(workdir: Path) -> None:
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), "init", "--source", str(SMALL)])
    assert result.exit_code == 0, result.output


def test_plan_in_a_pipe_is_plain_and_says_what_is_not_sent(tmp_path: Path) -> None:
    _init(tmp_path)
    result = CliRunner().invoke(
        ferry, ["--workdir", str(tmp_path), "plan", "--offline"], env={"COLUMNS": "200"}
    )
    assert "\x1b[" not in result.output
    assert "BLOCKER MAPPING:" in result.output and "WARNING SCHEMA_NOT_CHECKED:" in result.output
    provider = next(line for line in result.output.splitlines() if " provider " in line)
    cells = [cell.strip() for cell in provider.split("│") if cell.strip()]
    assert cells[:3] == ["provider", "0", "0"]  # nothing to send, nothing in Twenty
    assert f"provider: {_rows('provider')} row(s) matched to workspace members" in result.output
    assert f"custom_field: {_rows('custom_field')} row(s) folded into" in result.output


def test_plan_on_a_terminal_styles_warning_and_blocker(tmp_path: Path) -> None:
    _init(tmp_path)
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "--workdir", str(tmp_path), "plan", "--offline"],
        cwd=ROOT, env=env, stdout=child, stderr=child, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(main)
    out = b"".join(chunks).decode("utf-8", "replace")
    blocker = next(line for line in out.splitlines() if "MAPPING:" in line)
    warning = next(line for line in out.splitlines() if "SCHEMA_NOT_CHECKED:" in line)
    assert "\x1b[1;31mBLOCKER" in blocker and "\x1b[1;33mWARNING" in warning
    assert ANSI.sub("", blocker).startswith("BLOCKER MAPPING:")

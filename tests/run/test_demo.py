"""`ferry demo`: the whole flow on the bundled fixtures against an embedded sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import ferry


@pytest.mark.slow
def test_demo_runs_every_step_and_everything_verifies(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = CliRunner().invoke(ferry, ["demo", "--out", str(workdir)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    for step in ("[1/11]", "[5/11]", "[9/11]", "[11/11]"):
        assert step in result.output
    assert "reconciliation adds up" in result.output
    assert "chain intact" in result.output
    assert "demo finished" in result.output
    for report in ("source-audit.md", "sample-diff.html", "reconciliation.md"):
        assert (workdir / "reports" / report).exists(), report
    reconciliation = (workdir / "reports" / "reconciliation.md").read_text(encoding="utf-8")
    assert "mismatch" in reconciliation.lower()


def test_demo_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    result = CliRunner().invoke(ferry, ["demo", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "not empty" in result.output

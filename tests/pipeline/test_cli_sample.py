"""`ferry sample approve` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.pipeline.sample_approval import write_sample_diff
from core.pipeline.sample_diff import DiffRow, SampleDiff
from tests.pipeline.migrated import invoke_ferry


def _diff(agrees: bool) -> SampleDiff:
    row = DiffRow(stream_id="patient:1", object_name="people", field="city", source="A",
                  sent="A", read="A" if agrees else "B", agrees=agrees)  # fmt: skip
    return SampleDiff(run_id="s-1", rows=[row])


@pytest.mark.parametrize("agrees", [True, False], ids=["clean", "with-differences"])
def test_sample_approve(tmp_path: Path, agrees: bool) -> None:
    workdir = tmp_path / "work"
    code, out = invoke_ferry(workdir, "sample", "approve", "--user", "op")
    assert code == 1 and "run `ferry sample` first" in out
    write_sample_diff(workdir / "reports", _diff(agrees))
    code, out = invoke_ferry(workdir, "sample", "approve", "--user", "op")
    if not agrees:
        assert code == 1 and "--accept-differences" in out
        accept = ("--user", "op", "--accept-differences")
        code, out = invoke_ferry(workdir, "sample", "approve", *accept)
    assert code == 0 and "sample run s-1 approved by op" in out
    assert json.loads((workdir / "reports" / "sample-approval.json").read_text())["user"] == "op"

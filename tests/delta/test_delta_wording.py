"""What a delta tells the operator: every dry-run line names the source record, and the
report says "removed" as the export's kind means it, counting task targets, not listing them."""

from __future__ import annotations

import shutil
from pathlib import Path

from adapters.twenty_sandbox import SandboxHandle
from tests.delta.conftest import FIXTURES, invoke, migrated, store_rows

DELTA = FIXTURES / "delta_cp1252"
# fixtures/dental_exec/README.md, "The delta" (as in test_fixture_delta.py)
EXPECTED = {
    "patient:10498", "appointment:583317", "task_target:appointment:583317", "payment:118209",
    "patient:10480", "patient:10481", "appointment:583311", "procedure:902202",
    "patient:10490", "appointment:583309", "task_target:appointment:583309",
}  # fmt: skip


def test_every_dry_run_line_names_its_source_record(
    sandbox_key: SandboxHandle, tmp_path: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    out = invoke(workdir, "delta", str(DELTA), "--dry-run", "--apply-deletes")
    lines = [line.split() for line in out.splitlines() if line.startswith("would ")]
    planned = [words for words in lines if words[1] != "send:"]
    assert {words[4] for words in planned} == EXPECTED
    ids = dict(store_rows(workdir, "SELECT stream_id, destination_id FROM record_state"))
    # the key named is the record's own: its Twenty id is the one on the line
    known = [words for words in planned if words[4] in ids]
    assert known and all(ids[words[4]] == words[3] for words in known)


def test_a_delta_bundle_report_does_not_call_deletions_absences(
    sandbox_key: SandboxHandle, tmp_path: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    out = invoke(workdir, "delta", str(DELTA))
    report = Path(next(line for line in out.splitlines() if line.startswith("report: "))[8:])
    text = report.read_text(encoding="utf-8")
    assert "absent from this full export" not in text
    assert "## Gone with a row deleted in the source" in text
    pending = text.split("## Still in Twenty although removed or deleted in the source")[1]
    pending = pending.split("\n## ")[0]
    assert "- `patient:10490`" in pending and "- `appointment:583309`" in pending
    assert "task_target" not in text.split("## Conflicts")[1]
    assert "With them 1 task or note target(s)" in pending


def test_a_full_export_report_lists_the_removed_row_and_counts_its_target(
    sandbox_key: SandboxHandle, tmp_path: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    export = shutil.copytree(FIXTURES / "small_cp1252", tmp_path / "full-2")
    path = export / "appointments.csv"
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join(line for line in lines if not line.startswith(b"583308,")))
    out = invoke(workdir, "delta", str(export))
    assert "removed in the source: 1 record(s), 1 task/note target(s)" in out
    report = Path(next(line for line in out.splitlines() if line.startswith("report: "))[8:])
    text = report.read_text(encoding="utf-8")
    removed = text.split("## Removed in the source (absent from this full export)")[1]
    removed = removed.split("\n## ")[0]
    assert "- `appointment:583308`" in removed and "task_target" not in removed
    assert "With them 1 task or note target(s)" in removed

"""`ferry report summary` and `ferry report bundle` on work directories that are not finished
or not intact: no run yet, the export moved away, a broken or forged anchor, no work
directory. Each gives a page or a zip that says so, or one line; never a traceback."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from cli import main
from tests.run.conftest import FIXTURES, KEY_ENV, invoke


@pytest.fixture
def unrun(tmp_path: Path) -> Path:
    """A work directory with its mapping confirmed and nothing migrated; its own export copy."""
    export = shutil.copytree(FIXTURES / "small_cp1252", tmp_path / "export")
    workdir = tmp_path / "wd"
    invoke(workdir, "init", "--source", str(export), "--twenty-url", "http://127.0.0.1:9",
           "--api-key-env", KEY_ENV)  # fmt: skip
    invoke(workdir, "map", "propose", str(export))
    invoke(workdir, "map", "confirm", "--user", "tester")
    return workdir


def _summary(workdir: Path) -> str:
    output = invoke(workdir, "report", "summary")
    path = workdir / "reports" / "summary.html"
    assert output.strip() == f"written: {path}, owner-only"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return path.read_text(encoding="utf-8")


def _verdict(page: str) -> str:
    found = re.search(r'id="verdict">(.*?)</div>', page)
    assert found is not None
    return found.group(1)


def test_before_any_run_the_summary_says_what_is_missing(unrun: Path) -> None:
    page = _summary(unrun)
    assert _verdict(page) == (
        "The numbers do not add up: some source rows are not accounted for (see below)."
    )
    reconciliation = invoke(unrun, "report", "reconciliation")  # the same verdict, in Markdown
    assert "some source rows are not accounted for" in Path(
        reconciliation.split("written: ")[1].split(",")[0]
    ).read_text(encoding="utf-8")
    assert re.search(r"<td>patient</td><td class=\"n\">18</td><td class=\"n\">0</td>", page)
    assert '<td>Sample approved</td><td colspan="3">not yet</td>' in page
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    assert re.search(rf"<td>Mapping confirmed</td><td>tester</td><td>{when}</td>", page)
    assert "No anchor written yet" in page


def test_the_export_moved_away_cannot_be_checked(unrun: Path, tmp_path: Path) -> None:
    (tmp_path / "export").rename(tmp_path / "moved")
    verdict = _verdict(_summary(unrun))
    assert verdict.startswith("Cannot check: cannot check: an export is not where it was read")
    assert str(tmp_path / "export") in verdict


def test_an_unreadable_anchor_is_named_not_trusted(unrun: Path) -> None:
    invoke(unrun, "events", "anchor")
    broken = unrun / "anchors" / "anchor-9999999999-x.json"
    broken.write_text("{not json", encoding="utf-8")
    page = _summary(unrun)
    assert (
        "Latest anchor <code>anchor-9999999999-x.json</code>: it cannot be read as an anchor"
        in page
    )
    assert "still holds it" not in page


def test_a_forged_anchor_is_reported_as_not_held(unrun: Path) -> None:
    invoke(unrun, "events", "anchor")
    (anchor,) = (unrun / "anchors").iterdir()
    data = json.loads(anchor.read_text(encoding="utf-8"))
    anchor.write_text(json.dumps({**data, "hash": "0" * 64}), encoding="utf-8")
    page = _summary(unrun)
    assert "the log NO LONGER holds it" in page
    assert "still holds it" not in page


@pytest.mark.parametrize("name", ["summary", "bundle"])
def test_outside_a_work_directory_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--workdir", str(tmp_path / "none"), "report", name])
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        f"Error: no ferry.toml in {tmp_path / 'none'}; run `ferry init --source EXPORT` first"
    ]
    assert not (tmp_path / "none" / "reports").exists()


def test_a_bundle_before_any_run_holds_what_exists(unrun: Path) -> None:
    output = invoke(unrun, "report", "bundle")
    path = unrun / "reports" / "handoff.zip"
    assert output.startswith(f"written: {path} (10 file(s)")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with zipfile.ZipFile(path) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        names = [entry["file"] for entry in manifest["files"]]
        assert sorted(names) == [
            "audit-log.csv",
            "conflicts.csv",
            "event-log.jsonl",
            "mapping.html",
            "mapping.md",
            "member-defaults.csv",
            "rebuild-guide.md",
            "reconciliation.md",
            "rejected.csv",
            "summary.html",
        ]  # fmt: skip: no sample diff, no anchor: none was written (`map propose` wrote the
        # mapping document)
        for entry in manifest["files"]:
            data = bundle.read(entry["file"])
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["size"])
            assert entry["patient_values"] is False

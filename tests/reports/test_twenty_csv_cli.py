"""`ferry export twenty-csv` end to end: the ids and relations are those of the API run."""

from __future__ import annotations

import csv
import stat
from collections.abc import Callable
from pathlib import Path

from adapters.twenty_sandbox import SandboxHandle
from tests.hostile.test_store_and_outcomes import ferry_cli
from tests.run.conftest import FIXTURES, KEY_ENV, dump, invoke, prepare

# Relation columns and the join column Twenty answers with.
JOIN_COLUMNS = {
    "Patient / Id": "patientId",
    "Treatment / Id": "treatmentId",
    "Insurance / Id": "insuranceId",
    "Company / Id": "companyId",
    "Assignee / Id": "assigneeId",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_files_written_before_the_run_carry_the_ids_the_run_gives(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url, "small_utf8")
    output = invoke(workdir, "export", "twenty-csv")
    folder = workdir / "reports" / "twenty-csv"
    assert f"in {folder}, owner-only" in output and "next: import them" in output
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())

    invoke(workdir, "run", "--without-sample-approval")
    content = dump(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    checked = 0
    for name in sorted(before):
        if not name.endswith(".csv"):
            continue
        plural = name.split("-", 1)[1].removesuffix(".csv")
        rows = _rows(folder / name)
        # Every record in the file is in Twenty under the same id, and none is missing.
        assert {r["Id"] for r in rows} == set(content[plural]), name
        for row in rows:
            record = content[plural][row["Id"]]
            for header, join in JOIN_COLUMNS.items():
                if header in row:
                    assert row[header] == (record.get(join) or ""), (name, header)
                    checked += 1
    assert checked > 50
    # The same files after the run: the ids and the rest did not change.
    invoke(workdir, "export", "twenty-csv")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_an_unconfirmed_mapping_is_refused_in_one_line(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    workdir = tmp_path / "wd"
    export = FIXTURES / "small_utf8"
    url = twenty_sandbox.base_url
    invoke(workdir, "init", "--source", str(export), "--twenty-url", url, "--api-key-env", KEY_ENV)
    code, out, err = ferry_cli(workdir, "export", "twenty-csv")
    assert code != 0
    message = err.strip()
    assert message.startswith("Error:") and "mapping" in message
    assert "\n" not in message and "Traceback" not in out + err
    assert not (workdir / "reports" / "twenty-csv").exists()


def test_an_out_folder_that_is_a_file_is_refused_in_one_line(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url, "small_utf8")
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    out = blocker / "csv"
    code, stdout, err = ferry_cli(workdir, "export", "twenty-csv", "--out", str(out))
    assert code != 0
    assert "choose a folder you can write to with --out" in err and str(out) in err
    assert "Traceback" not in stdout + err and len(err.strip().splitlines()) == 1

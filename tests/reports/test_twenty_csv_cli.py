"""`ferry export twenty-csv` end to end: the ids and relations are those of the API run."""

from __future__ import annotations

import csv
import stat
from collections.abc import Callable
from pathlib import Path

import httpx

from adapters.twenty_sandbox import SandboxHandle
from core.lifecycle import Lifecycle
from events.store import EventStore
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


def _imported(rest_url: str, key: str, folder: Path) -> int:
    """What the import screen does with the files, in their order: one create per row with
    its `Id`, its Dental-Exec id and its relations (the other columns do not matter here)."""
    count = 0
    with httpx.Client(base_url=rest_url, headers={"Authorization": f"Bearer {key}"}) as client:
        for path in sorted(folder.glob("*.csv")):
            plural = path.name.split("-", 1)[1].removesuffix(".csv")
            for row in _rows(path):
                body = {"id": row["Id"], "dentalExecId": row["Dental-Exec ID"]}
                for header, join in JOIN_COLUMNS.items():
                    if row.get(header) and join != "assigneeId":
                        body[join] = row[header]
                answer = client.post(f"/{plural}", json=body)
                assert answer.status_code == 201, (path.name, answer.text)
                count += 1
    return count


def test_a_run_after_the_import_recognises_the_records_and_duplicates_none(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url, "small_utf8")
    invoke(workdir, "export", "twenty-csv")
    folder = workdir / "reports" / "twenty-csv"
    imported = _imported(twenty_sandbox.rest_url, twenty_sandbox.api_key, folder)
    assert imported == 91

    invoke(workdir, "run", "--without-sample-approval")
    content = dump(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    csv_ids = {r["Id"] for p in folder.glob("*.csv") for r in _rows(p)}
    targets = len(content["taskTargets"]) + len(content["noteTargets"])
    # Nothing was created twice: Twenty holds the imported records and the links the
    # import screen cannot make, which the run added.
    assert sum(len(records) for records in content.values()) == imported + targets
    assert targets == 29
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        loaded = {
            row[0]
            for row in store.connection.execute(
                "SELECT destination_id FROM record_state WHERE state = 'loaded'"
            )
        }
    assert csv_ids <= loaded

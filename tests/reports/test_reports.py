"""ferry report NAME on the small bundle migrated into a seeded sandbox: exact counts."""

from __future__ import annotations

import json
import stat
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from adapters.twenty_sandbox import SandboxHandle
from cli import ferry
from tests.rollback.conftest import Migrated, client, seed
from tests.run.conftest import invoke, prepare

PHI = ("laura", "smith", "garcia", "alder st", "555-0142")


def _report(workdir: Path, name: str, fmt: str = "md") -> Path:
    output = invoke(workdir, "report", name, "--format", fmt)
    path = Path(output.split("written: ", 1)[1].split(" ", 1)[0].rstrip(","))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8").lower()
    assert not [word for word in PHI if word in text], name
    return path


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_report_on_a_migrated_work_directory(migrated: Migrated) -> None:
    workdir = migrated.workdir
    audit = _jsonl(_report(workdir, "audit-log", "json"))
    assert len(audit) == 180
    assert Counter(r["final_state"] for r in audit) == {"loaded": 120, "skipped": 60}
    assert all(r["first_event_at"] <= r["last_event_at"] for r in audit)
    assert sum(1 for r in audit if r["destination_id"]) == 120
    csv_lines = _report(workdir, "audit-log", "csv").read_text().splitlines()
    assert len(csv_lines) == 181 and csv_lines[0].startswith('"entity","source_key"')

    assert _jsonl(_report(workdir, "rejected", "json")) == []

    defaults = _jsonl(_report(workdir, "member-defaults", "json"))
    assert len(defaults) == 22
    assert Counter(r["entity"] for r in defaults) == {"appointment": 15, "recall": 7}
    assert Counter(r["provider_code"] for r in defaults)["DDS1"] == 11  # 10 appointments, 1 recall
    assert {r["assigned_member"] for r in defaults} == {"(unassigned)"}

    conflicts = _jsonl(_report(workdir, "conflicts", "json"))
    assert Counter(r["resolution"] for r in conflicts) == {"linked": 2, "linked_restored": 2}
    assert {r["record"] for r in conflicts} >= {"patient:10480", "practice:1"}

    reconciliation = _report(workdir, "reconciliation").read_text()
    assert "adds up" in reconciliation.lower()
    data = json.loads(_report(workdir, "reconciliation", "json").read_text())
    assert data["adds_up"] is True

    guide = _report(workdir, "rebuild-guide").read_text()
    for expected in ("7 recall(s)", "`Prophy` 1", "8 payment(s)", "`DDS1` 10", "`Dentist` 2",
                     "HIPAA_NPP_ACK", "6 attachment(s)", "3 treatment plan(s)"):  # fmt: skip
        assert expected in guide, expected
    assert guide.count("**Steps.**") == 8


def test_rejected_and_conflicts_under_on_conflict_fail(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    seed(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url)
    config = workdir / "ferry.toml"
    config.write_text(config.read_text().replace('on_conflict = "link"', 'on_conflict = "fail"'))
    run = CliRunner().invoke(ferry, ["--workdir", str(workdir), "run", "--without-sample-approval"])
    # A record left load_failed means the work is not done: the run says so and exits 1.
    assert run.exit_code == 1 and "not done: writes failed: 1 record(s)" in run.output
    rejected = _jsonl(_report(workdir, "rejected", "json"))
    # The practice's company fails on its domain; the patients pointing at it are then
    # blocked (not sent, not failed), so they are not rejected either.
    assert [(r["entity"], r["source_key"], r["stage"], r["code"]) for r in rejected] == [
        ("practice", "1", "load", "CONFLICT")
    ]
    conflicts = _jsonl(_report(workdir, "conflicts", "json"))
    assert [(c["record"], c["resolution"]) for c in conflicts] == [("practice:1", "failed")]


def test_conflicts_report_lists_what_rollback_left_alone(migrated: Migrated) -> None:
    sandbox = migrated.sandbox
    with client(sandbox.rest_url, sandbox.api_key) as http:
        people = http.get("/people", params={"filter": 'dentalExecId[eq]:"10488"'}).json()
        record_id = people["data"]["people"][0]["id"]
        http.patch(f"/people/{record_id}", json={"name": {"firstName": "Edited"}})
    result = CliRunner().invoke(ferry, ["--workdir", str(migrated.workdir), "rollback", "--yes"])
    assert result.exit_code == 1
    rows = _jsonl(_report(migrated.workdir, "conflicts", "json"))
    edited = [r for r in rows if r["kind"] == "edited_in_twenty"]
    assert [(r["command"], r["record"], r["fields"], r["resolution"]) for r in edited] == [
        ("rollback", "patient:10488", ["name.firstName"], "left_alone")
    ]
    assert len(rows) == 5  # and the four links made by the load


def test_formats_and_out(migrated: Migrated, tmp_path: Path) -> None:
    for fmt in ("md", "csv", "json"):
        out = tmp_path / f"elsewhere.{fmt}"
        args = ("report", "member-defaults", "--format", fmt, "--out", str(out))
        output = invoke(migrated.workdir, *args)
        assert str(out) in output and "22 row(s)" in output
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    refused = CliRunner().invoke(
        ferry, ["--workdir", str(migrated.workdir), "report", "rebuild-guide", "--format", "csv"]
    )
    assert refused.exit_code != 0 and "Markdown" in str(refused.exception)

"""The turns of a cutover, as sequences of commands: delta then verify, delta then run,
rollback then run again, a rollback of one delta then a full rollback.

Each test is a regression test for a sequence that once went wrong; every outcome is read
from the sandbox (what Twenty holds) or from the command's own output, not from our store's
opinion of itself.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from cli import ferry
from tests.delta.conftest import FIXTURES, store_rows
from tests.rollback.conftest import Migrated, differences
from tests.run.conftest import invoke

DELTA = FIXTURES / "delta_cp1252"


def _ferry(migrated: Migrated, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(ferry, ["--workdir", str(migrated.workdir), *args])
    return result.exit_code, result.output


def _verify(migrated: Migrated) -> tuple[int, dict[str, Any]]:
    code, output = _ferry(migrated, "verify", "--json")
    return code, json.loads(output[output.index("{") :])


def _people(migrated: Migrated) -> dict[str, dict[str, Any]]:
    """Live people in the sandbox by dentalExecId."""
    sandbox = migrated.sandbox
    found: dict[str, dict[str, Any]] = {}
    cursor = None
    with httpx.Client(headers={"Authorization": f"Bearer {sandbox.api_key}"}) as http:
        while True:
            params = {"limit": "200", **({"starting_after": cursor} if cursor else {})}
            body = http.get(f"{sandbox.rest_url}/people", params=params).json()
            for record in body["data"]["people"]:
                if record.get("dentalExecId"):
                    found[str(record["dentalExecId"])] = record
            if not body["pageInfo"]["hasNextPage"]:
                return found
            cursor = body["pageInfo"]["endCursor"]


@pytest.mark.slow
def test_verify_adds_up_after_a_delta(migrated: Migrated) -> None:
    """A delta's new rows count as source rows: verify after a delta passes."""
    invoke(migrated.workdir, "delta", str(DELTA), "--apply-deletes")
    code, report = _verify(migrated)
    problems = [e for e in report["reconciliation"]["entities"] if not e["adds_up"]]
    assert problems == []
    assert code == 0


@pytest.mark.slow
def test_run_after_a_delta_keeps_the_delta_values_and_finishes(migrated: Migrated) -> None:
    """`ferry run` after a delta never re-reads the older export over the delta's rows."""
    invoke(migrated.workdir, "delta", str(DELTA), "--apply-deletes")
    after_delta = _people(migrated)
    invoke(migrated.workdir, "run", "--without-sample-approval")
    assert _people(migrated) == after_delta
    status = invoke(migrated.workdir, "status")
    assert "still to load" not in status
    code, _ = _verify(migrated)
    assert code == 0


@pytest.mark.slow
def test_full_rollback_then_run_migrates_everything_again(migrated: Migrated) -> None:
    """After a full rollback the work directory migrates again, with the latest values."""
    invoke(migrated.workdir, "delta", str(DELTA), "--apply-deletes")
    latest = _people(migrated)
    invoke(migrated.workdir, "rollback", "--yes")
    assert differences(migrated.before, migrated.now()) == []
    _, plan = _ferry(migrated, "plan", "--offline", "--json")
    assert json.loads(plan[plan.index("{") :])["load_requests"] > 0
    # The patient deleted in the source leaves its children ORPHAN (1 of the fixture's 17
    # appointments): past the default 5%, so this small fixture's run is allowed 20%.
    config = migrated.workdir / "ferry.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("max_rejected_share = 0.05", "max_rejected_share = 0.2"))
    invoke(migrated.workdir, "run", "--without-sample-approval")
    assert _people(migrated).keys() == latest.keys()
    for key, record in latest.items():
        assert _people(migrated)[key]["name"] == record["name"], key
    # A parent that was rolled back is a record to load again, never an absent parent (the
    # children of the patient deleted in the source are ORPHAN, as on any fresh load).
    orphans = store_rows(
        migrated.workdir,
        "SELECT COUNT(*) FROM events WHERE type = 'RecordRejected' AND data LIKE '%rolled_back%'",
    )[0][0]
    assert orphans == 0
    code, _ = _verify(migrated)
    assert code == 0


@pytest.mark.slow
def test_rolling_back_a_delta_then_everything(migrated: Migrated) -> None:
    """A delta's rollback restores the first run's values; a full rollback then deletes all."""
    first = _people(migrated)
    invoke(migrated.workdir, "delta", str(DELTA))
    delta_run = store_rows(
        migrated.workdir,
        "SELECT run_id FROM events WHERE type = 'RunStarted' "
        "AND json_extract(data, '$.command') = 'delta'",
    )[0][0]
    invoke(migrated.workdir, "rollback", "--yes", "--run", delta_run)
    now = _people(migrated)
    assert now.keys() == first.keys()  # the delta's new patients are gone, ours are there
    for key in first:
        assert now[key]["name"] == first[key]["name"], key
    # Every patient created by the first run is still ours in Twenty: not rolled back.
    sql = "SELECT stream_id, state FROM record_state WHERE entity = ?"
    states = dict(store_rows(migrated.workdir, sql, "patient"))
    for key in first:
        assert states[f"patient:{key}"] != "rolled_back", key
    invoke(migrated.workdir, "rollback", "--yes")
    assert differences(migrated.before, migrated.now()) == []


@pytest.mark.slow
def test_verify_cannot_pass_when_the_export_is_gone(migrated: Migrated, tmp_path: Any) -> None:
    """A source that cannot be read is "cannot check", with a non-zero exit."""
    config = migrated.workdir / "ferry.toml"
    text = config.read_text(encoding="utf-8")
    moved = str(tmp_path / "nowhere")
    lines = [
        f'source = "{moved}"' if line.startswith("source =") else line for line in text.splitlines()
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = _ferry(migrated, "verify")
    assert code != 0
    assert "cannot check" in output


@pytest.mark.slow
def test_an_entity_rollback_takes_the_records_that_point_at_it_then_run_and_full_rollback(
    migrated: Migrated,
) -> None:
    """Deleting patients alone would leave the records pointing at them (an appointment's task
    target, a policy, a claim) pointing at nothing (Twenty empties the relation), which a later
    rollback then took for a user's edit."""
    code, output = _ferry(migrated, "rollback", "--yes", "--entity", "patient")
    assert code == 0, output
    assert _people(migrated) == {}
    # The task targets pointing at a deleted patient went with it; those of the patients that
    # existed before (linked, now back to their before-image) stay.
    targets = store_rows(
        migrated.workdir,
        "SELECT COUNT(*) FROM record_state WHERE entity = 'task_target' AND state = 'rolled_back'",
    )[0][0]
    assert targets > 0
    invoke(migrated.workdir, "run", "--without-sample-approval")
    code, _ = _verify(migrated)
    assert code == 0
    code, output = _ferry(migrated, "rollback", "--yes")
    assert code == 0, output  # no conflict: nothing of ours was edited by anyone
    assert differences(migrated.before, migrated.now()) == []


@pytest.mark.slow
def test_dry_runs_say_how_many_requests_and_how_long_before_anything_is_sent(
    migrated: Migrated,
) -> None:
    before = migrated.now()
    plan = invoke(migrated.workdir, "delta", str(DELTA), "--dry-run")
    assert "the delta would send" in plan and "under 1000/1s" in plan
    undo = invoke(migrated.workdir, "rollback", "--dry-run").splitlines()
    records = int(undo[-2].split(" record(s) to undo")[0].replace(",", ""))
    planned = sum(1 for line in undo if line.startswith(("delete ", "restore ")))
    assert records == planned > 0
    assert "request(s), about" in undo[-2] and undo[-1] == "dry run: nothing was changed"
    assert migrated.now() == before  # neither dry run wrote anything

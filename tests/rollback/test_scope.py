"""Dry run, scopes (--entity, --run, --since), edited records and --force, confirmation."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cli import ferry
from core.lifecycle import Lifecycle
from events.store import EventStore
from tests.rollback.conftest import Migrated, client, differences, snapshot
from tests.run.conftest import invoke, prepare


def _query(workdir: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        return store.connection.execute(sql, params).fetchall()


def _event_count(workdir: Path) -> int:
    return int(_query(workdir, "SELECT COUNT(*) FROM events")[0][0])


def _rollback(workdir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), "rollback", *args])
    error = result.exception
    shown = "" if error is None or isinstance(error, SystemExit) else f"Error: {error}"
    return result.exit_code, result.output + shown


def test_dry_run_prints_the_plan_and_changes_nothing(migrated: Migrated) -> None:
    content, events = migrated.now(), _event_count(migrated.workdir)
    code, output = _rollback(migrated.workdir, "--dry-run", "--schema")
    assert code == 0, output
    lines = [line.split() for line in output.splitlines()]
    deletes = [w for w in lines if w[0] == "delete"]
    restores = [w for w in lines if w[0] == "restore"]
    in_twenty = _query(
        migrated.workdir, "SELECT COUNT(*) FROM record_state WHERE state = 'loaded'"
    )[0][0]
    assert len(deletes) + len(restores) == in_twenty
    assert len(restores) == 4
    assert sum("soft-delete" in " ".join(w) for w in restores) == 2
    assert all("fields:" in w for w in restores)
    assert "laura" not in output.lower()  # field names and keys, never values
    assert [w[0] for w in lines].count("delete_object") == 6
    # The first lines are the task and note targets: children go before their parents.
    assert lines[0][3].startswith("note_target:") and "plan:" in output
    assert migrated.now() == content
    assert _event_count(migrated.workdir) == events


def test_refuses_without_yes_in_a_non_interactive_shell(migrated: Migrated) -> None:
    code, output = _rollback(migrated.workdir)
    assert code == 1 and "--yes" in output
    assert migrated.now() != migrated.before


def test_entity_scope_undoes_only_that_entity(migrated: Migrated) -> None:
    content = migrated.now()
    code, output = _rollback(migrated.workdir, "--entity", "task_target", "--yes")
    assert code == 0, output
    after = migrated.now()
    assert after["taskTargets"] == migrated.before["taskTargets"]
    for plural in ("people", "companies", "tasks", "noteTargets", "treatments"):
        assert after[plural] == content[plural], plural
    sql = "SELECT state, COUNT(*) FROM record_state WHERE entity = 'task_target' GROUP BY 1"
    states = dict(_query(migrated.workdir, sql))
    assert states == {"rolled_back": 22}


@pytest.mark.parametrize("how", ["run", "since"], ids=str)
def test_run_and_since_scopes_undo_only_the_later_run(
    twenty_sandbox: object, key_env: object, tmp_path: Path, how: str
) -> None:
    sandbox = twenty_sandbox
    key_env(sandbox.api_key)  # type: ignore[operator]
    workdir = prepare(tmp_path / "wd", sandbox.base_url)  # type: ignore[attr-defined]
    before = snapshot(sandbox.rest_url, sandbox.api_key)  # type: ignore[attr-defined]
    invoke(workdir, "run", "--without-sample-approval", "--entity", "practice")
    practices = snapshot(sandbox.rest_url, sandbox.api_key)  # type: ignore[attr-defined]
    assert len(practices["companies"]) == 3
    invoke(workdir, "run", "--without-sample-approval")
    ((run_id, started),) = _query(
        workdir, "SELECT run_id, started_at FROM run_summary ORDER BY started_at DESC LIMIT 1"
    )
    args = ["--run", run_id] if how == "run" else ["--since", started]
    code, output = _rollback(workdir, *args, "--yes")
    assert code == 0, output
    after = snapshot(sandbox.rest_url, sandbox.api_key)  # type: ignore[attr-defined]
    assert differences(practices, after) == []
    assert differences(before, after) != []


def test_unknown_run_is_refused(migrated: Migrated) -> None:
    code, output = _rollback(migrated.workdir, "--run", "nope", "--yes")
    assert code == 1 and "no run 'nope'" in output


def _edit(migrated: Migrated, plural: str, record_id: str, values: dict) -> None:
    sandbox = migrated.sandbox
    with client(sandbox.rest_url, sandbox.api_key) as http:
        assert http.patch(f"/{plural}/{record_id}", json=values).status_code == 200


def test_an_edited_record_is_left_alone_and_reported_until_forced(migrated: Migrated) -> None:
    sql = "SELECT stream_id, destination_id FROM record_state WHERE entity = 'patient'"
    ids = dict(_query(migrated.workdir, sql))
    _edit(migrated, "people", ids["patient:10480"], {"name": {"firstName": "Edited"}})  # linked
    _edit(migrated, "people", ids["patient:10488"], {"name": {"firstName": "Edited"}})  # created
    code, output = _rollback(migrated.workdir, "--yes")
    assert code == 1
    conflicts = [line for line in output.splitlines() if line.startswith("conflict")]
    assert len(conflicts) == 2 and all("name.firstName" in c for c in conflicts), output
    assert "Edited" not in output
    left = _query(migrated.workdir, "SELECT stream_id FROM record_state WHERE state = 'loaded'")
    assert sorted(r[0] for r in left) == ["patient:10480", "patient:10488"]
    recorded = _query(
        migrated.workdir,
        "SELECT json_extract(data, '$.stream_id'), json_extract(data, '$.resolution') "
        "FROM events WHERE type = 'ConflictDetected'",
    )
    assert sorted(recorded) == [("patient:10480", "left_alone"), ("patient:10488", "left_alone")]

    code, output = _rollback(migrated.workdir, "--yes", "--force")
    assert code == 0, output
    assert "overwritten" in output
    assert differences(migrated.before, migrated.now()) == []
    code, output = _rollback(migrated.workdir, "--yes")
    assert code == 0 and "nothing to undo" in output


def test_a_rollback_reads_only_the_records_its_stamped_deletes_leave(
    migrated: Migrated,
) -> None:
    """Deletes name the `updatedAt` Twenty answered our write with: a record nobody touched
    goes without a read, one edited since is left by Twenty, read, and reported."""
    sql = "SELECT stream_id, destination_id FROM record_state WHERE entity = 'patient'"
    ids = dict(_query(migrated.workdir, sql))
    unstamped = _query(
        migrated.workdir,
        "SELECT COUNT(*) FROM events WHERE type = 'RecordLoaded' "
        "AND json_extract(data, '$.outcome') = 'created' "
        "AND json_extract(data, '$.updated_at') = ''",
    )[0][0]
    assert unstamped == 0
    _edit(migrated, "people", ids["patient:10488"], {"name": {"firstName": "Edited"}})
    base = migrated.sandbox.base_url
    httpx.post(f"{base}/_sandbox/stats/reset", timeout=10)
    code, output = _rollback(migrated.workdir, "--yes")
    stats = httpx.get(f"{base}/_sandbox/stats", timeout=10).json()
    assert code == 1 and "conflict" in output
    # Records we changed but did not create (linked) are read before their before-images go
    # back, one read per object; of the deletes only the people the delete left are read.
    linked = _query(
        migrated.workdir,
        "SELECT DISTINCT t.data ->> '$.target_plural' FROM events e "
        "JOIN events t ON t.stream_id = e.stream_id AND t.type = 'RecordTransformed' "
        "WHERE e.type = 'RecordLoaded' AND json_extract(e.data, '$.outcome') = 'linked'",
    )
    assert stats["byMethod"].get("GET", 0) == len(linked) + 1, stats
    trail = _query(
        migrated.workdir,
        "SELECT type FROM events WHERE stream_id = 'patient:10488' ORDER BY position",
    )
    assert [t for (t,) in trail][-2:] == ["RollbackRequested", "RollbackWithheld"]
    state = _query(
        migrated.workdir,
        "SELECT state FROM record_state WHERE stream_id = 'patient:10488'",
    )
    assert state == [("loaded",)]
    with client(migrated.sandbox.rest_url, migrated.sandbox.api_key) as http:
        person = http.get(f"/people/{ids['patient:10488']}").json()["data"]["person"]
    assert person["name"]["firstName"] == "Edited"


def test_schema_removes_our_fields_and_objects(
    twenty_sandbox: object, key_env: object, tmp_path: Path
) -> None:
    from tests.rollback.conftest import OBJECTS, fields_of, seed

    sandbox = twenty_sandbox
    rest, key = sandbox.rest_url, sandbox.api_key  # type: ignore[attr-defined]
    key_env(key)  # type: ignore[operator]
    seed(rest, key)
    model = fields_of(rest, key)
    standard = tuple(p for p in OBJECTS if p in ("people", "companies", "tasks", "notes",
                                                  "taskTargets", "noteTargets"))  # fmt: skip
    before = snapshot(rest, key, standard)
    workdir = prepare(tmp_path / "wd", sandbox.base_url)  # type: ignore[attr-defined]
    invoke(workdir, "run", "--without-sample-approval")
    assert fields_of(rest, key) != model
    code, output = _rollback(workdir, "--yes", "--schema")
    assert code == 0, output
    assert fields_of(rest, key) == model
    assert differences(before, snapshot(rest, key, standard)) == []
    code, output = _rollback(workdir, "--yes", "--schema")
    assert code == 0 and "nothing to undo" in output

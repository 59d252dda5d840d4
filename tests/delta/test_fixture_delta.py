"""The fixture delta bundle on the small bundle: exact writes, reruns, deletes, dry run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.twenty_sandbox import SandboxHandle
from tests.delta.conftest import (
    FIXTURES,
    delta_writes,
    dump,
    invoke,
    migrated,
    patch_record,
    store_rows,
)

DELTA = FIXTURES / "delta_cp1252"
# fixtures/dental_exec/README.md, "The delta": patient 10481 is updated through its changed
# custom field; the new custom field of 10498 travels in its person; the treatment of the
# completed procedure line is re-derived and found unchanged.
CREATED = {
    "patient:10498",
    "appointment:583317",
    "task_target:appointment:583317",
    "payment:118209",
}
UPDATED = {"patient:10480", "patient:10481", "appointment:583311", "procedure:902202"}
# Soft-deleted in the source (Status = Deleted, Deleted = Y), and the appointment's target.
SOURCE_DELETED = {"patient:10490", "appointment:583309", "task_target:appointment:583309"}


def _content(sandbox: SandboxHandle) -> dict[str, dict[str, dict]]:
    return dump(sandbox.rest_url, sandbox.api_key, volatile=frozenset({"searchVector"}))


def test_the_fixture_delta_sends_exactly_the_new_and_changed_records(
    sandbox_key: SandboxHandle, tmp_path: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    before = _content(sandbox_key)
    out = invoke(workdir, "delta", str(DELTA))
    writes = delta_writes(workdir)
    assert writes["created"] == CREATED
    assert writes["updated"] == UPDATED
    assert writes["soft_deleted"] == set()
    assert "3 record(s) removed or deleted in the source are still in Twenty" in out
    after = _content(sandbox_key)
    changed = {
        rid
        for plural, records in after.items()
        for rid, record in records.items()
        if before[plural].get(rid) != record
    }
    ids = dict(store_rows(workdir, "SELECT stream_id, destination_id FROM record_state"))
    assert changed == {ids[s] for s in CREATED | UPDATED}
    # Before-images: recorded before the PATCH and in the outcome.
    images = store_rows(
        workdir,
        "SELECT stream_id, json_extract(data, '$.before_image.id') FROM events "
        "WHERE type = 'LoadRequested' AND json_extract(data, '$.operation') = 'update'",
    )
    assert {s for s, image_id in images if image_id == ids[s]} == UPDATED


def test_rerunning_the_same_bundle_sends_nothing(
    sandbox_key: SandboxHandle, tmp_path: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    invoke(workdir, "delta", str(DELTA))
    before, events = _content(sandbox_key), store_rows(workdir, "SELECT COUNT(*) FROM events")
    requests = sandbox_key.stats()["requests"]
    out = invoke(workdir, "delta", str(DELTA))
    assert "sent: 0 created, 0 updated, 0 soft-deleted" in out
    assert sandbox_key.stats()["requests"] - requests == 1  # the workspace members, read
    assert _content(sandbox_key) == before
    # Only the run's own RunStarted and RunFinished were recorded.
    assert store_rows(workdir, "SELECT COUNT(*) FROM events")[0][0] == events[0][0] + 2


def test_apply_deletes_soft_deletes_the_source_deleted_records(
    sandbox_key: SandboxHandle, tmp_path: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    invoke(workdir, "delta", str(DELTA))
    invoke(workdir, "delta", str(DELTA), "--apply-deletes")
    assert delta_writes(workdir)["soft_deleted"] == SOURCE_DELETED
    states = dict(store_rows(workdir, "SELECT stream_id, state FROM record_state"))
    assert {s for s, state in states.items() if state == "deleted"} == SOURCE_DELETED
    ids = dict(store_rows(workdir, "SELECT stream_id, destination_id FROM record_state"))
    live = {rid for records in _content(sandbox_key).values() for rid in records}
    assert not {ids[s] for s in SOURCE_DELETED} & live
    out = invoke(workdir, "delta", str(DELTA), "--apply-deletes")
    assert "sent: 0 created, 0 updated, 0 soft-deleted" in out


def test_dry_run_prints_what_the_real_run_then_sends_and_records_nothing(
    sandbox_key: SandboxHandle, tmp_path: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    before, events = _content(sandbox_key), store_rows(workdir, "SELECT COUNT(*) FROM events")
    out = invoke(workdir, "delta", str(DELTA), "--dry-run", "--apply-deletes")
    assert _content(sandbox_key) == before
    assert store_rows(workdir, "SELECT COUNT(*) FROM events") == events
    assert not (workdir / ".delta-dry-run").exists()
    lines = [line.split() for line in out.splitlines() if line.startswith("would ")]
    planned = [words[1:4] for words in lines if words[1] != "send:"]
    assert "dry run: nothing was sent to Twenty and nothing was recorded" in out
    invoke(workdir, "delta", str(DELTA), "--apply-deletes")
    ids = dict(store_rows(workdir, "SELECT stream_id, destination_id FROM record_state"))
    writes = delta_writes(workdir)
    expected = [("create", s) for s in CREATED] + [("update", s) for s in UPDATED]
    expected += [("soft_delete", s) for s in SOURCE_DELETED]
    assert {s for _, s in expected} == set().union(*writes.values())
    assert sorted((op, ids[s]) for op, s in expected) == sorted((op, rid) for op, _, rid in planned)


def test_an_edit_in_twenty_is_a_conflict_left_alone_unless_forced(
    sandbox_key: SandboxHandle, tmp_path: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    ids = dict(store_rows(workdir, "SELECT stream_id, destination_id FROM record_state"))
    person = _content(sandbox_key)["people"][ids["patient:10480"]]
    patch_record(sandbox_key, "people", person["id"], {"chartNumber": "EDITED-1"})
    out = invoke(workdir, "delta", str(DELTA))
    assert "conflict patient:10480: chartNumber (left_alone)" in out
    assert delta_writes(workdir)["updated"] == UPDATED - {"patient:10480"}
    assert _content(sandbox_key)["people"][person["id"]]["chartNumber"] == "EDITED-1"
    conflicts = store_rows(
        workdir, "SELECT json_extract(data, '$.stream_id') FROM events WHERE type = ?",
        "ConflictDetected",
    )  # fmt: skip
    assert conflicts == [("patient:10480",)]
    out = invoke(workdir, "delta", str(DELTA), "--force")
    assert "conflict patient:10480: chartNumber (overwritten)" in out
    assert delta_writes(workdir)["updated"] == UPDATED
    assert _content(sandbox_key)["people"][person["id"]]["chartNumber"] == person["chartNumber"]


@pytest.fixture
def later_full_export(tmp_path: Path) -> Path:
    """small_cp1252 exported again without appointment 583308 (a hard delete)."""
    export = shutil.copytree(FIXTURES / "small_cp1252", tmp_path / "full-2")
    path = export / "appointments.csv"
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join(line for line in lines if not line.startswith(b"583308,")))
    return export


def test_a_later_full_export_reports_the_removed_rows_and_deletes_them_on_request(
    sandbox_key: SandboxHandle, tmp_path: Path, later_full_export: Path
) -> None:
    workdir = migrated(tmp_path / "wd", sandbox_key)
    before = _content(sandbox_key)
    out = invoke(workdir, "delta", str(later_full_export))
    assert "removed in the source: 1 record(s), 1 task/note target(s)" in out
    assert "sent: 0 created, 0 updated, 0 soft-deleted" in out
    assert _content(sandbox_key) == before
    removed = {"appointment:583308", "task_target:appointment:583308"}
    states = dict(store_rows(workdir, "SELECT stream_id, state FROM record_state"))
    assert {s for s, state in states.items() if state == "removed"} == removed
    invoke(workdir, "delta", str(later_full_export), "--apply-deletes")
    assert delta_writes(workdir)["soft_deleted"] == removed
    # A delta bundle never removes anything: absent rows there are unchanged ones.
    invoke(workdir, "delta", str(DELTA))
    assert delta_writes(workdir)["soft_deleted"] == removed

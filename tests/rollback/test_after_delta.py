"""Rollback after a delta: records a delta left re-extracted, in conflict or soft-deleted are
still ours in Twenty, and a full rollback must undo them too."""

from __future__ import annotations

import pytest

from tests.delta.conftest import FIXTURES, patch_record, store_rows
from tests.rollback.conftest import Migrated, differences
from tests.run.conftest import invoke


@pytest.mark.slow
def test_full_rollback_after_a_delta_with_a_conflict_and_a_soft_delete(migrated: Migrated) -> None:
    workdir, sandbox = migrated.workdir, migrated.sandbox
    # Someone edits patient 10480 in Twenty after our load; the delta then changes it too.
    dest = store_rows(
        workdir, "SELECT destination_id FROM record_state WHERE stream_id = ?", "patient:10480"
    )[0][0]
    patch_record(sandbox, "people", dest, {"chartNumber": "EDITED-IN-TWENTY"})
    invoke(workdir, "delta", str(FIXTURES / "delta_cp1252"), "--apply-deletes")
    states = dict(store_rows(workdir, "SELECT stream_id, state FROM record_state"))
    assert states["patient:10480"] == "validated"  # the update was left alone: a conflict
    assert states["patient:10490"] == "deleted"  # soft-deleted by the delta
    invoke(workdir, "rollback", "--yes", "--force")
    assert differences(migrated.before, migrated.now()) == []
    left = store_rows(
        workdir,
        "SELECT COUNT(*) FROM record_state WHERE state NOT IN "
        "('rolled_back', 'rejected', 'skipped', 'removed')",
    )[0][0]
    assert left == 0
    # The task target of the appointment deleted in the source left the source with it: once
    # deleted from Twenty it is `removed` again, not a record for `ferry run` to migrate.
    removed = store_rows(workdir, "SELECT stream_id FROM record_state WHERE state = 'removed'")
    assert removed == [("task_target:appointment:583309",)]

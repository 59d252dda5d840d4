"""ferry rollback on a sandbox that held records before the migration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapters.twenty_sandbox import SandboxHandle
from core.lifecycle import Lifecycle
from events.audit import verify_chain
from events.store import EventStore
from tests.rollback.conftest import differences, seed, snapshot
from tests.run.conftest import invoke, prepare


def _events(workdir: Path, sql: str) -> list[tuple]:
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        return store.connection.execute(sql).fetchall()


def test_rollback_puts_the_sandbox_back_field_by_field(
    twenty_sandbox: SandboxHandle, key_env: Callable[[str], None], tmp_path: Path
) -> None:
    key_env(twenty_sandbox.api_key)
    rest, key = twenty_sandbox.rest_url, twenty_sandbox.api_key
    ids = seed(rest, key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url)
    before = snapshot(rest, key)
    invoke(workdir, "run", "--without-sample-approval")
    during = snapshot(rest, key)
    assert differences(before, during), "the migration changed nothing"
    outcomes = dict(
        _events(workdir, "SELECT json_extract(data, '$.outcome'), COUNT(*) FROM events "
                "WHERE type = 'RecordLoaded' GROUP BY 1")
    )  # fmt: skip
    assert outcomes["linked"] == 4, outcomes  # laura, rob (deleted), zoe (deleted), practice

    output = invoke(workdir, "rollback", "--yes")
    assert "completed" in output
    after = snapshot(rest, key)
    assert differences(before, after) == []
    assert ids  # the bystanders are part of `before`, so untouched

    _assert_children_undone_before_parents(workdir)

    second = invoke(workdir, "rollback", "--yes")
    assert "nothing to undo" in second
    assert snapshot(rest, key) == after
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        assert verify_chain(store.connection).is_ok


def _assert_children_undone_before_parents(workdir: Path) -> None:
    """Every record pointing at a parent (task/note targets, relations) was undone first."""
    sql = "SELECT stream_id, MAX(position) FROM events WHERE type = 'RecordRolledBack' GROUP BY 1"
    undone = dict(_events(workdir, sql))
    refs = _events(
        workdir,
        "SELECT e.stream_id, j.value FROM events e, json_each(e.data, '$.refs') j "
        "WHERE e.type = 'RecordTransformed'",
    )
    pairs = [(child, parent) for child, parent in refs if parent in undone]
    assert len(pairs) > 50
    assert [p for p in pairs if undone[p[0]] > undone[p[1]]] == []

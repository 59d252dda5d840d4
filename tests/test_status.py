"""`ferry status`: failures by code and what to do next, from the store alone."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli import ferry
from core.lifecycle import Lifecycle
from events.store import EventStore, NewEvent
from events.types import MappingConfirmed, RunPaused, RunStarted, SchemaChangeApplied
from tests.events.factories import record_event


def _status(workdir: Path) -> dict:
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_next_steps_follow_the_store(tmp_path: Path) -> None:
    store = EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state)
    assert "ferry map confirm" in _status(tmp_path)["next_steps"][0]
    store.append([NewEvent("migration", MappingConfirmed(mapping_hash="h", user="u"))])
    store.append(
        [NewEvent("migration", SchemaChangeApplied(change="create_object", object_name="t"))]
    )
    for key in ("1", "2", "3"):
        for kind in ("RecordExtracted", "RecordTransformed", "RecordValidated"):
            store.append([NewEvent(f"patient:{key}", record_event(kind, key))])
    store.append([NewEvent("patient:4", record_event("RecordExtracted", "4"))])
    store.append([NewEvent("patient:4", record_event("RecordRejected"))])
    for kind in ("LoadRequested", "LoadFailed"):
        store.append([NewEvent("patient:3", record_event(kind))])
    store.append([NewEvent("run:r1", RunStarted(run_id="r1", command="run"))], run_id="r1")
    store.append(
        [NewEvent("run:r1", RunPaused(until="2026-11-27T10:00:00.000000Z", why="rate_limited"))],
        run_id="r1",
    )
    body = _status(tmp_path)
    assert body["totals"] == {"validated": 2, "load_failed": 1, "rejected": 1}
    assert body["failures"] == {"load_failed": {"HTTP_503": 1}, "rejected": {"BAD_DATE": 1}}
    steps = " | ".join(body["next_steps"])
    assert "run r1 is paused until 2026-11-27T10:00:00.000000Z" in steps
    assert "3 record(s) still to load" in steps
    assert "ferry report rejected" in steps
    text = CliRunner().invoke(ferry, ["--workdir", str(tmp_path), "status"]).output
    assert "paused until" in text and "next: ferry run" in text
    store.close()

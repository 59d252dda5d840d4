"""The run report: counts per entity from the run's result and the store, pauses, next steps."""

from __future__ import annotations

from pathlib import Path

import msgspec

from core.reports import render_run_report, run_facts, store_facts
from events.store import NewEvent
from events.types import RunFinished, RunPaused, RunResumed, RunStarted
from tests.pipeline.fates import seed_fates
from tests.pipeline.migrated import open_store


class _Local(msgspec.Struct):
    read: int = 0
    unchanged: int = 0
    extracted: int = 0
    validated: int = 0
    rejected: int = 0
    skipped: int = 0


class _Load(msgspec.Struct):
    created: int = 0
    linked: int = 0
    failed: int = 0


class _Blocked(msgspec.Struct, frozen=True):
    stream_id: str
    field: str
    parent: str
    parent_state: str | None


class _Result(msgspec.Struct):
    """The shape of core.pipeline.run.RunResult."""

    run_id: str
    outcome: str = "completed"
    local: dict[str, _Local] = {}
    load: dict[str, _Load] = {}
    blocked: dict[str, list[_Blocked]] = {}
    message: str = ""
    seconds: float = 0.0


def test_run_report_joins_result_and_store(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ferry.db")
    run = "20261127T031500-3fa2"
    store.append([NewEvent(f"run:{run}", RunStarted(run_id=run, command="run"))], run_id=run)
    seed_fates(store, "patient", ["loaded", "loaded", "load_failed", "rejected"], run_id=run)
    store.append(
        [NewEvent(f"run:{run}", RunPaused(until="2026-11-27T03:16:00Z", why="rate_limited: 429")),
         NewEvent(f"run:{run}", RunResumed(why="wait_over")),
         NewEvent(f"run:{run}", RunFinished(outcome="interrupted"))],
        run_id=run,
    )  # fmt: skip
    result = _Result(
        run_id=run, outcome="interrupted", seconds=3725.0,
        local={"patient": _Local(read=4, rejected=1, validated=3)},
        load={"patient": _Load(created=2, failed=1)},
        blocked={"appointment": [_Blocked("appointment:7", "personId", "patient:4", "rejected")]},
    )  # fmt: skip
    text = render_run_report(run_facts(result), store_facts(store.connection, run))
    assert f"# Run {run}" in text and "outcome: **interrupted**" in text
    assert "took 1h 02m 05s" in text and "pauses: 1" in text
    assert "| patient | 4 | 0 | 1 | 0 | 2 | 0 | 0 | 1 | 0 |" in text
    assert "| appointment | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 1 |" in text
    assert "`HTTP_400` 1" in text
    assert "`appointment:7`: `personId` waits for patient:4 (rejected)" in text
    assert "rate_limited: 429" in text
    steps = text.split("## What to do next")[1]
    assert "run `ferry run` again: it resumes" in steps
    assert "ferry verify" not in steps  # only after a completed run

"""A long wait the rate limiter announces becomes a durable RunPaused, then RunResumed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from core.config import WorkspaceConfig
from core.pipeline.run import Run
from core.rate_limit import PauseNotice
from core.workspace import init_workspace
from events.queries import status_counts
from events.types import RunPaused, RunResumed
from tests.run.conftest import FIXTURES


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return 0.0


def test_a_long_wait_is_recorded_and_shown_in_status(tmp_path: Path) -> None:
    config = WorkspaceConfig(source=str(FIXTURES / "small_utf8"))
    workspace = init_workspace(tmp_path, config, ferry_version="t")
    run = Run(workspace, None, None, None, None, clock=FixedClock())  # type: ignore[arg-type]
    run.on_pause(PauseNotice(45.0, "rate_limited: Twenty answered 429"))
    status = status_counts(workspace.store.connection)
    assert status.runs[0]["status"] == "paused"
    assert status.runs[0]["paused_until"] == "2026-11-27T09:00:45.000000Z"
    run.on_resume()
    run.on_resume()  # a second call without a pause records nothing
    events = [e.event for e in workspace.store.read_stream(f"run:{run.result.run_id}")]
    assert [type(e) for e in events] == [RunPaused, RunResumed]
    assert status_counts(workspace.store.connection).runs[0]["status"] == "running"
    assert uuid.UUID(str(workspace.namespace))
    workspace.close()

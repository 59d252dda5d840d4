"""Out-of-memory run state: seen keys exact across chunks; the scratch context closed after use."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.dental_exec import open_export
from core.clock import SystemClock
from core.lifecycle import Lifecycle
from core.mapping import (
    LOAD_ORDER,
    TARGET_LOAD_ORDER,
    TransformContext,
    TransformSettings,
    prepare_context,
)
from core.mapping.proposer import propose_mapping
from core.mapping.spec import schema_spec_from_mapping
from core.pipeline.local import LocalStage
from core.pipeline.run import Run, RunRequest
from core.pipeline.seen_keys import SeenKeys
from core.workspace import open_workspace
from events.store import EventStore
from tests.run.conftest import FIXTURES, invoke
from tests.run.test_local_stage import _with_duplicate_patient

stream_ids = st.one_of(st.none(), st.sampled_from([f"patient:{n}" for n in range(12)]))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(stream_ids, max_size=15), max_size=8))
def test_first_seen_is_exact_over_chunks(chunks: list[list[str | None]]) -> None:
    seen, reference = SeenKeys(), set()
    try:
        for chunk in chunks:
            expected = []
            for sid in chunk:
                expected.append(sid is None or sid not in reference)
                if sid is not None:
                    reference.add(sid)
            assert seen.first_seen(chunk) == expected
    finally:
        seen.close()


@pytest.mark.parametrize("chunk_size", [1, 7, 2000], ids=["one-row", "seven-rows", "one-chunk"])
def test_a_duplicate_in_a_later_chunk_is_rejected_like_one_in_the_same_chunk(
    tmp_path: Path, chunk_size: int
) -> None:
    export = _with_duplicate_patient(tmp_path)
    store = EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state)
    source = open_export(export)
    mapping = propose_mapping(source).mapping
    context = prepare_context(source, mapping, TransformSettings(namespace=uuid.UUID(int=1)))
    stage = LocalStage(
        store,
        context,
        schema_spec_from_mapping(mapping),
        run_id="r",
        mapping_hash="m",
        chunk_size=chunk_size,
    )
    summary = stage.run(source.rows("patient"))
    context.close()
    assert summary.rejected == 1
    rejected = store.connection.execute(
        "SELECT stream_id, last_error_code FROM record_state WHERE state = 'rejected'"
    ).fetchall()
    assert [code for _, code in rejected] == ["DUPLICATE_KEY"]
    assert rejected[0][0].startswith("patient:@patients.csv:")
    owner = "SELECT state FROM record_state WHERE stream_id = 'patient:10480'"
    assert store.connection.execute(owner).fetchone() == ("validated",)
    store.close()


def test_a_run_closes_the_context_it_built_after_the_local_stages(tmp_path: Path) -> None:
    export = FIXTURES / "small_utf8"
    invoke(tmp_path, "init", "--source", str(export))
    invoke(tmp_path, "map", "propose", str(export))
    invoke(tmp_path, "map", "confirm", "--user", "tester")
    workspace = open_workspace(tmp_path)
    source = open_export(export)
    mapping = propose_mapping(source).mapping
    built: list[TransformContext] = []

    def factory() -> TransformContext:
        built.append(
            prepare_context(source, mapping, TransformSettings(namespace=uuid.UUID(int=1)))
        )
        return built[0]

    spec = schema_spec_from_mapping(mapping)
    no_twenty: Any = None  # the local stages never reach the destination
    run = Run(workspace, source, factory, spec, no_twenty, clock=SystemClock())
    request = RunRequest(load=False)
    result = anyio.run(lambda: run.execute(request, LOAD_ORDER, TARGET_LOAD_ORDER, "m"))
    assert result.outcome == "completed" and result.local["patient"].validated > 0
    with pytest.raises(sqlite3.ProgrammingError):  # the scratch database is closed (deleted)
        built[0].patient_location.get(10**15)  # an ID never asked for, so not cached
    workspace.close()

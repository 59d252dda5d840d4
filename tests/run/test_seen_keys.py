"""Duplicate keys are found exactly across chunks, with the seen keys kept out of memory."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.dental_exec import open_export
from core.lifecycle import Lifecycle
from core.mapping import TransformSettings, prepare_context
from core.mapping.proposer import propose_mapping
from core.mapping.spec import schema_spec_from_mapping
from core.pipeline.local import LocalStage, SeenKeys
from events.store import EventStore
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

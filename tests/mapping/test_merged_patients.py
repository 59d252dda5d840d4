"""A merged patient in the transform: skipped, and every relation to it (refs, task and note
targets, check-only refs) re-pointed at the kept patient; it owns no shared email; nothing
else changes."""

from __future__ import annotations

from collections.abc import Iterator

from core.mapping import Ref, Skipped, Transformed, transform
from core.mapping.transform import LOAD_ORDER
from tests.mapping.conftest import context_for


def _refs(record: Transformed) -> Iterator[Ref]:
    yield from record.refs.values()
    for child in record.children:
        yield from _refs(child)


def _without(payload: dict[str, object], keys: set[str]) -> dict[str, object]:
    return {k: v for k, v in payload.items() if k not in keys}


def test_a_merged_patient_is_skipped_and_every_relation_to_it_points_at_the_kept_one() -> None:
    source, plain = context_for("small_utf8")
    patients = [row.key for row in source.rows("patient") if row.key and not row.is_deleted]
    merged, kept = patients[0], patients[1]
    _, merging = context_for("small_utf8", merged_patients={merged: kept})
    pointed = 0
    for entity in LOAD_ORDER:
        if entity not in source.entities():
            continue
        for row in source.rows(entity):
            before, after = transform(row, plain), transform(row, merging)
            if entity == "patient" and row.key == merged:
                assert after == Skipped(
                    "MERGED_DUPLICATE", f"merged into patient:{kept} (the practice's decision)"
                )
                continue
            if not isinstance(before, Transformed):
                assert type(after) is type(before)
                continue
            assert isinstance(after, Transformed)
            # A merged patient owns no shared email: a family member may now hold it.
            email = {"emails", "sharedEmail"}
            assert _without(after.payload, email) == _without(before.payload, email)
            assert after.stream_id == before.stream_id
            assert not [w for w in after.warnings if w.endswith(f"patient:{merged}")]
            old = [r.stream_id for r in _refs(before)]
            new = [r.stream_id for r in _refs(after)]
            assert f"patient:{merged}" not in new
            assert new == [f"patient:{kept}" if s == f"patient:{merged}" else s for s in old]
            pointed += old.count(f"patient:{merged}")
    assert pointed >= 3  # the merged patient's records exist and were all re-linked

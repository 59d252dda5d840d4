"""Reconciliation: every record in exactly one category, and the numbers add up."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.reports import (
    CATEGORIES,
    reconcile,
    reconciliation_data,
    render_reconciliation,
)
from events.store import NewEvent
from events.types import RecordExtracted, RecordRejected, RejectionReason
from tests.pipeline.fates import FATES, seed_fates
from tests.pipeline.migrated import open_store


def test_each_fate_lands_in_its_own_category(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ferry.db")
    seed_fates(store, "appointment", list(FATES))
    rows = len(FATES) + 1  # one row not read yet
    result = reconcile(store.connection, {"appointment": rows}, order=("parent", "appointment"))
    entity = next(e for e in result.entities if e.entity == "appointment")
    assert entity.counts == dict.fromkeys(CATEGORIES, 1)
    assert (entity.records, entity.not_read, entity.adds_up) == (len(FATES), 1, False)
    assert entity.keys["blocked"] == ["4"] and entity.keys["in_doubt"] == ["5"]
    assert entity.codes["rejected"] == {"BAD_DATE": 1}
    assert entity.codes["skipped"] == {"SOURCE_DELETED": 1}
    assert entity.codes["load_failed"] == {"HTTP_400": 1}
    assert entity.codes["mismatched"] == {"title": 1}
    assert entity.keys["missing"] == ["10"]


def test_a_repeated_key_is_a_rejected_record_of_its_own_once_even_when_rejected_again(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "ferry.db")
    seed_fates(store, "patient", ["verified", "verified"])
    reason = RejectionReason(code="DUPLICATE_KEY", message="the same key on an earlier line")
    # The local stage rejects a repeated key on a stream named by its line, run after run.
    for _ in range(2):
        store.append([
            NewEvent("patient:@patients.csv:40", RecordExtracted(
                source_file="patients.csv", line=40, source_key="@patients.csv:40",
                content_hash=f"dup{_}")),
            NewEvent("patient:@patients.csv:40", RecordRejected(reasons=[reason])),
        ])  # fmt: skip
    (entity,) = reconcile(store.connection, {"patient": 3}).entities
    assert (entity.records, entity.repeated_keys, entity.not_read) == (3, 0, 0)
    assert entity.adds_up and entity.counts["rejected"] == 1
    assert entity.codes["rejected"] == {"DUPLICATE_KEY": 1}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fates=st.lists(st.sampled_from(FATES), max_size=30))
def test_categories_always_sum_to_the_records(
    tmp_path_factory: pytest.TempPathFactory, fates: list[str]
) -> None:
    path = tmp_path_factory.mktemp("rec") / "ferry.db"
    store = open_store(path)
    seed_fates(store, "task", fates)
    result = reconcile(store.connection, {"task": len(fates)})
    task = next((e for e in result.entities if e.entity == "task"), None)
    assert task is not None
    assert task.counts == {c: Counter(fates)[c] for c in CATEGORIES}
    assert sum(task.counts.values()) == task.records == len(fates)
    assert task.adds_up and task.not_read == 0
    store.close()


def test_markdown_and_json_state_the_identity_and_show_codes_not_values(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ferry.db")
    seed_fates(store, "patient", ["verified", "rejected", "mismatched", "pending"])
    result = reconcile(store.connection, {"patient": 4})
    text = render_reconciliation(result)
    assert "Checked in code for every entity: records = skipped + rejected" in text
    assert (
        "| patient | 4 | 0 | 0 | 4 | 0 | 1 | 1 | 0 | 0 | 0 | 0 | 1 | 1 | 0 | 0 | 0 | 0 | yes |"
        in text
    )
    assert "| **all** | 4 | 0 | 0 | 4 | 0 | 1 | 1 | 0 |" in text
    assert "`BAD_DATE` 1" in text and "`title` 1" in text
    assert "not a date" not in text  # messages stay in the store; codes in the report
    assert "expected" not in text and '"a"' not in text
    data = json.loads(json.dumps(reconciliation_data(result)))
    assert data["adds_up"] is True
    assert data["entities"][0]["verified"] == 1 and data["totals"]["records"] == 4

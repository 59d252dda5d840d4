"""The proposer on a renamed-headers copy of the fixtures: right columns, honest confidence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.dental_exec import open_export
from core.mapping.headers import file_headers
from core.mapping.proposer import propose_mapping
from core.mapping.valuemaps import default_value_maps
from tests.mapping.conftest import BUNDLES
from tests.mapping.renamed import renamed_copy, renames_for


def _measure(bundle: str, tmp_path: Path) -> tuple[int, int, int, list[tuple[str, str, float]]]:
    """(columns, renamed, correct, wrong proposals as (file, header, confidence))."""
    original = open_export(BUNDLES / bundle)
    expected: dict[tuple[str, str], str] = {}
    renamed_count = 0
    for entity in original.entities():
        renames = renames_for(original.describe(entity).name)
        for header, reader_name in file_headers(original, entity):
            new = renames.get(header, header)
            renamed_count += new != header
            expected[(entity, new)] = reader_name
    proposal = propose_mapping(open_export(renamed_copy(BUNDLES / bundle, tmp_path / "renamed")))
    wrong = [
        (item.file, item.header, item.confidence)
        for item in proposal.columns
        if item.column != expected[(item.entity, item.header)]
    ]
    total = len(proposal.columns)
    return total, renamed_count, total - len(wrong), wrong


@pytest.mark.parametrize("bundle", ["small_utf8", "small_cp1252"])
def test_renamed_headers_are_mapped(bundle: str, tmp_path: Path) -> None:
    total, renamed, correct, wrong = _measure(bundle, tmp_path)
    assert renamed * 3 >= total, "rename at least a third of the columns"
    assert correct / total >= 0.95, wrong
    assert all(confidence < 0.8 for _file, _header, confidence in wrong), wrong


def test_original_headers_all_confident() -> None:
    proposal = propose_mapping(open_export(BUNDLES / "small_utf8"))
    assert all(item.confidence >= 0.8 for item in proposal.columns)
    assert not any(item.column == "" for item in proposal.columns)


def test_proposal_lists_lowest_confidence_first(tmp_path: Path) -> None:
    source = open_export(renamed_copy(BUNDLES / "small_utf8", tmp_path / "renamed"))
    confidences = [item.confidence for item in propose_mapping(source).columns]
    assert confidences == sorted(confidences)
    assert confidences[0] < 0.8


def test_evidence_names_header_and_value_profile(tmp_path: Path) -> None:
    source = open_export(renamed_copy(BUNDLES / "small_utf8", tmp_path / "renamed"))
    by_header = {(c.entity, c.header): c for c in propose_mapping(source).columns}
    dob = by_header[("patient", "DOB")]
    assert dob.column == "birth_date" and dob.target == "birthDate"
    assert "header" in dob.evidence and "date" in dob.evidence
    email = by_header[("patient", "Primary Email")]
    assert email.column == "email" and "email" in email.evidence


def test_unplaced_codes_are_listed_and_spelling_variants_placed(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "small_utf8", bundle)
    path = bundle / "appointments.csv"
    text = path.read_text(encoding="utf-8-sig")
    text = text.replace(",No-Show,", ",NoShow,").replace(",Broken,", ",Teleported,")
    path.write_text(text, encoding="utf-8-sig")
    proposal = propose_mapping(open_export(bundle))
    assert proposal.unplaced["appointment_status"] == ["Teleported"]
    assert proposal.mapping.value_maps["appointment_status"].values["NoShow"] == "NO_SHOW"
    assert "NoShow" not in default_value_maps()["appointment_status"].values

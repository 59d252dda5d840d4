"""Sample selection: every stratum of the export is in the sample, with its records' parents.

The golden file holds, for the small fixture bundle, each stratum with its rows in the export
and in the sample; regenerate it with FERRY_UPDATE_GOLDEN=1 after a deliberate change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from adapters.dental_exec import open_export
from adapters.dental_exec.generator import GeneratorOptions, generate_export
from core.pipeline.sample import SampleOptions, SampleSelection, select_sample

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "fixtures" / "dental_exec" / "small_cp1252"
GOLDEN = Path(__file__).parent / "golden" / "sample_strata_small_cp1252.json"


@pytest.fixture(scope="module")
def small_sample() -> SampleSelection:
    return select_sample(open_export(SMALL), SampleOptions(size=3, seed=1))


def test_every_stratum_of_the_small_bundle_is_covered_exactly_as_recorded(
    small_sample: SampleSelection,
) -> None:
    coverage = {s.name: [s.total, s.selected] for s in small_sample.strata}
    if os.environ.get("FERRY_UPDATE_GOLDEN"):
        lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(coverage.items())]
        GOLDEN.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    assert coverage == json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert small_sample.uncovered == [] and small_sample.unselectable == []
    assert all(selected >= 1 for _, selected in coverage.values())


@pytest.mark.parametrize(
    "stratum",
    [
        "patient.status=deceased",
        "patient.status=prospect",
        "patient.finding=family_shared_email",
        "patient.finding=duplicate_patient",
        "patient.finding=placeholder_email",
        "patient.finding=lost_character",
        "appointment.finding=ambiguous_local_time",
        "appointment.status=no-show",
        "appointment.appt_type=endo",
        "procedure.stage=declined",
        "claim.status=s",
        "insurance_policy.status=terminated",
        "payment.method=carecredit",
        "communication.mode=portal",
        "recall.recall_type=fmx",
        "attachment.finding=oversized_attachment",
        "custom_field.finding=unknown_custom_field",
        "appointment.deleted",
    ],
)
def test_named_quirks_are_in_the_sample(small_sample: SampleSelection, stratum: str) -> None:
    found = {s.name: s for s in small_sample.strata}
    assert found[stratum].selected >= 1


def test_records_come_with_their_parents(small_sample: SampleSelection) -> None:
    source = open_export(SMALL)
    keys = small_sample.keys
    patients = keys["patient"]
    for entity in ("appointment", "claim", "payment", "recall", "communication", "procedure"):
        for row in source.rows(entity):
            if row.key in keys.get(entity, ()):
                assert str(int(row.values["patient_id"] or "0")) in patients, (entity, row.key)
    for row in source.rows("patient"):
        if row.key in patients:
            assert str(int(row.values["guarantor_id"] or "0")) in patients
    assert keys["practice"] == {"1", "2", "3"} and len(keys["provider"]) == 8


def test_a_bigger_export_gets_about_size_patients_and_every_row_error(tmp_path: Path) -> None:
    generate_export(GeneratorOptions(out=tmp_path / "export", patients=400, seed=3))
    source = open_export(tmp_path / "export")
    first = select_sample(source, SampleOptions(size=40, seed=7))
    assert first.uncovered == []
    assert 40 <= first.patients <= 40 + len(first.strata) // 2
    errors = {s.name for s in first.strata if ".error=" in s.name}
    assert errors and all(s.selected for s in first.strata if s.name in errors)
    again = select_sample(source, SampleOptions(size=40, seed=7))
    assert again.keys == first.keys  # same seed, same sample

"""The sample is a few hundred records a person can read, covering every object and quirk.

On the generator's 5,000-patient export (106,912 rows) the default sample must stay within
200 to 500 records, hold every object of the export, every stratum (row errors, deleted rows,
audit findings, refunds, voids) and, for every record, the records it points to.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from adapters.dental_exec import open_export
from adapters.dental_exec.generator import GeneratorOptions, generate_export
from core.export_format import file_for_entity
from core.pipeline.sample import SampleOptions, SampleSelection, select_sample
from core.ports.source import Source

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "fixtures" / "dental_exec" / "small_cp1252"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Source, SampleSelection]:
    out = tmp_path_factory.mktemp("big") / "export"
    generate_export(GeneratorOptions(out=out, patients=5000, seed=1))
    source = open_export(out)
    return source, select_sample(source)


def test_the_default_sample_of_5000_patients_is_200_to_500_records_of_every_object(
    big: tuple[Source, SampleSelection],
) -> None:
    source, sample = big
    assert 200 <= sample.records <= 500, sample.records
    assert set(sample.keys) == set(source.entities())
    assert sample.uncovered == [] and sample.unselectable == []
    assert all(s.selected for s in sample.strata)


@pytest.mark.parametrize(
    "stratum",
    [
        "patient.finding=family_shared_email",
        "patient.finding=duplicate_patient",
        "patient.status=deceased",
        "payment.amount=refund",
        "payment.voided=y",
        "recall.recall_type=prophy",
        "attachment.category=radiograph",
        "communication.finding=ambiguous_local_time",
        "appointment.deleted",
        "appointment.error=bad_integer",
        "payment.error=bad_value",
        "custom_field.finding=unknown_custom_field",
    ],
)
def test_the_tricky_cases_are_in_the_sample(
    big: tuple[Source, SampleSelection], stratum: str
) -> None:
    found = {s.name: s for s in big[1].strata}
    assert stratum in found, sorted(found)
    assert found[stratum].selected >= 1


def test_every_sampled_record_comes_with_the_records_it_points_to(
    big: tuple[Source, SampleSelection],
) -> None:
    source, sample = big
    checked = 0
    for entity, keys in sample.keys.items():
        if entity == "custom_field":
            continue
        pointers = {c: t for c, t in file_for_entity(entity).foreign_keys.items() if "." not in t}
        for row in source.rows(entity):
            if row.key not in keys:
                continue
            for column, target in pointers.items():
                text = (row.values.get(column) or "").strip()
                if text.isdecimal() and int(text) > 0:
                    assert str(int(text)) in sample.keys[target], (entity, row.key, column)
                    checked += 1
    assert checked > 300


def test_size_is_a_target_in_records_and_never_drops_a_stratum() -> None:
    source = open_export(SMALL)
    tiny = select_sample(source, SampleOptions(size=1))
    assert tiny.uncovered == [] and tiny.records < 200  # representatives beat the target
    roomy = select_sample(source, SampleOptions(size=200))
    assert roomy.records > tiny.records and roomy.keys["patient"] > tiny.keys["patient"]


def test_the_same_seed_gives_the_same_sample_and_another_seed_another_fill(
    tmp_path: Path,
) -> None:
    generate_export(GeneratorOptions(out=tmp_path / "export", patients=400, seed=3))
    source = open_export(tmp_path / "export")
    first = select_sample(source, SampleOptions(size=300, seed=7))
    assert select_sample(source, SampleOptions(size=300, seed=7)).keys == first.keys
    other = select_sample(source, SampleOptions(size=300, seed=8))
    assert other.keys["patient"] != first.keys["patient"] and other.uncovered == []
    assert 200 <= first.records <= 500


def test_custom_field_rows_of_sampled_records_name_their_file_and_line() -> None:
    sample = select_sample(open_export(SMALL), SampleOptions(size=1))
    lines = (SMALL / "custom_fields.csv").read_text(encoding="cp1252").splitlines()
    seen = 0
    for stream_id, rows in sample.custom.items():
        entity, _, key = stream_id.partition(":")
        assert key in sample.keys[entity]
        for row in rows:
            _type, record_id, field_key, *rest = next(csv.reader([lines[row.line - 1]]))
            assert (record_id, field_key) == (key, row.field_key) and row.value == rest[2]
            assert row.file == "custom_fields.csv"
            seen += 1
    assert seen >= 10
    assert any(r.field_key == "HIPAA_NPP_ACK" for rows in sample.custom.values() for r in rows)

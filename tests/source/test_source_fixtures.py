"""The small hand-checkable bundles, read with exact counts, values, lines and hashes."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from adapters.dental_exec import open_export
from core.errors import BadInputError
from core.export_format import ENTITIES, file_for_entity, header_key, match_file_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec"
CP1252 = FIXTURES / "small_cp1252"
UTF8 = FIXTURES / "small_utf8"
DELTA = FIXTURES / "delta_cp1252"
COUNTS = {
    "practice": 3, "provider": 8, "patient": 18, "appointment": 16, "treatment_plan": 4,
    "procedure": 12, "insurance_policy": 6, "claim": 6, "referral": 5, "payment": 8,
    "recall": 8, "attachment": 7, "communication": 9, "custom_field": 41,
}  # fmt: skip


def _rows(path: Path, entity: str) -> dict[str, object]:
    return {row.key: row for row in open_export(path).rows(entity)}


@pytest.mark.parametrize("bundle", [CP1252, UTF8], ids=["cp1252", "utf8"])
def test_small_bundles_have_exact_counts_and_no_row_errors(bundle: Path) -> None:
    export = open_export(bundle)
    assert export.entities() == list(ENTITIES)
    for entity in ENTITIES:
        rows = list(export.rows(entity))
        assert len(rows) == COUNTS[entity], entity
        assert [row for row in rows if row.errors] == []
    assert {f.entity: f.rows for f in export.inventory()} == COUNTS


def test_encodings_are_detected_per_file() -> None:
    files = {f.entity: f.encoding for f in open_export(CP1252).inventory()}
    assert files["patient"] == "cp1252"
    assert files["attachment"] == files["custom_field"] == "utf-8-sig"  # Q1: newer module
    assert files["claim"] == "ascii"  # nothing outside ASCII: both readings agree
    utf8 = {f.entity: f.encoding for f in open_export(UTF8).inventory()}
    assert utf8["practice"] == "utf-8" and utf8["patient"] == "utf-8-sig"


def test_windows_1252_characters_are_decoded_q1() -> None:
    patients = _rows(CP1252, "patient")
    assert patients["10484"].values["last_name"] == "Muñoz"
    assert patients["10485"].values["last_name"] == "O’Brien"  # byte 0x92
    assert patients["10495"].values["first_name"] == "Zoë"
    assert patients["10486"].values["last_name"] == "Nguy?n"  # lost by the export itself
    assert _rows(UTF8, "patient")["10486"].values["last_name"] == "Nguyễn"


def test_multiline_notes_keep_their_text_and_start_lines_q2() -> None:
    patients = _rows(CP1252, "patient")
    note = patients["10482"].values["patient_note"]
    assert note == 'Mom asks for appts after 3pm.\r\nPt says "no more metal", wants white fillings.'
    assert patients["10482"].line == 4
    assert patients["10483"].line == 6  # the note above spans two physical lines
    payments = _rows(CP1252, "payment")
    assert payments["118205"].line == 7


def test_zero_padded_ids_and_keys_q12() -> None:
    appointment = _rows(CP1252, "appointment")["583301"]
    assert appointment.values["patient_id"] == "00010480"
    assert appointment.stream_id == "appointment:583301"
    custom = _rows(CP1252, "custom_field")
    assert "Location:1:NPI_TYPE2" in custom  # `location` canonicalised (case-insensitive)


def test_trailer_row_and_blank_line_are_excluded_with_notes_q17() -> None:
    files = {f.entity: f for f in open_export(CP1252).inventory()}
    assert files["payment"].name == "Payments_20250303_101455.csv"
    assert files["payment"].notes == ("line 11: trailer row (Q17) excluded",)
    assert files["appointment"].notes == ("1 blank line(s) skipped",)


def test_header_drift_q18() -> None:
    utf8 = {f.entity: f for f in open_export(UTF8).inventory()}
    assert utf8["patient"].headers_recognised["Email"] == "email"
    assert utf8["patient"].headers_recognised["Mobile"] == "cell_phone"
    assert utf8["procedure"].headers_recognised["Tooth #"] == "tooth"
    cp = {f.entity: f for f in open_export(CP1252).inventory()}
    assert cp["patient"].headers_recognised["E-mail"] == "email"
    assert cp["appointment"].headers_unknown == ()  # the trailing empty column is tolerated
    assert all(not f.columns_missing for f in cp.values())


def test_content_hash_ignores_encoding_column_order_and_padding() -> None:
    for entity in ENTITIES:
        left = {r.key: r.content_hash for r in open_export(CP1252).rows(entity)}
        right = {r.key: r.content_hash for r in open_export(UTF8).rows(entity)}
        differing = sorted(key for key in left if left[key] != right[key])
        # Only the row whose name the Windows-1252 export lost (Nguyễn -> Nguy?n) differs.
        assert differing == (["10486"] if entity == "patient" else []), entity


def test_soft_deletes_q10() -> None:
    assert _rows(CP1252, "patient")["10494"].is_deleted  # Status = Deleted
    assert _rows(CP1252, "appointment")["583315"].is_deleted  # Deleted = Y
    assert _rows(CP1252, "attachment")["44125"].is_deleted  # Deleted = True
    assert not _rows(CP1252, "attachment")["44120"].is_deleted


def test_export_info() -> None:
    info = open_export(CP1252).export_info()
    assert (info.product, info.practice_code, info.location_ids) == (
        "Dental-Exec 7.4.2",
        "BRSM",
        (1, 2, 3),
    )
    assert info.exported_at == datetime(2025, 3, 3, 10, 15)
    assert info.include_deleted is True and not info.is_delta
    delta = open_export(DELTA).export_info()
    assert delta.modified_since == date(2025, 3, 3) and delta.is_delta


def test_delta_bundle_matches_its_manifest() -> None:
    manifest = json.loads((DELTA / "_manifest.json").read_text())
    export = open_export(DELTA)
    present = {e: {r.key for r in export.rows(e)} for e in export.entities()}
    base = {e: {r.key for r in open_export(CP1252).rows(e)} for e in ENTITIES}
    for entity, keys in manifest["changed"].items():
        assert set(keys) <= present[entity] & base[entity]
    for entity, keys in manifest["new"].items():
        assert set(keys) <= present[entity] and not set(keys) & base[entity]
    for entity, keys in manifest["hard_deleted"].items():
        assert set(keys) <= base[entity] and not set(keys) & present.get(entity, set())
    deleted = {e: {r.key for r in export.rows(e) if r.is_deleted} for e in export.entities()}
    assert {e: sorted(k) for e, k in deleted.items() if k} == manifest["soft_deleted"]
    assert {f.entity: f.rows for f in export.inventory()}["practice"] == 0


def test_zip_export_reads_like_the_directory(tmp_path: Path) -> None:
    archive = tmp_path / "DentalExec_Export_BRSM_20250303_101500.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in CP1252.iterdir():
            bundle.write(path, f"export/{path.name}")
    from_zip = {r.key: r.content_hash for r in open_export(archive).rows("patient")}
    assert from_zip == {r.key: r.content_hash for r in open_export(CP1252).rows("patient")}


@pytest.mark.parametrize(
    ("setup", "message"),
    [("missing", "export not found"), ("not-zip", "not a readable ZIP"),
     ("empty", "no Dental-Exec table found"), ("two-patients", "two files for patients")],
    ids=str,
)  # fmt: skip
def test_bad_exports_raise_bad_input(tmp_path: Path, setup: str, message: str) -> None:
    target = tmp_path / "export"
    if setup == "not-zip":
        target = tmp_path / "export.zip"
        target.write_bytes(b"not a zip")
    elif setup == "empty":
        target.mkdir()
    elif setup == "two-patients":
        shutil.copytree(CP1252, target)
        shutil.copy(target / "patients.csv", target / "Patients_20250101.csv")
    with pytest.raises(BadInputError, match=message) as caught:
        open_export(target)
    assert str(target) in str(caught.value)


def test_header_aliases_never_collide_within_a_file() -> None:
    for entity in ENTITIES:
        seen: dict[str, str] = {}
        for column in file_for_entity(entity).columns:
            for text in (column.label, *column.aliases):
                assert seen.setdefault(header_key(text), column.name) == column.name, text


@pytest.mark.parametrize(
    ("name", "entity"),
    [("patients.csv", "patient"), ("Patients_20250314_160755.csv", "patient"),
     ("TREATMENT_PLAN_PROCEDURES.CSV", "procedure"), ("treatment_plans.csv", "treatment_plan"),
     ("export/payments.csv", "payment"), ("notes.txt", None)],
    ids=str,
)  # fmt: skip
def test_files_match_by_case_insensitive_prefix(name: str, entity: str | None) -> None:
    spec = match_file_name(name)
    assert (spec.entity if spec else None) == entity

"""`audit_source` on the small bundles: every finding named by code, file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

from adapters.dental_exec import open_export
from core.source_audit import audit_source, render_markdown, to_json_data

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec"
CP1252 = FIXTURES / "small_cp1252"

EXPECTED = {
    ("provider_without_email", "providers.csv", 6, "15"),
    ("provider_shared_email", "providers.csv", 8, "17"),
    ("family_shared_email", "patients.csv", 3, "10481"),
    ("family_shared_email", "patients.csv", 4, "10482"),
    ("family_shared_email", "patients.csv", 6, "10483"),
    ("placeholder_email", "patients.csv", 7, "10484"),
    ("placeholder_email", "patients.csv", 8, "10485"),
    ("lost_character", "patients.csv", 9, "10486"),
    ("duplicate_patient", "patients.csv", 11, "10488"),
    ("status_date_contradiction", "appointments.csv", 13, "583311"),
    ("ambiguous_local_time", "appointments.csv", 14, "583312"),
    ("status_date_contradiction", "treatment_plan_procedures.csv", 7, "902206"),
    ("status_date_contradiction", "insurance_policies.csv", 6, "5525"),
    ("oversized_attachment", "attachments.csv", 5, "44123"),
    ("ambiguous_local_time", "communications.csv", 10, "310077"),
    ("invalid_npi", "custom_fields.csv", 29, "Provider:14:NPI"),
    ("invalid_npi", "custom_fields.csv", 31, "Provider:18:NPI"),
    ("invalid_npi", "custom_fields.csv", 34, "Location:2:NPI_TYPE2"),
    ("unknown_custom_field", "custom_fields.csv", 41, "Patient:10482:FAV_FLAVOR"),
    ("unknown_custom_field", "custom_fields.csv", 42, "Plan:77120:OLD_CASE_NO"),
}
PATIENT_VALUES = ("Smith", "Laura", "laura.smith", "02/11/1984", "555-0142", "Muñoz", "Garcia")


def test_small_cp1252_findings_are_exact() -> None:
    report = audit_source(open_export(CP1252))
    got = {(f.code, f.file, f.line, f.key) for f in report.findings}
    assert got == EXPECTED
    assert sum(report.counts.values()) == len(EXPECTED)


def test_utf8_bundle_has_the_same_findings_except_the_lost_character() -> None:
    report = audit_source(open_export(FIXTURES / "small_utf8"))
    got = {(f.code, f.key) for f in report.findings}
    expected = {(code, key) for code, _, _, key in EXPECTED if code != "lost_character"}
    assert got == expected


def test_reports_carry_keys_never_patient_values() -> None:
    report = audit_source(open_export(CP1252))
    text = render_markdown(report) + str(to_json_data(report)["findings"])
    for value in PATIENT_VALUES:
        assert value not in text


def test_orphans_duplicates_and_row_errors(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(CP1252, export)
    with (export / "referrals.csv").open("ab") as stream:
        stream.write(b"2295,99999,In,Patient,PT,Someone,10499,,,,,01/01/2020,,,,\r\n")
        stream.write(b"2290,10480,In,Doctor,DR1,Dr,,,,,,01/01/2020,,,,\r\n")
        stream.write(b"2296,10480,In\r\n")
    report = audit_source(open_export(export))
    extra = {
        (f.code, f.line, f.key, f.message) for f in report.findings if f.file == "referrals.csv"
    }
    assert extra == {
        ("orphan_reference", 7, "2295", "patient_id points to a patient that is not in the export"),
        (
            "orphan_reference",
            7,
            "2295",
            "referring_patient_id points to a patient that is not in the export",
        ),
        ("duplicate_key", 8, "2290", "key seen before"),
        ("column_count", 9, "2296", "3 fields where the header has 16; fix the row's quoting"),
        ("missing_required", 9, "2296", "source_type: required value empty"),
        ("missing_required", 9, "2296", "source_name: required value empty"),
    }


def test_delta_audit_skips_orphans_and_counts_files() -> None:
    report = audit_source(open_export(FIXTURES / "delta_cp1252"))
    assert "orphan_reference" not in report.counts
    data = to_json_data(report)
    assert data["files"]["patients.csv"]["rows"] == 3
    assert data["files"]["Payments_20250317_160755.csv"]["notes"] == [
        "line 3: trailer row (Q17) excluded"
    ]
    assert data["unknown_files"] == ["_manifest.json"]


def test_per_code_limit_keeps_counts_exact() -> None:
    report = audit_source(open_export(CP1252), per_code_limit=1)
    assert report.counts["family_shared_email"] == 3
    assert sum(1 for f in report.findings if f.code == "family_shared_email") == 1

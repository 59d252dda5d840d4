"""`ferry source audit --out`: the plain audit and the fix-up lists beside it.

Checked against the generator's manifest (every planted duplicate and unusable phone is
listed) and against hand-broken exports (each gap named with its reason, keys only).
"""

from __future__ import annotations

import csv
import json
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.dental_exec import open_export
from adapters.dental_exec.generator import MANIFEST, GeneratorOptions, generate_export
from cli import ferry
from core.source_audit.fixups import FixUps, write_fixups

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec"
LISTS = (
    "fixup-duplicates.csv",
    "fixup-phones.csv",
    "fixup-emails.csv",
    "fixup-orphans.csv",
    "fixup-incomplete-patients.csv",
)
PATIENT_COLUMNS = ("last_name", "first_name", "email", "cell_phone", "home_phone", "birth_date")


def _audit(export: Path, out: Path) -> str:
    result = CliRunner().invoke(ferry, ["source", "audit", str(export), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    export = tmp_path_factory.mktemp("gen") / "export"
    generate_export(GeneratorOptions(out=export, patients=2500, seed=11))
    out = tmp_path_factory.mktemp("audit") / "reports" / "source-audit.md"
    return export, out, _audit(export, out)


def test_every_planted_duplicate_is_listed_with_a_decision_to_fill(
    generated: tuple[Path, Path, str],
) -> None:
    export, out, _ = generated
    planted = json.loads((export / MANIFEST).read_text())["planted"]["duplicate_patients"]
    assert len(planted) >= 20
    rows = _rows(out.parent, "fixup-duplicates.csv")
    listed = {(r["patient_id"], r["line"], r["same_person_as"]) for r in rows}
    for item in planted:
        assert (item["key"], str(item["line"]), item["original"]) in listed, item
    assert all(r["decision"] == "" and r["matched_on"] for r in rows)


def test_every_planted_unusable_phone_of_a_migrated_patient_is_listed(
    generated: tuple[Path, Path, str],
) -> None:
    export, out, _ = generated
    planted = json.loads((export / MANIFEST).read_text())["planted"]["unusable_phones"]
    deleted = {row.key for row in open_export(export).rows("patient") if row.is_deleted}
    wanted = [p for p in planted if p["key"] not in deleted]
    assert len(wanted) >= 100 and any(p["problem"] == "placeholder" for p in wanted)
    labels = {"home_phone": "Home Phone", "cell_phone": "Cell Phone", "work_phone": "Work Phone"}
    problems = {"no_area_code": "no area code", "placeholder": "a placeholder"}
    listed = {
        (r["patient_id"], r["line"], r["column"]): r["problem"]
        for r in _rows(out.parent, "fixup-phones.csv")
    }
    for item in wanted:
        problem = listed.get((item["key"], str(item["line"]), labels[item["column"]]))
        assert problem is not None and problem.startswith(problems[item["problem"]]), item
    assert not {key for key, _, _ in listed} & deleted  # deleted patients are not migrated


def test_report_files_are_owner_only_and_hold_no_patient_value(
    generated: tuple[Path, Path, str],
) -> None:
    export, out, output = generated
    values = {
        (row.values.get(c) or "").strip()
        for row in open_export(export).rows("patient")
        for c in PATIENT_COLUMNS
    } - {""}
    assert _mode(out) == 0o600
    for name in LISTS:
        assert _mode(out.parent / name) == 0o600, name
        assert f"Fix-up list written to {out.parent / name}" in output
        for row in _rows(out.parent, name):
            assert not set(row.values()) & values, (name, row)
    text = out.read_text(encoding="utf-8")
    emails_and_phones = {v for v in values if "@" in v or sum(ch.isdigit() for ch in v) >= 7}
    assert not [v for v in emails_and_phones if v in text]


def test_markdown_puts_what_to_do_and_counts_first_in_plain_words(
    generated: tuple[Path, Path, str],
) -> None:
    _, out, _ = generated
    text = out.read_text(encoding="utf-8")
    todo, gaps, examples = (text.index(h) for h in ("## What to do", "## Patients who", "## Ex"))
    assert todo < gaps < examples
    duplicates = len(_rows(out.parent, "fixup-duplicates.csv"))
    assert f"| Patients entered twice | {duplicates} | decide for each pair" in text
    assert "Fix in Dental-Exec before the cutover (front desk)" in text
    assert "For information: nothing to do" in text
    for code in ("duplicate_patient", "family_shared_email", "(Q7)", "(Q17)", "Q1)"):
        assert code not in text
    assert "`ferry source decide duplicates fixup-duplicates.csv`" in text


def test_json_keeps_the_codes_and_adds_the_incomplete_patients(
    generated: tuple[Path, Path, str],
) -> None:
    export, out, _ = generated
    result = CliRunner().invoke(ferry, ["source", "audit", str(export), "--json"])
    data = json.loads(result.output)
    incomplete = _rows(out.parent, "fixup-incomplete-patients.csv")
    assert data["counts"]["duplicate_patient"] == len(_rows(out.parent, "fixup-duplicates.csv"))
    assert data["counts"]["family_shared_email"] > 0
    without_phone = sum(r["no_phone"] == "yes" for r in incomplete)
    assert data["incomplete_patients"]["no_phone"] == without_phone
    assert data["fixup_rows"]["fixup-phones.csv"] == len(_rows(out.parent, "fixup-phones.csv"))


# --- hand-broken exports ----------------------------------------------------------------------


def _edit(export: Path, name: str, key: str, changes: dict[str, str]) -> None:
    path = export / name
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        rows = list(reader)
    header = rows[0]
    for row in rows[1:]:
        if row and row[0] == key:
            for label, value in changes.items():
                row[header.index(label)] = value
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "small_utf8", export)
    edits = {
        "10489": {"Primary Provider": ""},  # required: the row is rejected
        "10481": {"Primary Provider": "ZZZ9"},  # an unknown provider code
        "10482": {"Primary Provider": "ASST1"},  # a provider without an email
        "10486": {"Mobile": ""},  # no phone at all
        "10487": {"Work Phone": "call her", "Mobile": "555-0199"},  # two unusable phones
        "10494": {"Mobile": "none"},  # deleted: never listed
        "10497": {"Guarantor ID": "1O"},  # a row error: rejected, phones still listed
    }
    for key, changes in edits.items():
        _edit(export, "patients.csv", key, changes)
    _edit(export, "patients.csv", "10497", {"Home Phone": "555-0163"})
    _edit(export, "appointments.csv", "583302", {"Patient ID": "99999"})  # an orphan
    return export


def _incomplete(folder: Path) -> dict[str, dict[str, str]]:
    return {r["patient_id"]: r for r in _rows(folder, "fixup-incomplete-patients.csv")}


def test_patients_without_an_owner_are_listed_with_the_reason(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit" / "source-audit.md"
    _audit(broken, out)
    rows = _incomplete(out.parent)
    assert rows["10481"]["no_owner"] == "yes"
    assert "primary provider ZZZ9 is not in providers.csv" in rows["10481"]["why"]
    assert rows["10482"]["no_owner"] == "yes"
    assert "primary provider ASST1 has no email" in rows["10482"]["why"]
    assert rows["10483"]["no_owner"] == ""  # DDS1 has an email
    assert "10489" not in rows  # a blank primary provider is a row error: rejected, not listed


def test_patients_without_a_phone_and_their_unusable_phones(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit" / "source-audit.md"
    _audit(broken, out)
    rows = _incomplete(out.parent)
    assert rows["10486"]["no_phone"] == "yes" and "no phone" in rows["10486"]["why"]
    assert "Home Phone" in rows["10496"]["why"] and "Cell Phone" in rows["10496"]["why"]
    assert rows["10487"]["no_phone"] == "yes"
    assert "no usable phone (Cell Phone, Work Phone)" in rows["10487"]["why"]
    assert "10480" not in rows  # three usable phones, an email of her own, an owner
    phones = {(r["patient_id"], r["column"]): r["problem"] for r in _rows(out.parent, LISTS[1])}
    assert phones[("10487", "Work Phone")] == "not a phone number"
    assert phones[("10487", "Cell Phone")].startswith("no area code")
    assert phones[("10496", "Home Phone")] == "a placeholder, not a number"
    assert phones[("10497", "Home Phone")].startswith("no area code")  # row error, still listed
    assert "10497" not in rows  # rejected by the run: not counted as arriving incomplete
    assert not [key for key, _ in phones if key == "10494"]  # deleted


def test_placeholder_and_shared_emails_name_who_keeps_the_address(
    broken: Path, tmp_path: Path
) -> None:
    out = tmp_path / "audit" / "source-audit.md"
    _audit(broken, out)
    emails = {r["patient_id"]: r for r in _rows(out.parent, "fixup-emails.csv")}
    assert emails["10484"]["problem"] == "placeholder email"
    assert emails["10485"]["problem"] == "placeholder email"
    for key in ("10481", "10482", "10483"):
        assert emails[key]["problem"] == "shared within the family"
        assert emails[key]["shared_with_patient_id"] == "10480"
    assert "10480" not in emails  # the head of the family keeps it
    assert "email kept by patient 10480" in _incomplete(out.parent)["10482"]["why"]


def test_orphans_are_listed_with_the_column_and_what_it_points_to(
    broken: Path, tmp_path: Path
) -> None:
    out = tmp_path / "audit" / "source-audit.md"
    _audit(broken, out)
    orphans = _rows(out.parent, "fixup-orphans.csv")
    wanted = {"file": "appointments.csv", "record_key": "583302", "column": "patient_id"}
    found = [r for r in orphans if all(r[k] == v for k, v in wanted.items())]
    assert len(found) == 1 and found[0]["points_to"] == "patient" and found[0]["line"] == "3"
    assert any(r["column"] == "primary_provider" and r["record_key"] == "10481" for r in orphans)


def test_existing_world_readable_lists_become_owner_only(broken: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    for name in LISTS:
        (folder / name).write_text("old\n")
        (folder / name).chmod(0o644)
    _audit(broken, folder / "source-audit.md")
    for name in LISTS:
        assert _mode(folder / name) == 0o600, name
        assert (folder / name).read_text().startswith('"')


def test_broken_export_lists_hold_no_patient_value(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit" / "source-audit.md"
    output = _audit(broken, out)
    values = ("Smith", "Laura", "laura.smith", "02/11/1984", "555-0199", "call her", "555-0163")
    texts = [output, out.read_text()] + [(out.parent / n).read_text() for n in LISTS]
    for value in values:
        assert not [t for t in texts if value in t], value


@pytest.mark.parametrize("cell", ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(A1)"])
def test_a_cell_a_spreadsheet_would_run_is_defused(tmp_path: Path, cell: str) -> None:
    fixups = FixUps()
    fixups.add_orphan("appointments.csv", 3, cell, "patient_id", "patient")
    write_fixups(fixups, tmp_path)
    (row,) = _rows(tmp_path, "fixup-orphans.csv")
    assert row["record_key"] == "'" + cell
    assert _mode(tmp_path / "fixup-orphans.csv") == 0o600

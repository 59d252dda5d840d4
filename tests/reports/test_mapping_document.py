"""The mapping document for sign-off (`ferry map show`, `ferry report mapping`) and the summary
`ferry map propose` prints: an 80-column terminal, unplaced codes with what to do, every
column of a generated export with its Twenty field or its reason, a sign-off block tied to
the mapping's hash, read in a real headless browser with no request beyond the file."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.dental_exec.generator import GeneratorOptions, generate_export
from cli import ferry
from tests.browser import ReportPage
from tests.mapping.conftest import BUNDLES
from tests.mapping.renamed import renamed_copy

_PROPOSED = re.compile(r"^  (\d\.\d\d) (\S+\.csv): (.+) -> (.+)$")


def _run(workdir: Path, *args: str) -> Result:
    return CliRunner().invoke(ferry, ["--workdir", str(workdir), *args])


def _sections(markdown: str) -> dict[str, list[list[str]]]:
    """File name -> the rows (cells) of its column table in the Markdown document."""
    found: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in markdown.splitlines():
        heading = re.match(r"^## (\S+\.csv) \(", line)
        if heading:
            current = found.setdefault(heading.group(1), [])
        elif line.startswith("## "):
            current = None
        elif current is not None and line.startswith("| ") and not line.startswith("| Column"):
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return found


def _header(path: Path, encoding: str) -> list[str]:
    """A file's header as the export writes it (some files carry a UTF-8 BOM)."""
    line = path.read_bytes().split(b"\r\n", 1)[0]
    bom = b"\xef\xbb\xbf"
    text = line.removeprefix(bom).decode("utf-8" if line.startswith(bom) else encoding)
    return next(csv.reader([text]))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    generate_export(GeneratorOptions(out=out, patients=80, seed=7))
    return out


def test_propose_prints_a_summary_that_fits_80_columns(tmp_path: Path) -> None:
    export = renamed_copy(BUNDLES / "small_utf8", tmp_path / "renamed")
    result = _run(tmp_path / "work", "map", "propose", str(export))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) <= 22
    assert all(len(line) <= 80 for line in lines if not line.startswith(f"  {tmp_path}"))
    proposed = [m for m in map(_PROPOSED.match, lines) if m]
    assert proposed, result.output
    confidences = [float(m.group(1)) for m in proposed]
    assert confidences == sorted(confidences)
    assert "patients 40" in result.output  # counts per file
    page = tmp_path / "work" / "reports" / "mapping.html"
    assert f"to read and sign (also as mapping.md):\n  {page}\n" in result.output
    assert page.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "work" / "reports" / "mapping.md").stat().st_mode & 0o777 == 0o600
    assert lines[-1].startswith("next: ") and "ferry map confirm" in lines[-1]


def _with_codes(tmp_path: Path, appointment: str, stage: str) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "small_utf8", bundle)
    path = bundle / "appointments.csv"
    text = path.read_text(encoding="utf-8-sig").replace(",Broken,", f",{appointment},")
    path.write_text(text, encoding="utf-8-sig")
    path = bundle / "treatment_plan_procedures.csv"
    text = path.read_text(encoding="utf-8-sig").replace(",Declined,", f",{stage},")
    path.write_text(text, encoding="utf-8-sig")
    return bundle


def test_unplaced_codes_come_with_what_to_do(tmp_path: Path) -> None:
    bundle = _with_codes(tmp_path, "Teleported", "Deleted")
    result = _run(tmp_path / "work", "map", "propose", str(bundle))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines if not line.startswith(f"  {tmp_path}"))
    assert "appointment_status: Teleported" in result.output
    assert "procedure_stage: Deleted (skipped as deleted; nothing to place)" in result.output
    assert "[value_maps.NAME.values] in mapping.toml" in result.output
    document = (tmp_path / "work" / "reports" / "mapping.md").read_text(encoding="utf-8")
    assert "[value_maps.appointment_status.values]" in document
    assert "'Teleported' (appointment_status -> task.appointmentStatus)" in document
    assert "rejected (UNMAPPED_VALUE)" in document and "NO_SHOW" in document
    assert "'Deleted' (procedure_stage): rows with this code are deleted" in document


def test_the_document_covers_every_file_and_column_of_a_generated_export(
    generated: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    assert _run(workdir, "map", "propose", str(generated)).exit_code == 0
    shown = _run(workdir, "map", "show")
    assert shown.exit_code == 0, shown.output
    markdown = (workdir / "reports" / "mapping.md").read_text(encoding="utf-8")
    sections = _sections(markdown)
    manifest = json.loads((generated / "_generator_manifest.json").read_text(encoding="utf-8"))
    assert set(sections) == set(manifest["files"])
    for name in manifest["files"]:
        headers = _header(generated / name, manifest["encoding"])
        if headers[-1] == "":  # the export's trailing comma: an empty last header, no column
            headers.pop()
        rows = sections[name]
        assert [row[0] for row in rows] == headers, name
        for row in rows:
            field = row[1]
            assert re.fullmatch(r"[a-zA-Z]+\.[a-zA-Z0-9.]+|no field: .{8,}", field), (name, row)
    assert "| Birth Date | person.birthDate | date |" in markdown
    assert "| SSN | no field: " in markdown
    assert "| Direction | no field: folded: incoming referrals fill the person's" in markdown
    assert "| Value | no field: folded: each row is pivoted onto the record" in markdown
    digest = hashlib.sha256((workdir / "mapping.toml").read_bytes()).hexdigest()
    sign_off = markdown.split("## Sign-off", 1)[1]
    assert digest in sign_off and sign_off.count("Signature: ") == 2
    for word in ("Name: ", "Role: ", "Date: "):
        assert sign_off.count(word) == 2


def test_the_document_holds_no_patient_value(generated: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    assert _run(workdir, "map", "propose", str(generated)).exit_code == 0
    assert _run(workdir, "report", "mapping").exit_code == 0
    document = (workdir / "reports" / "mapping.md").read_text(encoding="utf-8")
    document += (workdir / "reports" / "mapping.html").read_text(encoding="utf-8")
    with (generated / "patients.csv").open(encoding="cp1252", errors="replace") as handle:
        patients = list(csv.DictReader(handle))[:40]
    checked = 0
    for row in patients:
        for column in ("Last Name", "Email", "Cell Phone", "Address 1", "Birth Date"):
            value = (row.get(column) or "").strip()
            if len(value) >= 6:
                assert value not in document, column
                checked += 1
    assert checked > 80


def test_status_and_hash_follow_confirmation_and_edits(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    assert _run(workdir, "map", "propose", str(BUNDLES / "small_utf8")).exit_code == 0
    assert _run(workdir, "map", "confirm", "--user", "ana").exit_code == 0
    assert _run(workdir, "map", "show").exit_code == 0
    document = (workdir / "reports" / "mapping.md").read_text(encoding="utf-8")
    assert "- Status: confirmed by ana at " in document
    before = hashlib.sha256((workdir / "mapping.toml").read_bytes()).hexdigest()
    assert f"Mapping SHA-256: `{before}`" in document
    path = workdir / "mapping.toml"
    path.write_text(path.read_text().replace('"Active" = "ACTIVE"', '"Active" = "INACTIVE"', 1))
    assert _run(workdir, "map", "show").exit_code == 0
    edited = (workdir / "reports" / "mapping.md").read_text(encoding="utf-8")
    after = hashlib.sha256(path.read_bytes()).hexdigest()
    assert after != before and f"`{after}`" in edited and before not in edited
    assert "differs from the mapping confirmed by ana" in edited
    path.write_text(path.read_text().replace('"Active" = "INACTIVE"', '"Active" = "ACTIVE"', 1))
    assert _run(workdir, "map", "propose", str(BUNDLES / "small_utf8")).exit_code == 0
    proposed = (workdir / "reports" / "mapping.md").read_text(encoding="utf-8")
    assert "- Status: confirmed by ana at " in proposed  # the same proposal is the confirmed one


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "ferry map propose"),
        ("version = 1\n[files.patient\n", "not valid TOML"),
        ('version = 1\n[files.spaceship]\nfile = "x.csv"\n', "unknown file entity"),
    ],
    ids=["missing", "broken-toml", "unknown-file"],
)
def test_a_bad_mapping_is_a_one_line_error(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    tmp_path.joinpath("work").mkdir()
    if content is not None:
        (tmp_path / "work" / "mapping.toml").write_text(content, encoding="utf-8")
    result = _run(tmp_path / "work", "map", "show")
    assert result.exit_code != 0
    message = str(result.exception)
    assert expected in message and "mapping.toml" in message and "\n" not in message
    assert not (tmp_path / "work" / "reports" / "mapping.html").exists()


def test_report_mapping_refuses_another_format(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    assert _run(workdir, "map", "propose", str(BUNDLES / "small_utf8")).exit_code == 0
    (workdir / "reports" / "mapping.md").unlink()
    result = _run(workdir, "report", "mapping", "--format", "csv")
    assert result.exit_code == 1
    assert "Markdown and HTML: drop --format" in result.output
    assert not (workdir / "reports" / "mapping.md").exists()
    assert not (workdir / "reports" / "mapping.csv").exists()


def test_hostile_headers_and_codes_are_escaped(tmp_path: Path, report_page: ReportPage) -> None:
    bundle = _with_codes(tmp_path, "<img src=https://example.invalid/c.png>", "Declined")
    path = bundle / "patients.csv"
    text = path.read_text(encoding="utf-8-sig")
    first, rest = text.split("\n", 1)
    odd = '"<img src=https://example.invalid/h.png> | x"'
    path.write_text(f"{first.rstrip(chr(13))},{odd}\r\n{rest}", encoding="utf-8-sig")
    workdir = tmp_path / "work"
    result = _run(workdir, "map", "propose", str(bundle))
    assert result.exit_code == 0, result.output
    page = workdir / "reports" / "mapping.html"
    html = page.read_text(encoding="utf-8")
    assert "<img" not in html and "&lt;img src=https://example.invalid/h.png&gt;" in html
    markdown = (workdir / "reports" / "mapping.md").read_text(encoding="utf-8")
    assert "h.png> \\| x |" in markdown  # the pipe does not split the table row
    report_page.open(page)
    assert report_page.external == []
    assert "<img src=https://example.invalid/c.png>" in report_page.page.inner_text("body")


def test_the_html_document_reads_as_a_table_and_a_sign_off(
    generated: Path, tmp_path: Path, report_page: ReportPage
) -> None:
    workdir = tmp_path / "work"
    assert _run(workdir, "map", "propose", str(generated)).exit_code == 0
    report_page.open(workdir / "reports" / "mapping.html")
    page = report_page.page
    patients = page.locator('table.columns[data-file="patients.csv"]')
    assert patients.locator("tbody tr").count() == 40
    row = patients.locator("tr", has_text="Birth Date").inner_text()
    assert "person.birthDate" in row and "date" in row
    assert "no field:" in patients.locator("tr", has_text="SSN").inner_text()
    assert page.locator("table.columns").count() == 14
    sign_off = page.inner_text("#sign-off")
    digest = hashlib.sha256((workdir / "mapping.toml").read_bytes()).hexdigest()
    assert digest in sign_off
    for word in ("Name", "Role", "Date", "Signature", "Practice (owner or manager)"):
        assert word in sign_off
    assert page.locator("#sign-off dd").count() == 8  # four lines to sign for each of two
    assert report_page.external == []

"""Hostile and unfamiliar source files: each is refused with a one-line error naming the file
(and line/column), or its bad row is rejected with a reason while every other row is intact.

The exports are copies of `fixtures/dental_exec/small_utf8`, broken one way each; they are read
by the real reader, audited and confirmed through the real CLI.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.dental_exec import open_export
from adapters.twenty_sandbox import SandboxHandle
from cli import ferry
from core.errors import BadInputError, FerryError
from core.lifecycle import Lifecycle
from events.store import EventStore
from tests.run.conftest import KEY_ENV, dump, invoke, prepare

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "fixtures" / "dental_exec" / "small_utf8"
PATIENT_VALUES = ("Smith", "Laura", "laura.smith", "02/11/1984", "555-0142", "88 Alder St")


def _export(tmp_path: Path, name: str = "export") -> Path:
    target = tmp_path / name
    shutil.copytree(SMALL, target)
    return target


def _patients(export: Path) -> list[str]:
    """patients.csv as lines with their endings (the fixture's BOM dropped)."""
    return (export / "patients.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)


def _write_patients(export: Path, lines: list[str]) -> None:
    (export / "patients.csv").write_bytes("".join(lines).encode("utf-8"))


def _cells(line: str) -> list[str]:
    return line.rstrip("\r\n").split(",")


def _refusal(export: Path) -> BadInputError:
    with pytest.raises(BadInputError) as caught:
        open_export(export)
    return caught.value


def _one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    for value in PATIENT_VALUES:
        assert value not in text
    return text


def _rows(export: Path, entity: str = "patient") -> dict[int, object]:
    return {row.line: row for row in open_export(export).rows(entity)}


def _audit(export: Path) -> dict:
    result = CliRunner().invoke(ferry, ["source", "audit", str(export), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _confirm(workdir: Path, export: Path, *extra: str) -> tuple[int, str]:
    """init, propose, then confirm; (exit code, output or the error `cli.main` prints)."""
    for args in (("init", "--source", str(export)), ("map", "propose", str(export))):
        result = CliRunner().invoke(ferry, ["--workdir", str(workdir), *args])
        assert result.exit_code == 0, (args, result.output, result.exception)
    result = CliRunner().invoke(
        ferry, ["--workdir", str(workdir), "map", "confirm", "--user", "op", *extra]
    )
    if isinstance(result.exception, FerryError):
        return 1, f"Error: {_one_line(result.exception)}"
    return result.exit_code, result.output


# --- encodings Ferry cannot read: refused, named, before any row -----------------------------

ENCODINGS = [
    pytest.param("utf-16-le", b"\xff\xfe", "UTF-16-LE", id="utf16le-bom"),
    pytest.param("utf-16-be", b"\xfe\xff", "UTF-16-BE", id="utf16be-bom"),
    pytest.param("utf-16-le", b"", "UTF-16-LE", id="utf16le-no-bom"),
    pytest.param("utf-16-be", b"", "UTF-16-BE", id="utf16be-no-bom"),
    pytest.param("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32-LE", id="utf32le-bom"),
    pytest.param("utf-32-be", b"", "UTF-32-BE", id="utf32be-no-bom"),
]


@pytest.mark.parametrize(("codec", "bom", "named"), ENCODINGS)
def test_wide_encodings_are_refused_by_name(
    tmp_path: Path, codec: str, bom: bytes, named: str
) -> None:
    export = _export(tmp_path)
    text = "".join(_patients(export))
    (export / "patients.csv").write_bytes(bom + text.encode(codec))
    message = _one_line(_refusal(export))
    assert message.startswith("patients.csv: ")
    assert named in message and "UTF-8" in message


def test_binary_content_is_refused(tmp_path: Path) -> None:
    export = _export(tmp_path)
    (export / "payments.csv").write_bytes(bytes(range(256)) * 64)
    message = _one_line(_refusal(export))
    assert message.startswith("payments.csv: binary content")


def test_utf16_audit_is_one_line_without_traceback(tmp_path: Path) -> None:
    """Through the console entry point: the refusal is one line on stderr, exit 1."""
    export = _export(tmp_path)
    text = "".join(_patients(export))
    (export / "patients.csv").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    done = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "source", "audit", str(export)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: patients.csv: encoded as UTF-16-LE")


# --- ZIP members: escapes and bombs refused before anything is read --------------------------


def _zip_of(
    export: Path, target: Path, extra: dict[str, bytes] | None = None, leave_out: str = ""
) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(export.iterdir()):
            if path.name != leave_out:
                archive.write(path, path.name)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return target


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        pytest.param("../patients_old.csv", "`..` path", id="dot-dot"),
        pytest.param("sub/../../evil.csv", "`..` path", id="nested-dot-dot"),
        pytest.param("/etc/recalls.csv", "absolute path", id="absolute"),
        pytest.param("C:/export/recalls.csv", "absolute path", id="drive-letter"),
    ],
)
def test_zip_members_escaping_the_archive_are_refused(
    tmp_path: Path, member: str, problem: str
) -> None:
    archive = _zip_of(_export(tmp_path), tmp_path / "export.zip", {member: b"x,y\n"})
    message = _one_line(_refusal(archive))
    assert message.startswith(f"{archive}: archive member {member!r} has")
    assert problem in message and "nothing was read" in message


def test_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    """communications.csv as 64 MiB of one byte in ~70 KB: refused from the archive's
    directory, before a byte of it is decompressed."""
    archive = _zip_of(_export(tmp_path), tmp_path / "export.zip", leave_out="communications.csv")
    with (
        zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as bundle,
        bundle.open("communications.csv", "w") as member,
    ):
        for _ in range(64):
            member.write(b"0" * (1 << 20))
    message = _one_line(_refusal(archive))
    assert message.startswith(f"{archive}: archive member 'communications.csv' has an expansion")
    assert "above 100x" in message and "nothing was read" in message


def _lie_about_size(archive: Path, member: str, size: int) -> None:
    """Patch the central directory: `member` declares `size` uncompressed bytes."""
    data = bytearray(archive.read_bytes())
    at = data.index(b"PK\x01\x02")
    name = member.encode()
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    data[at + 24 : at + 28] = size.to_bytes(4, "little")
    archive.write_bytes(bytes(data))


def test_zip_member_lying_about_its_size_is_refused_by_name(tmp_path: Path) -> None:
    archive = _zip_of(_export(tmp_path), tmp_path / "export.zip")
    _lie_about_size(archive, "patients.csv", 100)
    message = _one_line(_refusal(archive))
    assert message.startswith("patients.csv: the archive member is damaged")


# --- links leading out of the export folder ---------------------------------------------------


def test_file_link_outside_the_export_is_refused(tmp_path: Path) -> None:
    export = _export(tmp_path)
    (export / "recalls.csv").rename(export / "recalls_real.data")
    (export / "recalls.csv").symlink_to(export / "recalls_real.data")
    assert len(_rows(export, "recall")) == 8  # a link inside the export is read
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (export / "recalls_real.data").rename(elsewhere / "recalls.csv")
    (export / "recalls.csv").unlink()
    (export / "recalls.csv").symlink_to(elsewhere / "recalls.csv")
    message = _one_line(_refusal(export))
    assert message.startswith("recalls.csv: a link to a place outside the export folder")


def test_folder_link_outside_the_export_is_refused(tmp_path: Path) -> None:
    export = _export(tmp_path)
    elsewhere = tmp_path / "secrets"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("x")
    (export / "more").symlink_to(elsewhere, target_is_directory=True)
    assert _one_line(_refusal(export)).startswith("more: a link to a place outside")
    (export / "more").unlink()
    (export / "loop").symlink_to(export / "loop")  # a link to itself: never followed
    assert _one_line(_refusal(export)).startswith("loop: a link to a place outside")


# --- headers: repeated, missing, unreadable, empty --------------------------------------------


def _with_header(export: Path, change: str) -> None:
    """Rewrite patients.csv through the csv module (its notes hold quotes and line breaks)."""
    text = (export / "patients.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if change == "repeat":
        rows = [[*row, row[15]] for row in rows]
    elif change == "drop":
        at = rows[0].index("Last Name")
        rows = [row[:at] + row[at + 1 :] for row in rows]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (export / "patients.csv").write_bytes(out.getvalue().encode("utf-8"))


def test_repeated_header_is_a_repeat_not_unknown(tmp_path: Path) -> None:
    export = _export(tmp_path)
    _with_header(export, "repeat")
    data = _audit(export)
    repeats = [f for f in data["findings"] if f["code"] == "repeated_header"]
    assert repeats == [
        {
            "code": "repeated_header",
            "file": "patients.csv",
            "line": 1,
            "key": None,
            "message": "column 'Home Phone' appears twice (columns 16 and 41)",
        }
    ]
    assert "unknown_header" not in data["counts"]
    assert data["files"]["patients.csv"]["headers_repeated"] == [["Home Phone", 16, 41]]
    code, out = _confirm(tmp_path / "work", export)
    assert code == 1
    assert "patients.csv:1 column 'Home Phone': the header holds this column twice" in out
    assert "(columns 16 and 41)" in out


def test_missing_required_column_stops_confirm(tmp_path: Path) -> None:
    export = _export(tmp_path)
    _with_header(export, "drop")
    data = _audit(export)
    assert any(
        f["code"] == "missing_column" and "last_name" in f["message"] for f in data["findings"]
    )
    code, out = _confirm(tmp_path / "work", export)
    assert code == 1
    assert "Error: patients.csv:1 column 'Last Name': required column missing" in out
    assert "export again with this column" in out
    with EventStore.open(tmp_path / "work" / "ferry.db", transition=Lifecycle().next_state) as s:
        assert not list(s.read("type = 'MappingConfirmed'"))


def test_unreadable_required_header_stops_confirm(tmp_path: Path) -> None:
    export = _export(tmp_path)
    # Garbled past recognition (a header the proposer still recognises is read through the
    # confirmed map: see tests/hostile/test_headers.py).
    raw = (export / "patients.csv").read_bytes().replace(b"Last Name", b"\xff\xfe\x8f\x90", 1)
    (export / "patients.csv").write_bytes(raw)
    code, out = _confirm(tmp_path / "work", export)
    assert code == 1
    assert "column 'Last Name': required column missing or unreadable" in out


def test_empty_file_is_named_with_its_missing_columns(tmp_path: Path) -> None:
    export = _export(tmp_path)
    (export / "providers.csv").write_bytes(b"")
    data = _audit(export)
    assert data["files"]["providers.csv"]["rows"] == 0
    missing = {f["message"] for f in data["findings"] if f["file"] == "providers.csv"}
    assert "required column code absent" in missing
    code, out = _confirm(tmp_path / "work", export)
    assert code == 1
    assert out.startswith("Error: providers.csv:1: no header row (the file is empty)")
    assert "--allow-missing providers" in out


# --- rows: each broken row rejected with its reason, every other row intact -------------------


def _row_case(tmp_path: Path, change: str) -> tuple[dict[int, object], dict[int, object]]:
    """(rows of the intact export, rows of the changed one), by line."""
    export = _export(tmp_path, "changed")
    before = _rows(_export(tmp_path, "intact"))
    lines = _patients(export)
    if change == "truncated":
        lines[-1] = lines[-1][: len(lines[-1]) // 3]
    elif change == "open_quote":
        cells = _cells(lines[5])
        cells[33] = '"never closed'
        lines[5] = ",".join(cells) + "\n"
    elif change == "too_many":
        lines[5] = lines[5].rstrip("\n") + ",extra,more\n"
    elif change == "too_few":
        lines[5] = ",".join(_cells(lines[5])[:20]) + "\n"
    elif change == "bom_inside":
        cells = _cells(lines[5])
        cells[12] = "\ufeff" + cells[12]
        lines[5] = ",".join(cells) + "\n"
    elif change == "delete_char":
        cells = _cells(lines[5])
        cells[2] = cells[2] + "\x7f"
        lines[5] = ",".join(cells) + "\n"
    _write_patients(export, lines)
    return before, _rows(export)


ROW_CASES = [
    pytest.param("truncated", 20, "column_count", None, id="truncated-last-row"),
    pytest.param("open_quote", 6, "broken_quoting", None, id="quote-left-open"),
    pytest.param("too_many", 6, "column_count", None, id="too-many-fields"),
    pytest.param("too_few", 6, "column_count", None, id="too-few-fields"),
    pytest.param("bom_inside", 6, "control_character", "city", id="bom-in-a-value"),
    pytest.param("delete_char", 6, "control_character", "first_name", id="del-in-a-value"),
]


@pytest.mark.parametrize(("change", "line", "code", "column"), ROW_CASES)
def test_broken_row_is_rejected_and_the_others_are_intact(
    tmp_path: Path, change: str, line: int, code: str, column: str | None
) -> None:
    before, after = _row_case(tmp_path, change)
    broken = after[line]
    assert {(e.file, e.line, e.code) for e in broken.errors} >= {("patients.csv", line, code)}
    if column is not None:
        assert [e.column for e in broken.errors if e.code == code] == [column]
    for error in broken.errors:
        _one_line(BadInputError(error.message, file=error.file, line=error.line))
    others = {n: r for n, r in after.items() if n != line}
    assert {n: r.content_hash for n, r in others.items()} == {
        n: r.content_hash for n, r in before.items() if n in others
    }
    assert all(not r.errors for r in others.values())


# Physical lines (0-based) holding one unquoted row each: 4-5 and 10 hold quoted notes.
PLAIN_LINES = [1, 2, 5, 6, 7, 8, *range(10, 20)]
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
TEXT_COLUMNS = {2: "first_name", 3: "last_name", 10: "address_1", 12: "city", 19: "email"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hits=st.dictionaries(
        st.sampled_from(PLAIN_LINES),
        st.tuples(st.sampled_from(sorted(TEXT_COLUMNS)), st.sampled_from(CONTROLS)),
        min_size=1,
        max_size=4,
    )
)
def test_control_characters_refuse_only_their_rows(
    tmp_path_factory: pytest.TempPathFactory, hits: dict[int, tuple[int, str]]
) -> None:
    """Any C0 control (but tab, LF, CR) or DEL in any text column of any rows, in a file
    mixing CRLF and LF: exactly those rows carry `control_character` naming the column; every
    other row is read as in the intact LF file."""
    tmp_path = tmp_path_factory.mktemp("controls")
    export = _export(tmp_path, "changed")
    lines = _patients(export)
    for index, (column, char) in hits.items():
        cells = _cells(lines[index])
        cells[column] = cells[column][:1] + char + cells[column][1:]
        lines[index] = ",".join(cells) + "\n"
    # CRLF and LF mixed, line by line: read alike (the hashes below are the LF file's).
    _write_patients(export, [x.replace("\n", "\r\n") if i % 2 else x for i, x in enumerate(lines)])
    before, after = _rows(_export(tmp_path, "intact")), _rows(export)
    for index, (column, _char) in hits.items():
        codes = [(e.code, e.column) for e in after[index + 1].errors]
        assert codes == [("control_character", TEXT_COLUMNS[column])]
    untouched = {n for n in after if n - 1 not in hits}
    assert {n: after[n].content_hash for n in untouched} == {
        n: before[n].content_hash for n in untouched
    }


def test_control_characters_are_counted_per_file_and_column_in_the_audit(tmp_path: Path) -> None:
    export = _export(tmp_path)
    lines = _patients(export)
    for index in (2, 5, 6):
        cells = _cells(lines[index])
        cells[3] = cells[3] + "\x00"
        lines[index] = ",".join(cells) + "\n"
    _write_patients(export, lines)
    data = _audit(export)
    found = [
        (f["file"], f["line"], f["message"].split(":")[0])
        for f in data["findings"]
        if f["code"] == "control_character"
    ]
    assert found == [("patients.csv", 3, "last_name"), ("patients.csv", 6, "last_name"),
                     ("patients.csv", 7, "last_name")]  # fmt: skip
    assert data["counts"]["control_character"] == 3
    assert data["files"]["patients.csv"]["error_rows"] == 3


# --- files absent from a full export ---------------------------------------------------------


def test_absent_file_is_named_and_must_be_acknowledged(tmp_path: Path) -> None:
    export = _export(tmp_path)
    (export / "payments.csv").unlink()
    recalls = (export / "recalls.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    (export / "recalls.csv").write_text(recalls + "\n", encoding="utf-8")  # header only
    data = _audit(export)
    assert data["files_absent"] == ["payments.csv"]  # a header-only file is present
    assert (data["files"]["recalls.csv"]["rows"], data["files"]["recalls.csv"]["error_rows"]) == (
        0,
        0,
    )
    assert data["counts"]["missing_file"] == 1
    work = tmp_path / "work"
    code, out = _confirm(work, export)
    assert code == 1
    assert out == (
        "Error: payments.csv: absent from the export; add the file(s) to the export, or, if "
        "this export is meant to hold none, acknowledge it: `ferry map confirm "
        "--allow-missing payments`"
    )
    result = CliRunner().invoke(
        ferry,
        ["--workdir", str(work), "map", "confirm", "--user", "op", "--allow-missing", "payments"],
    )
    assert result.exit_code == 0, result.output
    assert "acknowledged absent from the export: payments.csv" in result.output
    with EventStore.open(work / "ferry.db", transition=Lifecycle().next_state) as store:
        (event,) = list(store.read("type = 'MappingConfirmed'"))
    assert event.event.absent_files == "payment"


def test_unknown_allow_missing_name_is_refused(tmp_path: Path) -> None:
    code, out = _confirm(tmp_path / "work", _export(tmp_path), "--allow-missing", "paymnts")
    assert code == 1
    assert "--allow-missing 'paymnts' is no file of the export format" in out


def test_delta_export_lacking_files_names_none_absent() -> None:
    """A delta holds only what changed: its missing files are not absences."""
    data = _audit(ROOT / "fixtures" / "dental_exec" / "delta_cp1252")
    assert data["files_absent"] == []
    assert "missing_file" not in data["counts"]


# --- end to end through the sandbox ----------------------------------------------------------

CONTROL_CHARS = frozenset(CONTROLS) | {"\ufeff"}


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _sandbox_run(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, workdir: Path, export: Path
) -> None:
    monkeypatch.setenv(KEY_ENV, sandbox.api_key)
    prepare(workdir, sandbox.base_url, str(export))


def test_no_control_character_reaches_twenty(
    twenty_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    export = _export(tmp_path)
    lines = _patients(export)
    for index, column, char in ((2, 3, "\x00"), (6, 10, "\x1b"), (7, 19, "\x7f")):
        cells = _cells(lines[index])
        cells[column] = cells[column][:2] + char + cells[column][2:]
        lines[index] = ",".join(cells) + "\n"
    _write_patients(export, lines)
    path = export / "payments.csv"
    payments = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    payments[3] = payments[3].replace(",", ",\x00", 1)
    path.write_text("".join(payments), encoding="utf-8")
    _sandbox_run(twenty_sandbox, monkeypatch, tmp_path / "wd", export)
    result = CliRunner().invoke(
        ferry, ["--workdir", str(tmp_path / "wd"), "run", "--without-sample-approval"]
    )
    # 3 of 18 patients refused (and their records orphaned) is over the default 5%: the run
    # says so and fails, rather than calling itself completed.
    assert result.exit_code == 1
    assert "CONTROL_CHARACTER 3" in result.output

    content = dump(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    texts = [t for records in content.values() for r in records.values() for t in _strings(r)]
    assert texts and not [t for t in texts if CONTROL_CHARS.intersection(t)]
    with EventStore.open(tmp_path / "wd" / "ferry.db", transition=Lifecycle().next_state) as s:
        refused = {
            reason.message.split(":")[0] + ":" + reason.message.split(":")[1]: reason.field
            for stored in s.read("type = 'RecordRejected'")
            for reason in stored.event.reasons
            if reason.code == "CONTROL_CHARACTER"
        }
        loaded = s.connection.execute(
            "SELECT COUNT(*) FROM record_state WHERE entity = 'patient' AND state = 'loaded'"
        ).fetchone()[0]
    assert refused == {
        "patients.csv:3": "last_name",
        "patients.csv:7": "address_1",
        "patients.csv:8": "email",
        "payments.csv:4": "patient_id",
    }
    assert loaded > 10  # the other patients went on


@pytest.mark.parametrize("change", ["drop_last_name", "delete_payments"])
def test_run_refuses_an_export_broken_after_confirmation(
    twenty_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, change: str
) -> None:
    export = _export(tmp_path)
    _sandbox_run(twenty_sandbox, monkeypatch, tmp_path / "wd", export)
    if change == "drop_last_name":
        _with_header(export, "drop")
        expected = "patients.csv:1 column 'Last Name': required column missing"
    else:
        (export / "payments.csv").unlink()
        expected = "payments.csv: absent from the export"
    result = CliRunner().invoke(
        ferry, ["--workdir", str(tmp_path / "wd"), "run", "--without-sample-approval"]
    )
    assert isinstance(result.exception, FerryError), result.output
    assert expected in _one_line(result.exception)
    content = dump(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    assert not content["people"] and not content["payments"]


def test_verify_shows_an_acknowledged_absent_file(
    twenty_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    export = _export(tmp_path)
    (export / "payments.csv").unlink()
    work = tmp_path / "wd"
    monkeypatch.setenv(KEY_ENV, twenty_sandbox.api_key)
    invoke(work, "init", "--source", str(export), "--twenty-url", twenty_sandbox.base_url,
           "--api-key-env", KEY_ENV)  # fmt: skip
    config = work / "ferry.toml"
    config.write_text(config.read_text().replace('"100/60s"', '"1000/1s"'), encoding="utf-8")
    invoke(work, "map", "propose", str(export))
    invoke(work, "map", "confirm", "--user", "op", "--allow-missing", "payments.csv")
    invoke(work, "schema", "apply", "--no-probe")
    planned = CliRunner().invoke(ferry, ["--workdir", str(work), "plan", "--json", "--offline"])
    plan = json.loads(planned.output)  # not ready: no sample approved, and it says so
    absent = [f for f in plan["findings"] if f["code"] == "FILES_ABSENT"]
    assert [f["what"] for f in absent] == ["absent from the export: payments.csv"]
    invoke(work, "run", "--without-sample-approval")
    result = CliRunner().invoke(ferry, ["--workdir", str(work), "verify", "--json"])
    data = json.loads(result.output)
    assert data["reconciliation"]["absent_files"] == {"payment": "acknowledged"}
    report = (work / "reports" / "reconciliation.md").read_text()
    assert "payment: its file is absent from the export by acknowledgement" in report
    text = CliRunner().invoke(ferry, ["--workdir", str(work), "verify"]).output
    assert "absent from the export by acknowledgement: payment" in text

"""Row-level errors: reported with file, line and column, never aborting the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.dental_exec import open_export
from core.export_format import file_for_entity

HEADER = "Referral ID,Patient ID,Direction,Source Type,Source Code,Source Name,Last Modified\r\n"


def _export(tmp_path: Path, body: bytes, name: str = "referrals.csv") -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(body)
    return folder


def _errors(folder: Path, entity: str = "referral") -> list[tuple[int, str | None, str]]:
    rows = list(open_export(folder).rows(entity))
    return [(e.line, e.column, e.code) for row in rows for e in row.errors]


def test_wrong_column_count_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    body = HEADER + "1,10,In,Doctor,DR1,Dr A,\r\n2,11,In,Doctor,DR1,Dr B,,EXTRA\r\n3,12,In\r\n"
    body += "4,13,In,Website,G,Google,\r\n"
    folder = _export(tmp_path, body.encode())
    errors = _errors(folder)
    assert (2, None, "column_count") not in errors
    assert (3, None, "column_count") in errors
    assert (4, None, "column_count") in errors
    assert [r.key for r in open_export(folder).rows("referral")] == ["1", "2", "3", "4"]


def test_broken_quoting_hides_no_following_row(tmp_path: Path) -> None:
    body = HEADER + '1,10,In,Doctor,DR1,"Dr "A",\r\n2,11,In,Doctor,DR1,"unclosed,\r\n'
    body += "3,12,In,Website,G,Google,\r\n4,13,In,Website,G,Google,\r\n"
    folder = _export(tmp_path, body.encode())
    rows = list(open_export(folder).rows("referral"))
    assert [r.key for r in rows] == ["1", "2", "3", "4"]
    assert [r.line for r in rows] == [2, 3, 4, 5]
    assert {(e.line, e.code) for r in rows for e in r.errors if e.code == "broken_quoting"} == {
        (2, "broken_quoting"),
        (3, "broken_quoting"),
    }


def test_undecodable_bytes_are_flagged_in_their_row(tmp_path: Path) -> None:
    body = (HEADER + "1,10,In,Doctor,DR1,Dr Muñoz,\r\n").encode("cp1252")
    body += b"2,11,In,Doctor,DR1,Dr \x81x,\r\n"
    folder = _export(tmp_path, body)
    assert _errors(folder) == [(3, None, "undecodable_bytes")]
    assert open_export(folder).describe("referral").encoding == "cp1252"


def test_required_and_typed_values(tmp_path: Path) -> None:
    body = HEADER + "1,,In,Doctor,DR1,Dr A,\r\n2,1O,In,Doctor,DR1,Dr B,\r\n"
    body += "x,12,In,Doctor,DR1,Dr C,\r\n0,13,In,Doctor,DR1,Dr D,\r\n"
    folder = _export(tmp_path, body.encode())
    assert _errors(folder) == [
        (2, "patient_id", "missing_required"),
        (3, "patient_id", "bad_integer"),
        (4, "referral_id", "bad_key"),
        (5, "referral_id", "bad_key"),
    ]


@pytest.mark.parametrize(
    "digits", ["0\u00b2", "\u00b2", "1\u2460"], ids=["zero-superscript", "superscript", "circled"]
)
def test_digits_that_are_not_decimal_are_row_errors_not_crashes(
    tmp_path: Path, digits: str
) -> None:
    # str.isdigit() accepts superscripts and circled digits, which int() refuses: such an ID
    # used to abort the read. It is a row error like any other bad number now.
    body = HEADER + f"1,{digits},In,Doctor,DR1,Dr A,\r\n{digits},12,In,Doctor,DR1,Dr B,\r\n"
    body += "3,13,In,Doctor,DR1,Dr C,\r\n"
    folder = _export(tmp_path, body.encode())
    assert _errors(folder) == [(2, "patient_id", "bad_integer"), (3, "referral_id", "bad_key")]
    assert [r.key for r in open_export(folder).rows("referral")] == ["1", None, "3"]


def test_unparseable_required_date_is_a_row_error(tmp_path: Path) -> None:
    header = "Payment ID,Patient ID,Guarantor ID,Location ID,Payment Date,Amount,Method,"
    header += "Payer Type,Voided,Entered By,Entered On\r\n"
    body = header + "1,10,10,1,13/45/2024,$5.00,Cash,Patient,N,FD1,03/14/2025 10:55:02 AM\r\n"
    folder = _export(tmp_path, body.encode(), "payments.csv")
    assert _errors(folder, "payment") == [(2, "payment_date", "bad_value")]
    row = next(open_export(folder).rows("payment"))
    assert "13/45" not in row.errors[0].message  # messages never repeat values


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffd")
    | st.sampled_from(['"', ",", "\n", "\r", "’", "ñ"]),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT), min_size=1, max_size=8))
def test_any_quoted_content_round_trips(
    tmp_path_factory: pytest.TempPathFactory, notes: list[tuple[str, str]]
) -> None:
    """Whatever a note holds, the reader returns it (trimmed) on the line it starts."""
    folder = tmp_path_factory.mktemp("rt")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["Referral ID", "Patient ID", "Direction", "Source Type", "Source Name", "Note"]
    )
    starts, line = [], 2
    for index, (name, text) in enumerate(notes, start=1):
        writer.writerow([index, 10, "In", "Doctor", name or "x", text])
        starts.append(line)
        line += 1 + name.count("\n") + text.count("\n") + _lone_cr(name) + _lone_cr(text)
    (folder / "referrals.csv").write_bytes(buffer.getvalue().encode("utf-8-sig"))
    rows = list(open_export(folder).rows("referral"))
    assert [r.line for r in rows] == starts
    assert [r.values["note"] for r in rows] == [text.strip() or None for _, text in notes]
    spec = file_for_entity("referral")
    assert all(set(r.values) <= {c.name for c in spec.columns} for r in rows)


def _lone_cr(text: str) -> int:
    return text.replace("\r\n", "").count("\r")

"""Hostile headers: renamed, respelled, swapped and ambiguous columns.

The confirmed mapping is the one truth about what every header means: the reader keys rows,
finds parents, deleted flags and statuses through it, so a renamed export reads exactly as the
canonical one. The proposer reads values as well as names (a column holding another file's
keys is a reference), lists what it is unsure of first, and never writes a value in its
evidence. A mapping that cannot be right is refused with one line naming the file and header.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.dental_exec import open_export
from adapters.twenty_sandbox import SandboxHandle
from cli import main
from core.lifecycle import Lifecycle
from core.mapping.gate import MissingKeyColumnError, check_columns
from core.mapping.headers import header_meanings
from core.mapping.proposer import Proposal, propose_mapping
from events.store import EventStore
from tests.run.conftest import KEY_ENV, invoke, key_env

__all__ = ["key_env"]  # the work-directory fixture of tests/run, shared here

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec"
# The headers of the export users reported (another system's spelling of patients.csv).
REPORTED = {
    "Patient ID": "Pt ID", "Last Name": "Pt Last Name", "First Name": "Pt First Name",
    "Birth Date": "DOB", "Address 1": "Street", "ZIP": "Postal Code", "Home Phone": "Home #",
    "Cell Phone": "Mobile #", "Mobile": "Mobile #", "E-mail": "Primary Email",
    "Status": "Pt Status", "Guarantor ID": "Resp Party",
}  # fmt: skip


def renamed(bundle: str, out: Path, renames: dict[str, dict[str, str]]) -> Path:
    """A copy of a fixture bundle with header cells rewritten, file by file (bytes kept)."""
    shutil.copytree(FIXTURES / bundle, out)
    for name, cells in renames.items():
        path = out / name
        raw = path.read_bytes()
        bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
        header, sep, rest = raw[len(bom) :].partition(b"\r\n")
        new = [cells.get(cell, cell) for cell in header.decode("ascii").split(",")]
        path.write_bytes(bom + ",".join(new).encode("ascii") + sep + rest)
    return out


def proposed(export: Path) -> Proposal:
    return propose_mapping(open_export(export))


def confirmed_read(export: Path, proposal: Proposal | None = None) -> dict[str, list[tuple]]:
    """Every row as the pipeline sees it once the proposal is confirmed: key, deleted, parent,
    content hash (over the values by canonical column)."""
    proposal = proposal or proposed(export)
    source = open_export(export, header_meanings(proposal.mapping))
    return {
        entity: [
            (row.key, row.is_deleted, row.values.get("patient_id"), row.content_hash)
            for row in source.rows(entity)
        ]
        for entity in source.entities()
    }


@pytest.fixture(scope="module")
def canonical() -> dict[str, list[tuple]]:
    return confirmed_read(FIXTURES / "small_cp1252")


# --- the reader reads through the confirmed map ----------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["Pt ID", "  pt   ID ", "PT-ID", "pt_id", "Patient No."],
    ids=["renamed", "spaces", "case-punctuation", "snake", "number-word"],
)
def test_a_renamed_key_header_keys_every_row(
    header: str, canonical: dict[str, list[tuple]], tmp_path: Path
) -> None:
    export = renamed("small_cp1252", tmp_path / "x", {"patients.csv": {"Patient ID": header}})
    assert all(row.key is None for row in open_export(export).rows("patient"))  # by label: none
    assert confirmed_read(export) == canonical


def test_renamed_deleted_flag_and_parent_key(
    canonical: dict[str, list[tuple]], tmp_path: Path
) -> None:
    renames = {"Appointment ID": "Appt ID", "Patient ID": "Pt ID", "Deleted": "Del Flag"}
    export = renamed("small_cp1252", tmp_path / "x", {"appointments.csv": renames})
    read = confirmed_read(export)
    assert read == canonical
    assert any(deleted for _key, deleted, _pid, _hash in read["appointment"])  # the flag is read
    assert all(pid for _key, _deleted, pid, _hash in read["appointment"])  # every parent is known


def test_renamed_patient_status_still_marks_deleted_patients(
    canonical: dict[str, list[tuple]], tmp_path: Path
) -> None:
    export = renamed("small_cp1252", tmp_path / "x", {"patients.csv": {"Status": "Pt Status"}})
    assert not any(row.is_deleted for row in open_export(export).rows("patient"))
    read = confirmed_read(export)
    assert read["patient"] == canonical["patient"]
    assert any(deleted for _key, deleted, _pid, _hash in read["patient"])


def test_swapped_headers_follow_the_map_not_the_labels(
    canonical: dict[str, list[tuple]], tmp_path: Path
) -> None:
    # `Patient ID` holds chart numbers and `Chart #` the IDs; the operator's map says so.
    swap = {"Patient ID": "Chart #", "Chart #": "Patient ID"}
    export = renamed("small_cp1252", tmp_path / "x", {"patients.csv": swap})
    proposal = proposed(export)
    columns = proposal.mapping.files["patient"].columns
    for column in columns:
        if column.header in swap:
            column.column = "patient_id" if column.header == "Chart #" else "chart_number"
            column.transform = "key" if column.header == "Chart #" else "text"
    by_label = [row for row in open_export(export).rows("patient")]
    assert all(row.key is None for row in by_label)
    assert all(e.code == "bad_key" for row in by_label for e in row.errors if e.column)
    assert confirmed_read(export, proposal)["patient"] == canonical["patient"]


def test_bom_before_a_renamed_key_header(tmp_path: Path) -> None:
    canonical_utf8 = confirmed_read(FIXTURES / "small_utf8")
    export = renamed("small_utf8", tmp_path / "x", {"patients.csv": {"Patient ID": "Pt ID"}})
    assert (export / "patients.csv").read_bytes().startswith(b"\xef\xbb\xbfPt ID,")
    assert confirmed_read(export) == canonical_utf8


def test_the_audit_reads_through_the_confirmed_map(tmp_path: Path) -> None:
    renames = {
        "patients.csv": REPORTED,
        "appointments.csv": {"Patient ID": "Pt ID", "Deleted": "Del Flag"},
    }
    export = renamed("small_cp1252", tmp_path / "x", renames)

    def audit(workdir: Path, bundle: Path) -> dict:
        return json.loads(invoke(workdir, "source", "audit", str(bundle), "--json"))

    canonical = audit(tmp_path / "none", FIXTURES / "small_cp1252")
    unmapped = audit(tmp_path / "none", export)
    assert unmapped["counts"].get("missing_column") and unmapped["counts"].get("unknown_header")
    invoke(tmp_path / "wd", "map", "propose", str(export))
    invoke(tmp_path / "wd", "map", "confirm", "--user", "tester")
    mapped = audit(tmp_path / "wd", export)
    assert mapped["counts"] == canonical["counts"]
    assert mapped["files"]["patients.csv"]["headers_unknown"] == []
    assert mapped["files"]["patients.csv"]["columns_missing"] == []


# --- the proposer reads values ---------------------------------------------------------------


def test_reported_headers_are_proposed_from_values(tmp_path: Path) -> None:
    export = renamed("small_cp1252", tmp_path / "x", {"patients.csv": REPORTED})
    proposal = proposed(export)
    columns = {c.header: c for c in proposal.columns if c.entity == "patient"}
    assert columns["Street"].column == "address_1" and columns["Street"].confidence >= 0.5
    assert columns["Resp Party"].column == "guarantor_id"
    assert "match patient ids in patients.csv" in columns["Resp Party"].evidence
    assert columns["Pt ID"].column == "patient_id"
    assert columns["Postal Code"].column == "zip"
    assert columns["Home #"].column == "home_phone"
    # Evidence and reasons give shapes and shares, never a value of the export.
    text = (export / "patients.csv").read_text("cp1252")
    values = {
        cell.strip()
        for row in list(csv.reader(io.StringIO(text)))[1:]
        for cell in row
        if len(cell.strip()) >= 4 and any(ch.isalpha() for ch in cell)
    }
    assert len(values) > 50
    texts = [(c.header, c.evidence) for c in proposal.columns]
    texts += [(c.header, c.reason) for f in proposal.mapping.files.values() for c in f.columns]
    for header, words in texts:
        assert not [v for v in values if v in words and v not in header], header


def test_a_reference_is_recognised_by_its_values(tmp_path: Path) -> None:
    # A header no vocabulary knows: only its values (patient IDs) say it is the guarantor.
    renames = {"patients.csv": {"Guarantor ID": "Acct Holder"}}
    export = renamed("small_cp1252", tmp_path / "x", renames)
    found = next(c for c in proposed(export).columns if c.header == "Acct Holder")
    assert found.column == "guarantor_id"
    assert "100% match patient ids in patients.csv" in found.evidence


def test_ambiguous_headers_are_listed_first_with_their_evidence(tmp_path: Path) -> None:
    # Three headers that say nothing; their values are a patient, a location and a provider.
    vague = {"Guarantor ID": "Account 1", "Home Location ID": "Account 2",
             "Primary Provider": "Account 3"}  # fmt: skip
    export = renamed("small_cp1252", tmp_path / "x", {"patients.csv": vague})
    columns = proposed(export).columns
    first = {c.header: c for c in columns[:3]}
    assert set(first) == {"Account 1", "Account 2", "Account 3"}
    assert all(c.confidence < 0.8 for c in first.values())
    assert [c.confidence for c in columns] == sorted(c.confidence for c in columns)
    expected = {
        "Account 1": ("guarantor_id", "100% match patient ids in patients.csv"),
        "Account 2": ("home_location_id", "100% match practice ids in practices.csv"),
        "Account 3": ("primary_provider", "100% match provider codes in providers.csv"),
    }
    for header, (column, evidence) in expected.items():
        assert first[header].column == column and evidence in first[header].evidence


# --- refusals --------------------------------------------------------------------------------


def _confirm(workdir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["--workdir", str(workdir), "map", "confirm", "--user", "tester"])
    assert exited.value.code != 0
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    return err


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (('column = "patient_id"', 'column = "patient_idd"'), "'patient_idd' is not a column"),
        (('column = "chart_number"', 'column = "patient_id"'), "is already given to header"),
    ],
    ids=["unknown-column", "column-twice"],
)
def test_confirm_refuses_a_map_that_cannot_key_rows(
    edit: tuple[str, str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(tmp_path, "map", "propose", str(FIXTURES / "small_cp1252"))
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(mapping.read_text("utf-8").replace(*edit, 1), "utf-8")
    err = _confirm(tmp_path, capsys)
    assert words in err and "files.patient column" in err and "mapping.toml" in err
    for secret in ("Laura", "Smith", "laura.smith@mail.example", "555"):
        assert secret not in err


def test_the_gate_refuses_an_export_without_the_key_header(tmp_path: Path) -> None:
    mapped = renamed("small_cp1252", tmp_path / "a", {"patients.csv": {"Patient ID": "Pt ID"}})
    proposal = proposed(mapped)
    later = renamed("small_cp1252", tmp_path / "b", {"patients.csv": {"Patient ID": "PatNum"}})
    source = open_export(later, header_meanings(proposal.mapping))
    with pytest.raises(MissingKeyColumnError) as refused:
        check_columns(proposal.mapping, source)
    message = str(refused.value)
    assert "'Pt ID'" in message and "patients.csv" in message and "\n" not in message


def test_a_later_export_respelling_a_mapped_header_reads_by_the_map(
    canonical: dict[str, list[tuple]], tmp_path: Path
) -> None:
    mapped = renamed("small_cp1252", tmp_path / "a", {"patients.csv": {"Patient ID": "Pt ID"}})
    proposal = proposed(mapped)
    later = renamed("small_cp1252", tmp_path / "b", {"patients.csv": {"Patient ID": " PT-ID"}})
    source = open_export(later, header_meanings(proposal.mapping))
    check_columns(proposal.mapping, source)  # the same header, spelled differently: accepted
    assert confirmed_read(later, proposal)["patient"] == canonical["patient"]


# --- the reported failure, end to end ----------------------------------------------------------


def _run(export: Path, workdir: Path, sandbox: SandboxHandle) -> dict[str, str]:
    invoke(workdir, "init", "--source", str(export), "--twenty-url", sandbox.base_url,
           "--api-key-env", KEY_ENV)  # fmt: skip
    config = workdir / "ferry.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('rate_limit = "100/60s"', 'rate_limit = "1000/1s"'), "utf-8")
    invoke(workdir, "map", "propose", str(export))
    invoke(workdir, "map", "confirm", "--user", "tester")
    invoke(workdir, "schema", "apply", "--no-probe")
    invoke(workdir, "run", "--without-sample-approval")
    with EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state) as store:
        rows = store.connection.execute("SELECT stream_id, state FROM record_state").fetchall()
    return dict(rows)


def test_reported_export_loads_every_record_the_canonical_one_loads(
    start_sandbox: Callable[..., SandboxHandle], key_env: Callable[[str], None], tmp_path: Path
) -> None:
    renames = {
        "patients.csv": REPORTED,
        "appointments.csv": {"Patient ID": "Pt ID", "Deleted": "Del Flag"},
        "insurance_policies.csv": {"Patient ID": "Pt ID"},
    }
    export = renamed("small_cp1252", tmp_path / "reported", renames)
    states: list[dict[str, str]] = []
    for name, bundle in (("canonical", FIXTURES / "small_cp1252"), ("reported", export)):
        sandbox = start_sandbox()
        key_env(sandbox.api_key)
        states.append(_run(bundle, tmp_path / name, sandbox))
    canonical_states, reported_states = states
    loaded = [s for s, state in reported_states.items() if state == "loaded"]
    assert sum(s.startswith("patient:") for s in loaded) >= 15
    assert reported_states == canonical_states

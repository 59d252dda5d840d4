"""`export_twenty_csv`: the files for Twenty's import screen, read from a real store.

The golden files (`fixtures/golden/twenty_csv/small_utf8/`) hold what the small fixture
becomes under a fixed namespace; regenerate them only on purpose with
`FERRY_REGENERATE_GOLDEN=1 pytest tests/reports/test_twenty_csv.py`, then review the diff.
"""

from __future__ import annotations

import csv
import os
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest

from adapters.dental_exec import open_export
from core.errors import ConfigError
from core.identity import destination_id
from core.lifecycle import Lifecycle
from core.mapping import LOAD_ORDER, TransformSettings, prepare_context
from core.mapping.proposer import propose_mapping
from core.mapping.spec import schema_spec_from_mapping
from core.pipeline.local import LocalStage
from core.reports.twenty_csv import MAX_ROWS, export_twenty_csv
from core.schema_spec import default_spec
from events.store import EventStore, NewEvent
from events.types import (
    RecordExtracted,
    RecordRejected,
    RecordTransformed,
    RecordValidated,
    RejectionReason,
)
from tests.run.conftest import FIXTURES

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden" / "twenty_csv"
REGENERATE = os.environ.get("FERRY_REGENERATE_GOLDEN") == "1"
NS = uuid.UUID(int=1)


def _store(path: Path) -> EventStore:
    return EventStore.open(path, transition=Lifecycle().next_state)


def _fixture_store(tmp_path: Path, bundle: str) -> tuple[EventStore, Any]:
    """A store holding the bundle's local stages, as `ferry run` makes them, namespace NS."""
    source = open_export(FIXTURES / bundle)
    mapping = propose_mapping(source).mapping
    context = prepare_context(source, mapping, TransformSettings(namespace=NS))
    spec = schema_spec_from_mapping(mapping)
    store = _store(tmp_path / "ferry.db")
    stage = LocalStage(store, context, spec, run_id="r", mapping_hash="m")
    for entity in LOAD_ORDER:
        if entity in source.entities():
            stage.run(source.rows(entity))
    context.close()
    return store, spec


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_small_fixture_matches_its_golden_files(tmp_path: Path) -> None:
    store, spec = _fixture_store(tmp_path, "small_utf8")
    out = tmp_path / "csv"
    with store:
        result = export_twenty_csv(store.connection, spec, NS, out)
    golden = GOLDEN / "small_utf8"
    written = sorted(p.name for p in out.iterdir())
    if REGENERATE:
        golden.mkdir(parents=True, exist_ok=True)
        for name in written:
            (golden / name).write_bytes((out / name).read_bytes())
    assert written == sorted(p.name for p in golden.iterdir())
    for name in written:
        assert (out / name).read_bytes() == (golden / name).read_bytes(), name
    # Parents before children: companies, then people, then what points to them.
    assert result.files[:3] == ["01-companies.csv", "02-people.csv", "03-treatments.csv"]


def test_headers_are_the_import_screen_labels(tmp_path: Path) -> None:
    store, spec = _fixture_store(tmp_path, "small_utf8")
    with store:
        export_twenty_csv(store.connection, spec, NS, tmp_path / "csv")
    people = (tmp_path / "csv" / "02-people.csv").read_text(encoding="utf-8").split("\r\n")[0]
    for header in (
        '"Id"',
        '"Name / First Name"',
        '"Emails / Primary Email"',
        '"Phones / Primary Phone Number"',
        '"Home address / Address 1"',
        '"Balance / Amount"',
        '"Balance / Currency"',
        '"Company / Id"',
        '"HIPAA notice acknowledged"',
    ):
        assert header in people
    procedures = _rows(tmp_path / "csv" / "04-procedures.csv")
    assert {"Patient / Id", "Treatment / Id"} <= set(procedures[0])


def test_ids_are_the_deterministic_ids_and_relations_point_to_earlier_files(
    tmp_path: Path,
) -> None:
    store, spec = _fixture_store(tmp_path, "small_utf8")
    with store:
        conn = store.connection
        result = export_twenty_csv(conn, spec, NS, tmp_path / "csv")
        exported = {
            sid: destination_id(NS, entity, key)
            for sid, entity, key in conn.execute(
                "SELECT stream_id, entity, source_key FROM record_state WHERE state = 'validated' "
                "AND entity NOT IN ('task_target', 'note_target')"
            )
        }
        rejected = {
            destination_id(NS, e, k)
            for e, k in conn.execute(
                "SELECT entity, source_key FROM record_state WHERE state != 'validated'"
            )
        }
    seen: set[str] = set()
    ids: list[str] = []
    for name in result.files:
        rows = _rows(tmp_path / "csv" / name)
        for row in rows:
            for header, value in row.items():
                if header.endswith(" / Id") and header != "Assignee / Id" and value:
                    assert value in seen, f"{name}: {header} points to a later or missing record"
        ids += [row["Id"] for row in rows]
        seen.update(row["Id"] for row in rows)
    assert sorted(ids) == sorted(exported.values())
    assert not rejected & set(ids)


def _record(key: str, payload: dict[str, Any], target: tuple[str, str] = ("person", "people")):
    return [
        RecordExtracted(source_file="patients.csv", line=2, source_key=key, content_hash=key),
        RecordTransformed(target_object=target[0], target_plural=target[1], payload=payload),
        RecordValidated(),
    ]


def _append(store: EventStore, entity: str, records: dict[str, list[Any]]) -> None:
    batch = [
        NewEvent(f"{entity}:{key}", event, expected_version=version)
        for key, events in records.items()
        for version, event in enumerate(events)
    ]
    for start in range(0, len(batch), 3000):
        store.append(batch[start : start + 3000])


def _person(key: str, email: str, **extra: Any) -> dict[str, Any]:
    return {
        "dentalExecId": key,
        "name": {"firstName": f"F{key}", "lastName": "L"},
        "emails": {"primaryEmail": email, "additionalEmails": []},
        **extra,
    }


def test_more_than_10000_rows_are_split_into_numbered_parts(tmp_path: Path) -> None:
    store = _store(tmp_path / "ferry.db")
    records = {str(n): _record(str(n), _person(str(n), f"p{n}@x.example")) for n in range(10_001)}
    # The last row repeats the first one's email, in capitals: Twenty compares them lower-cased.
    records["10000"] = _record("10000", _person("10000", "P0@X.example"))
    _append(store, "patient", records)
    with store:
        result = export_twenty_csv(store.connection, default_spec(), NS, tmp_path / "csv")
    assert MAX_ROWS == 10_000
    assert result.files == ["01-people-part1.csv", "01-people-part2.csv"]
    first, second = (_rows(tmp_path / "csv" / name) for name in result.files)
    assert (len(first), len(second)) == (10_000, 1)
    assert list(first[0]) == list(second[0])  # the same header on every part
    ids = [row["Id"] for row in first + second]
    assert len(set(ids)) == 10_001
    assert set(ids) == {destination_id(NS, "patient", str(n)) for n in range(10_001)}
    # Rows follow the stream order (`patient:0`, `patient:1`, `patient:10`, ...): the row
    # that repeats the first one's email comes later and is moved out of the unique column.
    by_id = {row["Id"]: row for row in first + second}
    repeated = by_id[destination_id(NS, "patient", "10000")]
    assert by_id[destination_id(NS, "patient", "0")]["Emails / Primary Email"] == "p0@x.example"
    assert repeated["Emails / Primary Email"] == ""
    assert repeated["Emails / Additional Emails"] == '["P0@X.example"]'
    assert result.objects[0].moved_duplicates == 1
    readme = (tmp_path / "csv" / "README.md").read_text(encoding="utf-8")
    assert readme.index("01-people-part1.csv") < readme.index("01-people-part2.csv")
    assert "| 10,000 |" in readme and "| 1 |" in readme
    assert "1 record(s) repeat a primary email" in readme


HOSTILE = [
    ("formula", '=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
    ("plus", "+1 (555) 0100 =1+1", "'+1 (555) 0100 =1+1"),
    ("minus", "-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("at", "@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("tab", "\t=1+1", "'\t=1+1"),
    ("carriage-return", "\r=1+1", "'\r=1+1"),
    ("lone-minus", "-", "'-"),
    ("plain-negative-number", "-12.50", "-12.50"),
    ("plain-plus-number", "+1", "+1"),
    ("quotes-commas-newlines", 'a "b", c\nd', 'a "b", c\nd'),
    ("unicode", "Muñoz 日本 \u202e", "Muñoz 日本 \u202e"),
]


@pytest.mark.parametrize(("case", "value", "expected"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_cells_are_defused_and_round_trip(
    tmp_path: Path, case: str, value: str, expected: str
) -> None:
    store = _store(tmp_path / "ferry.db")
    _append(store, "patient", {"1": _record("1", _person("1", "a@x.example", chartNumber=value))})
    with store:
        export_twenty_csv(store.connection, default_spec(), NS, tmp_path / "csv")
    (row,) = _rows(tmp_path / "csv" / "01-people.csv")
    assert row["Chart number"] == expected
    readme = (tmp_path / "csv" / "README.md").read_text(encoding="utf-8")
    if len(value.strip()) > 2:
        assert value.strip() not in readme  # counts only, never a value


def test_values_are_written_as_the_import_screen_reads_them(tmp_path: Path) -> None:
    store = _store(tmp_path / "ferry.db")
    payload = _person(
        "1",
        "a@x.example",
        hipaaAcknowledged=True,
        medicalAlerts=["ALLERGY_LATEX", "DIABETES"],
        gender="FEMALE",
        balance={"amountMicros": -12_500_000, "currencyCode": "USD"},
        birthDate="1984-02-11",
    )
    other = _person("2", "", hipaaAcknowledged=False, medicalAlerts=[])
    _append(store, "patient", {"1": _record("1", payload), "2": _record("2", other)})
    with store:
        result = export_twenty_csv(store.connection, default_spec(), NS, tmp_path / "csv")
    first, second = _rows(tmp_path / "csv" / "01-people.csv")
    assert first["HIPAA notice acknowledged"] == "TRUE"
    assert second["HIPAA notice acknowledged"] == "FALSE"
    assert first["Medical alerts"] == '["ALLERGY_LATEX", "DIABETES"]'
    assert second["Medical alerts"] == ""
    assert first["Gender"] == "FEMALE"
    assert (first["Balance / Amount"], first["Balance / Currency"]) == ("-12.50", "USD")
    assert first["Date of birth"] == "1984-02-11"
    assert result.defused_cells == 0  # a negative amount is a number, not a formula


def test_rejected_and_skipped_records_are_not_exported(tmp_path: Path) -> None:
    store = _store(tmp_path / "ferry.db")
    reason = RejectionReason(code="BAD", field="x", message="bad")
    extracted = RecordExtracted(source_file="p.csv", line=3, source_key="2", content_hash="2")
    _append(
        store,
        "patient",
        {"1": _record("1", _person("1", "a@x.example")),
         "2": [extracted, RecordRejected(reasons=[reason])]},
    )  # fmt: skip
    with store:
        export_twenty_csv(store.connection, default_spec(), NS, tmp_path / "csv")
    rows = _rows(tmp_path / "csv" / "01-people.csv")
    assert [r["Id"] for r in rows] == [destination_id(NS, "patient", "1")]


def test_every_file_is_owner_only_and_stale_parts_go(tmp_path: Path) -> None:
    out = tmp_path / "csv"
    out.mkdir()
    (out / "09-people-part7.csv").write_text("stale", encoding="utf-8")
    (out / "notes.txt").write_text("the operator's own file", encoding="utf-8")
    store = _store(tmp_path / "ferry.db")
    _append(store, "patient", {"1": _record("1", _person("1", "a@x.example"))})
    old = os.umask(0)
    try:
        with store:
            export_twenty_csv(store.connection, default_spec(), NS, out / "new")
            export_twenty_csv(store.connection, default_spec(), NS, out)
    finally:
        os.umask(old)
    assert not (out / "09-people-part7.csv").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "the operator's own file"
    for path in [*out.glob("*.csv"), out / "README.md", *(out / "new").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((out / "new").stat().st_mode) == 0o700


def test_an_unwritable_folder_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    store = _store(tmp_path / "ferry.db")
    _append(store, "patient", {"1": _record("1", _person("1", "a@x.example"))})
    with store, pytest.raises(ConfigError, match="choose a folder you can write to") as error:
        export_twenty_csv(store.connection, default_spec(), NS, blocker / "csv")
    assert str(blocker) in str(error.value) and "\n" not in str(error.value)

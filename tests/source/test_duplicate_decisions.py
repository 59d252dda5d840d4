"""The duplicates list read back: every filled-in row checked, decisions recorded once, the
latest decision on a pair standing, and no change to what a run already did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.dental_exec.fixup_lists import read_fixup_list
from core.errors import BadInputError, ConfigError
from core.lifecycle import Lifecycle
from core.source_audit.decisions import (
    DECISION_COLUMNS,
    merges,
    read_decisions,
    record_decisions,
    unmerged_patients,
)
from events.store import EventStore, NewEvent
from events.types import (
    DuplicateDecided,
    RecordExtracted,
    RecordSkipped,
)

HEADER = ("patient_id", "line", "same_person_as", "matched_on", "decision", "keep_patient_id")
FILE = "fixup-duplicates.csv"


def _rows(*cells: tuple[str, str, str, str]) -> list[tuple[int, dict[str, str]]]:
    return [
        (n + 2, {"patient_id": p, "same_person_as": o, "decision": d, "keep_patient_id": k})
        for n, (p, o, d, k) in enumerate(cells)
    ]


def _extracted(key: str, line: int) -> RecordExtracted:
    return RecordExtracted(source_file="patients.csv", line=line, source_key=key, content_hash="h")


def _store(tmp_path: Path) -> EventStore:
    return EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state, create=True)


def test_a_merge_keeps_the_patient_it_looks_like_unless_another_is_named() -> None:
    rows = _rows(
        ("10200", "10100", "Merge", ""),
        ("10300", "10110", " keep  both ", ""),
        ("10400", "10120", "merge", "10400"),
        ("10500", "10130", "", ""),
    )
    decisions, undecided = read_decisions(rows, HEADER, FILE)
    by_key = {d.patient_key: d for d in decisions}
    assert (by_key["10200"].decision, by_key["10200"].keep_key) == ("merge", "10100")
    assert by_key["10200"].merged_key == "10200"
    assert (by_key["10300"].decision, by_key["10300"].merged_key) == ("separate", "")
    assert (by_key["10400"].keep_key, by_key["10400"].merged_key) == ("10400", "10120")
    assert undecided == 1 and "10500" not in by_key


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        (("10200", "10100", "maybe", ""), "decision", "`merge`"),
        (("10200", "10100", "merge", "10999"), "keep_patient_id", "10200 or 10100"),
        (("10200", "10200", "merge", ""), "same_person_as", "itself"),
        (("", "10100", "merge", ""), "patient_id", "not a patient ID"),
        (("10200", "ten", "separate", ""), "same_person_as", "not a patient ID"),
    ],
)
def test_an_unusable_row_names_file_line_and_column(
    cells: tuple[str, str, str, str], column: str, words: str
) -> None:
    rows = [
        (
            2,
            {
                "patient_id": "10300",
                "same_person_as": "10301",
                "decision": "",
                "keep_patient_id": "",
            },
        )
    ]
    rows += [(3, dict(zip(DECISION_COLUMNS, cells, strict=True)))]
    with pytest.raises(BadInputError) as caught:
        read_decisions(rows, HEADER, FILE)
    assert (caught.value.file, caught.value.line, caught.value.column) == (FILE, 3, column)
    assert words in str(caught.value) and str(caught.value).startswith(f"{FILE}:3 column")


def test_a_list_without_the_decision_columns_is_refused() -> None:
    with pytest.raises(BadInputError, match="no decision, keep_patient_id column"):
        read_decisions([], ("patient_id", "line", "same_person_as"), FILE)


def test_a_patient_merged_two_ways_or_in_a_circle_is_refused() -> None:
    two_ways = _rows(("10200", "10100", "merge", ""), ("10200", "10150", "merge", ""))
    with pytest.raises(BadInputError, match="merged into 10100 on line 2 and into 10150"):
        read_decisions(two_ways, HEADER, FILE)
    circle = _rows(
        ("10200", "10100", "merge", ""),
        ("10100", "10300", "merge", "10300"),
        ("10300", "10200", "merge", "10200"),
    )
    with pytest.raises(BadInputError, match="go round in a circle"):
        read_decisions(circle, HEADER, FILE)


@given(st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12), st.booleans()), max_size=15))
def test_recorded_merges_always_end_at_a_kept_patient(pairs: list[tuple[int, int, bool]]) -> None:
    """Whatever the rows, an accepted list's merges lead every merged patient to a patient
    that is itself kept, in finitely many steps."""
    rows = _rows(
        *(
            (str(100 + a), str(100 + b), "merge", str(100 + (a if keep_self else b)))
            for a, b, keep_self in pairs
            if a != b
        )
    )
    try:
        decisions, _ = read_decisions(rows, HEADER, FILE)
    except BadInputError:
        return
    into = {d.merged_key: d.keep_key for d in decisions if d.merged_key}
    for key in into:
        seen = {key}
        while key in into:
            key = into[key]
            assert key not in seen
            seen.add(key)
        assert key not in into


def test_decisions_are_recorded_once_and_the_latest_on_a_pair_stands(tmp_path: Path) -> None:
    first, _ = read_decisions(_rows(("10200", "10100", "merge", "")), HEADER, FILE)
    with _store(tmp_path) as store:
        done = record_decisions(store, first, 2, user="ana", file_hash="a" * 64)
        assert (len(done.recorded), done.unchanged, done.undecided) == (1, 0, 2)
        again = record_decisions(store, first, 0, user="ana", file_hash="a" * 64)
        assert (len(again.recorded), again.unchanged) == (0, 1)
        assert merges(store) == {"10200": "10100"}
        flipped, _ = read_decisions(_rows(("10100", "10200", "merge", "10200")), HEADER, FILE)
        record_decisions(store, flipped, 0, user="ben", file_hash="b" * 64)
        assert merges(store) == {"10100": "10200"}
        separate, _ = read_decisions(_rows(("10200", "10100", "separate", "")), HEADER, FILE)
        record_decisions(store, separate, 0, user="ben", file_hash="c" * 64)
        assert merges(store) == {}
        events = [s.event for s in store.read("type = 'DuplicateDecided'")]
    assert [e.decision for e in events if isinstance(e, DuplicateDecided)] == [
        "merge",
        "merge",
        "separate",
    ]
    assert [e.user for e in events if isinstance(e, DuplicateDecided)] == ["ana", "ben", "ben"]


def test_a_chain_across_two_files_is_followed_to_the_kept_patient(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        one, _ = read_decisions(_rows(("10300", "10200", "merge", "")), HEADER, FILE)
        record_decisions(store, one, 0, user="ana", file_hash="a" * 64)
        two, _ = read_decisions(_rows(("10200", "10100", "merge", "")), HEADER, FILE)
        record_decisions(store, two, 0, user="ana", file_hash="b" * 64)
        assert merges(store) == {"10300": "10100", "10200": "10100"}
        loop, _ = read_decisions(_rows(("10100", "10300", "merge", "10300")), HEADER, FILE)
        with pytest.raises(BadInputError, match="circle"):
            record_decisions(store, loop, 0, user="ana", file_hash="c" * 64)
        assert merges(store) == {"10300": "10100", "10200": "10100"}


def test_a_decision_a_run_acted_on_stands_until_its_records_are_rolled_back(
    tmp_path: Path,
) -> None:
    merge, _ = read_decisions(_rows(("10200", "10100", "merge", "")), HEADER, FILE)
    separate, _ = read_decisions(_rows(("10200", "10100", "separate", "")), HEADER, FILE)
    with _store(tmp_path) as store:
        record_decisions(store, merge, 0, user="ana", file_hash="a" * 64)
        # A run skips the merged patient and migrates the kept one.
        store.append(
            [
                NewEvent("patient:10200", _extracted("10200", 3)),
                NewEvent(
                    "patient:10200",
                    RecordSkipped(code="MERGED_DUPLICATE", reason="merged into patient:10100"),
                ),
                NewEvent("patient:10100", _extracted("10100", 2)),
                NewEvent("patient:10100", RecordSkipped(code="SOURCE_DELETED", reason="stand-in")),
            ]
        )
        assert unmerged_patients(store, merges(store)) == frozenset()
        # The kept patient is still there (any state but absent or rolled back): refused.
        with pytest.raises(ConfigError, match="line 2: patient 10200 was already migrated"):
            record_decisions(store, separate, 0, user="ana", file_hash="b" * 64)
        assert merges(store) == {"10200": "10100"}
        assert unmerged_patients(store, {}) == frozenset({"patient:10200"})


def test_a_merge_of_a_patient_already_in_twenty_is_refused(tmp_path: Path) -> None:
    merge, _ = read_decisions(_rows(("10200", "10100", "merge", "")), HEADER, FILE)
    with _store(tmp_path) as store:
        store.append([NewEvent("patient:10200", _extracted("10200", 3))])
        with pytest.raises(ConfigError, match="roll the migration back"):
            record_decisions(store, merge, 0, user="ana", file_hash="a" * 64)
        assert not list(store.read("type = 'DuplicateDecided'"))


def test_a_spreadsheet_copy_of_the_list_reads_back(tmp_path: Path) -> None:
    """Excel saves with a byte order mark and semicolons, or in Windows-1252 with tabs."""
    lines = [
        "patient_id;line;same_person_as;matched_on;decision;keep_patient_id",
        "10200;3;10100;name and birth date;merge;",
        ";;;;;",
        "10300;4;10110;phone;sÉparate;",
    ]
    semicolons = tmp_path / "a.csv"
    semicolons.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    listed = read_fixup_list(semicolons)
    assert listed.header == list(HEADER)
    assert [line for line, _ in listed.rows] == [2, 4]
    assert listed.rows[0][1]["decision"] == "merge" and len(listed.sha256) == 64
    tabs = tmp_path / "b.csv"
    tabs.write_bytes("\n".join(line.replace(";", "\t") for line in lines).encode("cp1252"))
    assert read_fixup_list(tabs).rows[1][1]["decision"] == "sÉparate"
    with pytest.raises(BadInputError, match=re.escape("b.csv:4 column 'decision': not a decision")):
        read_decisions(read_fixup_list(tabs).rows, HEADER, "b.csv")


def test_a_missing_or_utf16_list_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=re.escape("gone.csv: no such file")):
        read_fixup_list(tmp_path / "gone.csv")
    utf16 = tmp_path / "wide.csv"
    utf16.write_bytes("patient_id,decision\n".encode("utf-16"))
    with pytest.raises(BadInputError, match=re.escape("wide.csv: is UTF-16")):
        read_fixup_list(utf16)

"""The append-only store: atomic batches, versions, the chain, the database's own guards."""

from __future__ import annotations

import os
import sqlite3
import stat
from itertools import pairwise
from pathlib import Path

import pytest

from core.lifecycle import Lifecycle
from events.audit import compare_projections, replay, verify_chain
from events.errors import (
    ConcurrencyError,
    CorruptStoreError,
    EventStoreError,
    IllegalTransitionError,
    StoreMissingError,
)
from events.projections import ROWID
from events.queries import EventFilter, list_events, status_counts
from events.store import EventStore, NewEvent
from events.types import RecordExtracted, RunStarted
from tests.events.factories import every_event, record_event


def _extracted(key: str) -> NewEvent:
    return NewEvent(f"patient:{key}", record_event("RecordExtracted", key))


def test_append_assigns_positions_versions_and_links_the_chain(store: EventStore) -> None:
    positions = store.append([NewEvent(s, e) for s, e in every_event()], run_id="r1")
    assert positions == list(range(1, len(every_event()) + 1))
    history = store.read_stream("patient:1")
    assert [e.version for e in history] == list(range(1, len(history) + 1))
    assert all(b.prev_hash == a.hash for a, b in pairwise(history) if b.position == a.position + 1)
    assert verify_chain(store.connection).is_ok
    assert store.head()[0] == positions[-1]


def test_recorded_at_comes_from_the_injected_clock(store: EventStore) -> None:
    store.append([_extracted("1")])
    store.append([_extracted("2")])
    times = [e.recorded_at for e in list_events(store.connection, EventFilter())]
    assert times == ["2026-11-27T09:00:01.000000Z", "2026-11-27T09:00:02.000000Z"]


def test_expected_version_mismatch_raises_and_appends_nothing(store: EventStore) -> None:
    store.append([_extracted("1")])
    batch = [_extracted("2"), NewEvent("patient:1", record_event("RecordTransformed"), 0)]
    with pytest.raises(ConcurrencyError) as raised:
        store.append(batch)
    assert raised.value.stream_id == "patient:1"
    assert (raised.value.expected, raised.value.actual) == (0, 1)
    assert store.head()[0] == 1
    assert store.stream_version("patient:2") == 0


def test_a_second_writer_is_seen_through_expected_versions(
    store_path: Path, store: EventStore
) -> None:
    other = EventStore.open(store_path, transition=Lifecycle().next_state)
    store.append([_extracted("1")])
    other.append([NewEvent("patient:1", record_event("RecordTransformed"), 1)])
    with pytest.raises(ConcurrencyError):
        store.append([NewEvent("patient:1", record_event("RecordTransformed"), 1)])
    # The stale cache was dropped: the state is read again from the database.
    with pytest.raises(IllegalTransitionError):
        store.append([NewEvent("patient:1", record_event("RecordTransformed"))])
    store.append([NewEvent("patient:1", record_event("RecordValidated"), 2)])
    other.close()
    assert verify_chain(store.connection).is_ok


def test_illegal_transition_is_refused_with_its_stream(store: EventStore) -> None:
    with pytest.raises(IllegalTransitionError) as raised:
        store.append([_extracted("1"), NewEvent("patient:2", record_event("RecordLoaded"))])
    assert raised.value.stream_id == "patient:2"
    assert store.head()[0] == 0


@pytest.mark.parametrize(
    ("stream_id", "event"),
    [
        ("migration", record_event("RecordExtracted")),
        ("run:r1", record_event("RecordExtracted")),
        ("patient:1", RunStarted(run_id="r1", command="run")),
        ("patient", record_event("RecordExtracted")),
    ],
    ids=["record-on-migration", "record-on-run", "run-on-record", "no-key"],
)
def test_events_go_to_their_kind_of_stream(
    store: EventStore, stream_id: str, event: RecordExtracted
) -> None:
    with pytest.raises(EventStoreError):
        store.append([NewEvent(stream_id, event)])


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET type = 'X' WHERE position = 1", "DELETE FROM events WHERE position = 1"],
    ids=["update", "delete"],
)
def test_the_database_refuses_update_and_delete(
    store: EventStore, store_path: Path, statement: str
) -> None:
    store.append([_extracted("1")])
    raw = sqlite3.connect(store_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute(statement)
    raw.close()


def test_store_files_are_private_to_their_owner(store: EventStore, store_path: Path) -> None:
    store.append([_extracted("1")])
    for path in [store_path, *store_path.parent.glob("ferry.db-*")]:
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreMissingError, match="ferry init"):
        EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state, create=False)


@pytest.mark.parametrize(
    "content", [b"not a database at all" * 100, b""], ids=["garbage", "empty-other-db"]
)
def test_a_file_that_is_not_a_store_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ferry.db"
    if content:
        path.write_bytes(content)
    else:
        other = sqlite3.connect(path)
        other.execute("CREATE TABLE patients (id INTEGER)")
        other.close()
    with pytest.raises(CorruptStoreError):
        EventStore.open(path, transition=Lifecycle().next_state)


def test_status_counts_by_entity_and_state(store: EventStore) -> None:
    store.append(
        [
            _extracted("1"),
            _extracted("2"),
            NewEvent("appointment:7", record_event("RecordExtracted", "7")),
        ]
    )
    store.append([NewEvent("patient:2", record_event("RecordRejected"))])
    counts = status_counts(store.connection)
    assert counts.entities == {
        "appointment": {"extracted": 1},
        "patient": {"extracted": 1, "rejected": 1},
    }
    assert counts.totals == {"extracted": 2, "rejected": 1}


def test_record_state_keeps_what_resume_needs(store: EventStore) -> None:
    for event_type in [
        "RecordExtracted",
        "RecordTransformed",
        "RecordValidated",
        "LoadRequested",
        "LoadFailed",
        "LoadRequested",
    ]:
        store.append([NewEvent("patient:1", record_event(event_type))])
    row = store.connection.execute(
        "SELECT entity, source_key, state, attempts, last_error_code, destination_id, content_hash "
        "FROM record_state WHERE stream_id = 'patient:1'"
    ).fetchone()
    assert row[:5] == ("patient", "1", "loading", 2, "HTTP_503")
    assert row[5] and row[6] == "ab" * 32


@pytest.mark.parametrize("cached", [True, False], ids=["rows-from-cache", "rows-read-back"])
def test_columns_without_a_value_are_null(
    store: EventStore, store_path: Path, cached: bool
) -> None:
    # The append binds a placeholder for "no value" (events.projections.NULL_VALUE) that the
    # statement turns back into NULL; auditors and resume must see NULL, never the placeholder.
    store.append([_extracted("1")])
    if not cached:  # another writer makes the store read the row back from the table
        with sqlite3.connect(store_path) as other:
            other.execute("INSERT INTO store_meta VALUES ('touched', '1')")
    store.append([NewEvent("patient:1", record_event("RecordTransformed"))])
    kinds = store.connection.execute(
        "SELECT typeof(destination_id), typeof(last_error_code), typeof(content_hash) "
        "FROM record_state WHERE stream_id = 'patient:1'"
    ).fetchone()
    assert kinds == ("null", "null", "text")


def test_rows_renumbered_by_another_connection_are_not_written_through_stale_rowids(
    store: EventStore, store_path: Path, tmp_path: Path
) -> None:
    # The store keeps the record_state rows it wrote (with their rowids) between appends;
    # another connection renumbering them (as a VACUUM may) must not make it write the wrong
    # rows: it notices the other writer and reads the rows again.
    store.append([_extracted(str(key)) for key in range(1, 6)])
    other = sqlite3.connect(store_path, isolation_level=None)
    other.executescript(
        "BEGIN; CREATE TEMP TABLE copy AS SELECT * FROM record_state; DELETE FROM record_state;"
        "INSERT INTO record_state SELECT * FROM copy ORDER BY stream_id DESC; COMMIT;"
    )
    other.close()
    store.append([NewEvent("patient:2", record_event("RecordTransformed"))])
    rebuilt = tmp_path / "rebuilt.db"
    replay(store.connection, rebuilt, Lifecycle().next_state)
    assert compare_projections(store.connection, rebuilt) == []
    assert status_counts(store.connection).totals == {"extracted": 4, "transformed": 1}


def test_a_row_written_through_a_wrong_rowid_aborts_the_batch(store: EventStore) -> None:
    # Defence in depth: should a cached rowid ever point at another stream's row, the
    # upsert's `WHERE stream_id = excluded.stream_id` leaves that row alone and the change
    # count gives it away, so the whole batch is rolled back rather than folded wrongly.
    store.append([_extracted(str(key)) for key in range(1, 4)])
    other_rowid = store.connection.execute(
        "SELECT rowid FROM record_state WHERE stream_id = 'patient:3'"
    ).fetchone()[0]
    store._cache["patient:2"][ROWID] = other_rowid  # a bug's stale rowid, simulated
    head = store.head()
    with pytest.raises(EventStoreError, match="record_state rows moved"):
        store.append([NewEvent("patient:2", record_event("RecordTransformed"))])
    assert store.head() == head
    store.append([NewEvent("patient:2", record_event("RecordTransformed"))])  # reads again
    assert status_counts(store.connection).totals == {"extracted": 2, "transformed": 1}


@pytest.mark.parametrize("limit", [999, 60], ids=["sqlite-before-3.32", "tiny"])
def test_big_batches_fit_the_parameter_limit_of_older_sqlite(
    store: EventStore, tmp_path: Path, limit: int
) -> None:
    # Events and record rows go in as multi-row statements; where SQLite allows fewer bound
    # parameters (999 before 3.32), they are split smaller and the result is the same.
    store.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    keys = [str(key) for key in range(1, 451)]
    store.append([_extracted(key) for key in keys], run_id="r1")
    store.append([NewEvent(f"patient:{key}", record_event("RecordTransformed")) for key in keys])
    assert store.head()[0] == 900
    assert verify_chain(store.connection).is_ok
    assert status_counts(store.connection).totals == {"transformed": 450}
    rebuilt = tmp_path / "rebuilt.db"
    replay(store.connection, rebuilt, Lifecycle().next_state)
    assert compare_projections(store.connection, rebuilt) == []

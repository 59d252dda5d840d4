"""A resume's pending scans touch only pending records: the start-up must not grow with the
records already loaded (2.36M rows at 100,000 patients).

Every query that `has_pending`, `count_pending` and `pending` run over record_state is caught
with the connection's trace callback and planned again with EXPLAIN QUERY PLAN: each must go
through the partial index of pending records, never walk the table or the stream-id key.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from core.lifecycle import Lifecycle
from core.pipeline.pending import count_pending, has_pending, pending
from events.projections import PENDING_CONDITION
from events.store import EventStore, NewEvent
from events.types import (
    LoadFailed,
    LoadRequested,
    RecordExtracted,
    RecordLoaded,
    RecordTransformed,
    RecordValidated,
)

NAMESPACE = uuid.UUID("6f1c2a52-1b1e-4a43-9d0e-3f0c43e4a5b1")


def _local(sid: str, i: int) -> list[NewEvent]:
    extracted = RecordExtracted(
        source_file="patients.csv", line=i + 2, source_key=str(i), content_hash=f"{i:064x}"
    )
    transformed = RecordTransformed(
        target_object="person", target_plural="people", payload={"dentalExecId": str(i)}
    )
    return [NewEvent(sid, extracted), NewEvent(sid, transformed), NewEvent(sid, RecordValidated())]


def _requested(sid: str, i: int) -> NewEvent:
    intent = LoadRequested(batch_id="b", destination_id=_dest(i), target_object="person")
    return NewEvent(sid, intent)


def _loaded(sid: str, i: int) -> NewEvent:
    return NewEvent(sid, RecordLoaded(destination_id=_dest(i), outcome="created"))


def _dest(i: int) -> str:
    return f"00000000-0000-5000-8000-{i:012d}"


def _store(path: Path) -> EventStore:
    """60 patients: 0-29 loaded, 30-39 in doubt, 40-44 failed (retryable), the rest validated."""
    store = EventStore.open(path, transition=Lifecycle().next_state)
    sids = {i: f"patient:{i:03d}" for i in range(60)}
    store.append([e for i, sid in sids.items() for e in _local(sid, i)], run_id="r1")
    store.append([_requested(sids[i], i) for i in range(45)], run_id="r1")
    store.append([_loaded(sids[i], i) for i in range(30)], run_id="r1")
    failed = LoadFailed(retryable=True, code="HTTP_503", message="unavailable")
    store.append([NewEvent(sids[i], failed) for i in range(40, 45)], run_id="r1")
    # Another entity, all loaded: its range must not be walked either.
    store.append([e for i in range(10) for e in _local(f"appointment:{i}", i)], run_id="r1")
    store.append([_requested(f"appointment:{i}", i) for i in range(10)], run_id="r1")
    store.append([_loaded(f"appointment:{i}", i) for i in range(10)], run_id="r1")
    return store


def _plans(conn: sqlite3.Connection, statements: list[str]) -> list[str]:
    """The query plan of every traced SELECT that reads record_state."""
    plans = []
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT") and "FROM record_state" in sql:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            plans.append(" | ".join(str(r[3]) for r in rows))
    return plans


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda conn: has_pending(conn), id="has_pending"),
        pytest.param(lambda conn: count_pending(conn, "patient"), id="count_pending"),
        pytest.param(lambda conn: count_pending(conn, "appointment"), id="count_none"),
        pytest.param(lambda conn: list(pending(conn, "patient", NAMESPACE, chunk=7)), id="pending"),
        pytest.param(lambda conn: list(pending(conn, "appointment", NAMESPACE)), id="pending_none"),
    ],
)
def test_pending_queries_use_the_pending_index(tmp_path: Path, call: object) -> None:
    with _store(tmp_path / "ferry.db") as store:
        conn = store.connection
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        try:
            call(conn)  # type: ignore[operator]
        finally:
            conn.set_trace_callback(None)
        plans = _plans(conn, statements)
    assert plans, statements
    for plan in plans:
        if "stream_id IN" in plan or "stream_id=?" in plan:
            continue  # lookups of given streams (parents) go by key: fine
        assert "USING COVERING INDEX record_state_pending" in plan or (
            "USING INDEX record_state_pending" in plan
        ), plan


def test_pending_finds_exactly_the_pending_records(tmp_path: Path) -> None:
    with _store(tmp_path / "ferry.db") as store:
        conn = store.connection
        items = [item for chunk in pending(conn, "patient", NAMESPACE, chunk=7) for item in chunk]
        assert has_pending(conn)
        assert count_pending(conn, "patient") == 30
        assert count_pending(conn, "appointment") == 0
        assert list(pending(conn, "appointment", NAMESPACE)) == []
    assert [i.stream_id for i in items] == [f"patient:{i:03d}" for i in range(30, 60)]
    in_doubt = {i.stream_id for i in items if getattr(i, "in_doubt", False)}
    assert in_doubt == {f"patient:{i:03d}" for i in range(30, 40)}


def test_the_index_holds_only_pending_records(tmp_path: Path) -> None:
    _store(tmp_path / "ferry.db").close()
    # Opened again (as a resume does): the index is there and its rows are the pending ones.
    with EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state) as store:
        sql = "SELECT stream_id FROM record_state INDEXED BY record_state_pending WHERE {}"
        indexed = store.connection.execute(sql.format(PENDING_CONDITION)).fetchall()
    assert [r[0] for r in indexed] == [f"patient:{i:03d}" for i in range(30, 60)]

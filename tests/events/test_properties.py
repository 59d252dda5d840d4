"""Invariants of the store, checked with hypothesis.

- Any interleaving of batch appends (legal and illegal) leaves projections equal to a replay.
- Any single changed byte, deleted row or swapped pair in `events` is caught by verify.
- The store accepts a record event exactly when the lifecycle table allows it.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.lifecycle import TRANSITIONS, Lifecycle, State
from events.audit import compare_projections, replay, verify_chain
from events.errors import IllegalTransitionError
from events.store import EventStore, NewEvent
from events.types import RunPaused, RunResumed, RunStarted
from tests.events.factories import every_event, record_event

RECORD_TYPES = sorted({t["trigger"] for t in TRANSITIONS})
STREAMS = [f"{entity}:{key}" for entity in ("patient", "appointment") for key in range(4)]
LIFECYCLE = Lifecycle()

step = st.tuples(st.sampled_from(STREAMS), st.sampled_from(RECORD_TYPES))
batch = st.lists(step, min_size=1, max_size=6)
run_step = st.sampled_from(["start", "pause", "resume", None])


def _fresh_store(tmp: Path) -> EventStore:
    return EventStore.open(tmp / "ferry.db", transition=LIFECYCLE.next_state)


def _run_event(kind: str) -> NewEvent:
    events = {
        "start": RunStarted(run_id="r1", command="run"),
        "pause": RunPaused(until="2026-11-27T10:00:00.000000Z", why="rate_limited"),
        "resume": RunResumed(why="wait_over"),
    }
    return NewEvent("run:r1", events[kind])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(batch, run_step), min_size=1, max_size=25))
def test_projections_equal_a_replay_after_any_interleaving(plan: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = _fresh_store(Path(tmp))
        for steps, run_kind in plan:
            events = [NewEvent(sid, record_event(t, sid.split(":")[1])) for sid, t in steps]
            if run_kind:
                events.append(_run_event(run_kind))
            # An illegal event refuses the whole batch; the store is then unchanged.
            with contextlib.suppress(IllegalTransitionError):
                store.append(events, run_id="r1" if run_kind else None)
        rebuilt = Path(tmp) / "replay.db"
        replay(store.connection, rebuilt, LIFECYCLE.next_state)
        assert compare_projections(store.connection, rebuilt) == []
        assert verify_chain(store.connection).is_ok
        store.close()


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([s.value for s in State]), st.sampled_from(RECORD_TYPES))
def test_store_accepts_exactly_what_the_lifecycle_allows(state: str, event_type: str) -> None:
    allowed = LIFECYCLE.next_state(state, event_type) is not None
    try:
        fired = LIFECYCLE.fire(state, event_type)
    except IllegalTransitionError:
        fired = None
    assert (fired is not None) == allowed
    assert fired == LIFECYCLE.next_state(state, event_type)


def _tamper_copy(source: Path, target: Path, *statements: tuple[str, tuple]) -> None:
    """Copy the store, drop its guards as an attacker with file access would, then edit it."""
    shutil.copy(source, target)
    conn = sqlite3.connect(target)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    try:
        for sql, params in statements:
            conn.execute(sql, params)
    except sqlite3.IntegrityError:
        assume(False)  # the database itself refuses this edit (UNIQUE stream_id, version)
    conn.commit()
    conn.close()


def _seeded_store(tmp: Path) -> Path:
    store = _fresh_store(tmp)
    pairs = every_event()
    for start in range(0, len(pairs), 4):
        store.append([NewEvent(s, e) for s, e in pairs[start : start + 4]], run_id="r1")
    store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return tmp / "ferry.db"


def _verify(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        return verify_chain(conn).is_ok
    finally:
        conn.close()


COLUMNS = ["stream_id", "version", "type", "run_id", "recorded_at", "data", "prev_hash", "hash"]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_any_single_changed_byte_is_detected(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = _seeded_store(Path(tmp))
        conn = sqlite3.connect(source)
        count = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        position = data.draw(st.integers(1, count))
        column = data.draw(st.sampled_from(COLUMNS))
        value = conn.execute(
            f"SELECT {column} FROM events WHERE position = ?", (position,)
        ).fetchone()[0]
        conn.close()
        text = "" if value is None else str(value)
        index = data.draw(st.integers(0, max(len(text) - 1, 0)))
        replacement = data.draw(
            st.characters(codec="ascii").filter(lambda c: text[index : index + 1] != c)
        )
        changed = text[:index] + replacement + text[index + 1 :]
        new_value: object = int(changed) if column == "version" and changed.isdigit() else changed
        if column == "version" and not changed.isdigit():
            new_value = int(text) + 1
        target = Path(tmp) / "tampered.db"
        _tamper_copy(
            source,
            target,
            (f"UPDATE events SET {column} = ? WHERE position = ?", (new_value, position)),
        )
        assert not _verify(target)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_deleted_row_or_swapped_pair_is_detected(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = _seeded_store(Path(tmp))
        count = len(every_event())
        target = Path(tmp) / "tampered.db"
        if data.draw(st.booleans()):
            position = data.draw(st.integers(1, count))
            _tamper_copy(source, target, ("DELETE FROM events WHERE position = ?", (position,)))
        else:
            a = data.draw(st.integers(1, count - 1))
            b = data.draw(st.integers(a + 1, count))
            conn = sqlite3.connect(source)
            cols = ", ".join(COLUMNS)
            rows = {
                pos: values
                for pos, *values in conn.execute(
                    f"SELECT position, {cols} FROM events WHERE position IN (?, ?)", (a, b)
                )
            }
            conn.close()
            sets = ", ".join(f"{c} = ?" for c in COLUMNS)
            _tamper_copy(
                source,
                target,
                ("UPDATE events SET stream_id = 'swap' WHERE position = ?", (a,)),
                (f"UPDATE events SET {sets} WHERE position = ?", (*rows[a], b)),
                (f"UPDATE events SET {sets} WHERE position = ?", (*rows[b], a)),
            )
        assert not _verify(target)

"""Event store throughput: Ferry's store versus raw `sqlite3.executemany`, in one run.

Appends N records x 5 lifecycle events (extracted, transformed, validated, load requested,
loaded) through Ferry's EventStore — hash chain, lifecycle check and projections on — in the
shape the pipeline writes them: per chunk of records, one batch with the three local stages,
one with the load intents, one with the load outcomes. Then inserts the very same rows (same
columns, same batch boundaries, same pragmas: WAL, synchronous=FULL) with a raw
`executemany` into a plain table. Prints events/s for both, the ratio, and peak RSS.

    .venv/bin/python benchmarks/event_store.py --records 200000
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from core.lifecycle import Lifecycle
from events.store import EventStore, NewEvent
from events.types import (
    Event,
    LoadRequested,
    RecordExtracted,
    RecordLoaded,
    RecordTransformed,
    RecordValidated,
)

RAW_SCHEMA = (
    "CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT, version INTEGER, "
    "type TEXT, run_id TEXT, recorded_at TEXT, data TEXT, prev_hash TEXT, hash TEXT)"
)


def _chunk_batches(start: int, size: int) -> list[list[NewEvent]]:
    """The three batches the pipeline appends for one chunk of records."""
    local: list[NewEvent] = []
    intents: list[NewEvent] = []
    outcomes: list[NewEvent] = []
    for i in range(start, start + size):
        sid = f"patient:{i}"
        dest = f"00000000-0000-5000-8000-{i:012d}"
        local.append(NewEvent(sid, _extracted(i)))
        local.append(NewEvent(sid, _transformed(i)))
        local.append(NewEvent(sid, RecordValidated()))
        intents.append(
            NewEvent(
                sid,
                LoadRequested(batch_id=f"b{i // 60}", destination_id=dest, target_object="person"),
            )
        )
        outcomes.append(NewEvent(sid, RecordLoaded(destination_id=dest, outcome="created")))
    return [local, intents, outcomes]


def _extracted(i: int) -> Event:
    row = {
        "Patient ID": str(i),
        "Last Name": "Lastname",
        "First Name": "First",
        "Birth Date": "07/04/1986",
        "E-mail": f"p{i}@mail.example",
        "Status": "Active",
    }
    return RecordExtracted(
        source_file="patients.csv", line=i + 2, source_key=str(i), content_hash=f"{i:064x}", row=row
    )


def _transformed(i: int) -> Event:
    payload = {
        "name": {"firstName": "First", "lastName": "Lastname"},
        "emails": {"primaryEmail": f"p{i}@mail.example"},
        "dentalExecId": str(i),
    }
    return RecordTransformed(target_object="person", payload=payload, mapping_hash="m" * 64)


def run_ferry(path: Path, records: int, chunk: int) -> tuple[float, float]:
    """Append through Ferry's store; returns wall and CPU seconds spent appending."""
    store = EventStore.open(path, transition=Lifecycle().next_state)
    elapsed = cpu = 0.0
    for start in range(0, records, chunk):
        for batch in _chunk_batches(start, min(chunk, records - start)):
            began, began_cpu = time.perf_counter(), time.process_time()
            store.append(batch, run_id="bench")
            elapsed += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
    began, began_cpu = time.perf_counter(), time.process_time()
    store.close()  # counted: it waits for a background checkpoint still copying
    return elapsed + time.perf_counter() - began, cpu + time.process_time() - began_cpu


def run_raw(ferry_db: Path, raw_db: Path, chunk: int) -> tuple[float, float]:
    """Insert the rows Ferry stored into a plain table, with the same batch boundaries."""
    source = sqlite3.connect(ferry_db)
    conn = sqlite3.connect(raw_db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA wal_autocheckpoint=8192")
    conn.execute(RAW_SCHEMA)
    elapsed = cpu = 0.0
    cursor = source.execute("SELECT * FROM events ORDER BY position")
    sizes = [chunk * 3, chunk, chunk]
    step = 0
    while True:
        rows = cursor.fetchmany(sizes[step % 3])
        step += 1
        if not rows:
            break
        began, began_cpu = time.perf_counter(), time.process_time()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
    began, began_cpu = time.perf_counter(), time.process_time()
    conn.close()  # counted too: closing checkpoints what is left in the log
    elapsed, cpu = elapsed + time.perf_counter() - began, cpu + time.process_time() - began_cpu
    source.close()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=2_000, help="records per pipeline chunk")
    args = parser.parse_args()
    events = args.records * 5
    with tempfile.TemporaryDirectory() as tmp:
        ferry_db, raw_db = Path(tmp) / "ferry.db", Path(tmp) / "raw.db"
        ferry_s, ferry_cpu = run_ferry(ferry_db, args.records, args.chunk)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        raw_s, raw_cpu = run_raw(ferry_db, raw_db, args.chunk)
    ferry_rate, raw_rate = events / ferry_s, events / raw_s
    print(f"events appended        {events:>12,}")
    print(
        f"ferry store            {ferry_rate:>12,.0f} events/s  "
        f"({ferry_s:.2f} s, CPU {ferry_cpu:.2f} s)"
    )
    print(
        f"raw executemany        {raw_rate:>12,.0f} events/s  ({raw_s:.2f} s, CPU {raw_cpu:.2f} s)"
    )
    print(f"ratio ferry/raw        {ferry_rate / raw_rate:>12.1%}  (CPU {raw_cpu / ferry_cpu:.1%})")
    print(f"peak RSS after ferry   {rss_mb:>12,.0f} MB")


if __name__ == "__main__":
    main()

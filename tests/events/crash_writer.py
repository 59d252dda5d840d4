"""A writer for the crash test: appends tagged batches to a store until it is killed.

Batch i extracts 20 new records and transforms the 20 extracted by batch i-1, all tagged
with `batch-<i>` (source_file or mapping_hash), so a reader can tell whether any batch is
partially visible. On start it goes on after the last batch in the store.

    python -m tests.events.crash_writer STORE_PATH
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.lifecycle import Lifecycle
from events import checkpoint
from events.store import EventStore, NewEvent
from events.types import RecordExtracted, RecordTransformed, RunStarted

PER_BATCH = 20


def batch(i: int) -> list[NewEvent]:
    """The events of batch i (40 events, 20 for batch 0)."""
    tag = f"batch-{i}"
    events = [
        NewEvent(
            f"patient:{i}-{j}",
            RecordExtracted(source_file=tag, line=j, source_key=f"{i}-{j}", content_hash=tag),
            0,
        )
        for j in range(PER_BATCH)
    ]
    if i > 0:
        events += [
            NewEvent(
                f"patient:{i - 1}-{j}",
                RecordTransformed(target_object="person", mapping_hash=tag),
                1,
            )
            for j in range(PER_BATCH)
        ]
    return events


def main(path: Path) -> None:
    # Background checkpoints every few batches, so that kills land during them too.
    checkpoint.CHECKPOINT_ROWS = 200
    store = EventStore.open(path, transition=Lifecycle().next_state)
    done = store.connection.execute(
        "SELECT COUNT(DISTINCT json_extract(data, '$.source_file')) FROM events "
        "WHERE type = 'RecordExtracted'"
    ).fetchone()[0]
    store.append(
        [NewEvent(f"run:r{done}", RunStarted(run_id=f"r{done}", command="crash"))],
        run_id=f"r{done}",
    )
    i = done
    while True:
        store.append(batch(i), run_id=f"r{done}")
        i += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""Conflicts: records of Twenty that were not simply ours to write.

- ConflictDetected (rollback, delta): a record changed in Twenty since our last write, left
  alone or overwritten with `--force`; field names only.
- At load time: a unique value (email, domain) already held by a record that existed before
  us - linked (updated, restored first when soft-deleted) under `--on-conflict link`, or
  skipped / failed under `skip` / `fail`.
Rows are in the order they were recorded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from events.types import ConflictDetected, LoadFailed, RecordLoaded, decode

__all__ = ["CONFLICT_COLUMNS", "conflict_rows"]

CONFLICT_COLUMNS = (
    "recorded_at",
    "run_id",
    "command",
    "record",
    "destination_id",
    "kind",
    "fields",
    "resolution",
)

_SQL = """
SELECT e.recorded_at, e.run_id, e.stream_id, e.type, e.data FROM events e
WHERE e.type = 'ConflictDetected'
   OR (e.type = 'RecordLoaded' AND json_extract(e.data, '$.outcome') = 'linked')
   OR (e.type = 'LoadFailed' AND json_extract(e.data, '$.code') LIKE 'CONFLICT%')
ORDER BY e.position
"""


def conflict_rows(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every conflict recorded, oldest first."""
    for recorded_at, run_id, stream_id, _type, data in conn.execute(_SQL):
        event = decode(data)
        row: dict[str, Any] = {"recorded_at": recorded_at, "run_id": run_id}
        if isinstance(event, ConflictDetected):
            row |= {
                "command": event.command,
                "record": event.stream_id,
                "destination_id": event.destination_id,
                "kind": "missing_in_twenty" if event.missing else "edited_in_twenty",
                "fields": list(event.fields),
                "resolution": event.resolution,
            }
        elif isinstance(event, RecordLoaded):
            row |= {
                "command": "load",
                "record": stream_id,
                "destination_id": event.destination_id,
                "kind": "existing_record",
                "fields": [],
                "resolution": "linked_restored" if event.was_soft_deleted else "linked",
            }
        elif isinstance(event, LoadFailed):
            resolution = "skipped" if event.code == "CONFLICT_SKIPPED" else "failed"
            row |= {"command": "load", "record": stream_id, "destination_id": "",
                    "kind": "existing_record", "fields": [event.field] if event.field else [],
                    "resolution": resolution}  # fmt: skip
        yield row

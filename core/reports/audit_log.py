"""The audit log: every source record, where it went, where it ended, and when.

One row per record stream, read with a cursor over the store (constant memory): entity,
source key, Twenty id, final lifecycle state, the time of its first and last event.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

__all__ = ["AUDIT_COLUMNS", "audit_log_rows"]

AUDIT_COLUMNS = (
    "entity",
    "source_key",
    "destination_id",
    "final_state",
    "first_event_at",
    "last_event_at",
    "events",
)

_SQL = """
SELECT r.entity, r.source_key, r.destination_id, r.state,
    (SELECT e.recorded_at FROM events e WHERE e.stream_id = r.stream_id AND e.version = 1),
    (SELECT e.recorded_at FROM events e WHERE e.stream_id = r.stream_id AND e.version = r.version),
    r.version
FROM record_state r ORDER BY r.stream_id
"""


def audit_log_rows(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every record's row, in stream order, streamed from the store."""
    for values in conn.execute(_SQL):
        yield dict(zip(AUDIT_COLUMNS, values, strict=True))

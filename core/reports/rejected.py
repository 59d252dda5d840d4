"""Records that did not make it, with every reason: refused by validation or by Twenty.

A record counts when its final state is `rejected` (RecordRejected: one row per reason) or
`load_failed` for a cause a rerun will not cure (LoadFailed, not retryable: Twenty's
refusal, a conflict with an existing record under `--on-conflict fail|skip`). Messages are
the ones recorded, which never carry patient values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from events.types import LoadFailed, RecordRejected, decode

__all__ = ["REJECTED_COLUMNS", "rejected_rows"]

REJECTED_COLUMNS = ("entity", "source_key", "stage", "field", "code", "message")

_SQL = """
SELECT r.entity, r.source_key, e.data FROM record_state r
JOIN events e ON e.stream_id = r.stream_id AND e.position = (
    SELECT MAX(x.position) FROM events x
    WHERE x.stream_id = r.stream_id AND x.type IN ('RecordRejected', 'LoadFailed'))
WHERE r.state IN ('rejected', 'load_failed') ORDER BY r.stream_id
"""


def rejected_rows(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """One row per reason a record was refused, in stream order."""
    for entity, key, data in conn.execute(_SQL):
        event = decode(data)
        base = {"entity": entity, "source_key": key}
        if isinstance(event, RecordRejected):
            for reason in event.reasons:
                yield {**base, "stage": "validation", "field": reason.field,
                       "code": reason.code, "message": reason.message}  # fmt: skip
        elif isinstance(event, LoadFailed) and not event.retryable:
            yield {**base, "stage": "load", "field": event.field, "code": event.code,
                   "message": event.message}  # fmt: skip

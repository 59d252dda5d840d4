"""Every assignment that fell back to a default member: which record, field and provider.

The transform notes `member_defaulted:<field>:<provider code>` in RecordValidated when a
provider code of the export matched no workspace member; the record was then assigned the
placeholder member of `run.placeholder_owner` (or left unassigned). The value actually sent
is read from the record's RecordTransformed payload.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from events.types import RecordTransformed, RecordValidated, decode

__all__ = ["MEMBER_DEFAULT_COLUMNS", "member_default_rows"]

MEMBER_DEFAULT_COLUMNS = ("entity", "source_key", "field", "provider_code", "assigned_member")
PREFIX = "member_defaulted:"

_SQL = """
SELECT r.entity, r.source_key, e.type, e.data FROM record_state r
JOIN events e ON e.stream_id = r.stream_id AND e.type IN ('RecordTransformed', 'RecordValidated')
WHERE EXISTS (SELECT 1 FROM events v WHERE v.stream_id = r.stream_id
    AND v.type = 'RecordValidated' AND v.data LIKE '%member_defaulted:%')
ORDER BY r.stream_id, e.position
"""


def member_default_rows(
    conn: sqlite3.Connection, placeholder: str = ""
) -> Iterator[dict[str, Any]]:
    """One row per defaulted assignment, from each record's latest validation."""
    current: tuple[str, str] | None = None
    payload: dict[str, Any] = {}
    warnings: list[str] = []
    for entity, key, _type, data in conn.execute(_SQL):
        if current != (entity, key):
            if current is not None:
                yield from _rows(current, payload, warnings, placeholder)
            current, payload, warnings = (entity, key), {}, []
        event = decode(data)
        if isinstance(event, RecordTransformed):
            payload = event.payload
        elif isinstance(event, RecordValidated):
            warnings = event.warnings
    if current is not None:
        yield from _rows(current, payload, warnings, placeholder)


def _rows(
    record: tuple[str, str], payload: dict[str, Any], warnings: list[str], placeholder: str
) -> Iterator[dict[str, Any]]:
    for warning in warnings:
        if not warning.startswith(PREFIX):
            continue
        field, _, code = warning[len(PREFIX) :].partition(":")
        sent = payload.get(field)
        member = f"{placeholder} ({sent})" if sent and placeholder else sent or "(unassigned)"
        yield {"entity": record[0], "source_key": record[1], "field": field,
               "provider_code": code, "assigned_member": member}  # fmt: skip

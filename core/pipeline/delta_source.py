"""The source as a delta sees it: the delta bundle's rows over every row the store knows.

A delta bundle holds only the rows modified since a date, but a record's payload depends on
other rows too: a patient's on its custom fields, referrals and family's emails, a treatment's
on its procedure lines, an insurance's on its claims. `MergedSource` gives the transform
pre-pass the whole picture: the bundle's rows first, then, for every key the bundle does not
hold, the row last extracted into the store (the latest RecordExtracted of its stream). So a
second delta builds on the first, never on the original export.

`owners_to_refresh` names the records whose payload may change although their own row did
not: the owners of custom-field, referral, procedure and claim rows that are new or changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from core.export_format import CUSTOM_RECORD_ENTITY, file_for_entity
from core.mapping.headers import describe_file
from core.ports.source import ExportInfo, Source, SourceFile, SourceRow
from core.values import ValueParseError, parse_bool, parse_id
from events.types import RecordExtracted, decode

__all__ = [
    "MergedSource",
    "extracted_row",
    "is_source_deleted",
    "owners_to_refresh",
    "store_rows",
]

# Rows whose content lands in another record's payload: entity -> (column, owner entity).
_FOLDED = {
    "referral": ("patient_id", "patient"),
    "procedure": ("plan_id", "treatment_plan"),
    "claim": ("policy_id", "insurance_policy"),
}


def is_source_deleted(entity: str, values: dict[str, str | None]) -> bool:
    """The reader's rule: patient `Status = Deleted`, else the file's Deleted column."""
    if entity == "patient":
        return (values.get("status") or "").strip().lower() == "deleted"
    column = file_for_entity(entity).deleted_column
    try:
        return column is not None and parse_bool(values.get(column)) is True
    except ValueParseError:
        return False


def store_rows(conn: sqlite3.Connection, entity: str) -> Iterator[SourceRow]:
    """The row last extracted for each keyed stream of the entity still in the source."""
    sql = (
        "SELECT e.data FROM record_state rs JOIN events e ON e.stream_id = rs.stream_id "
        "WHERE rs.stream_id >= ? AND rs.stream_id < ? AND rs.state NOT IN ('removed') "
        "AND e.type = 'RecordExtracted' AND e.version = (SELECT MAX(x.version) FROM events x "
        "WHERE x.stream_id = rs.stream_id AND x.type = 'RecordExtracted') ORDER BY rs.stream_id"
    )
    for (data,) in conn.execute(sql, (f"{entity}:", f"{entity};")).fetchall():
        event = decode(data)
        if not isinstance(event, RecordExtracted) or event.source_key.startswith("@"):
            continue
        yield extracted_row(entity, event)


def extracted_row(entity: str, event: RecordExtracted) -> SourceRow:
    """The source row a RecordExtracted recorded, as the reader gave it."""
    return SourceRow(
        entity=entity,
        file=event.source_file,
        line=event.line,
        key=event.source_key,
        content_hash=event.content_hash,
        values=dict(event.row),
        is_deleted=is_source_deleted(entity, event.row),
    )


def _has_streams(conn: sqlite3.Connection, entity: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM record_state WHERE stream_id >= ? AND stream_id < ? LIMIT 1",
        (f"{entity}:", f"{entity};"),
    ).fetchone()
    return found is not None


class MergedSource:
    """A delta bundle's rows over the store's (or, for entities never run, the base's)."""

    def __init__(self, delta: Source, base: Source, conn: sqlite3.Connection) -> None:
        self._delta = delta
        self._base = base
        self._conn = conn

    @property
    def location(self) -> str:
        """The delta bundle's location."""
        return self._delta.location

    def export_info(self) -> ExportInfo:
        """The delta bundle's `_export_info.txt`."""
        return self._delta.export_info()

    def entities(self) -> list[str]:
        """Entities of the delta, then those only the base export has."""
        own = self._delta.entities()
        return [*own, *(e for e in self._base.entities() if e not in own)]

    def inventory(self) -> list[SourceFile]:
        """The files of the delta, and the base's files for the other entities."""
        return [self.describe(entity) for entity in self.entities()]

    def describe(self, entity: str) -> SourceFile:
        """The file of an entity: the delta's when it has one, else the base's.

        Raises:
            KeyError: when neither export holds the entity.
        """
        own = entity in self._delta.entities()
        return describe_file(self._delta if own else self._base, entity)

    def header_cells(self, entity: str) -> tuple[str, ...]:
        """The header cells as written in the file `describe` names."""
        owner = self._delta if entity in self._delta.entities() else self._base
        cells: Any = getattr(owner, "header_cells", None)
        return tuple(cells(entity)) if callable(cells) else ()

    def rows(self, entity: str) -> Iterator[SourceRow]:
        """The delta's rows of the entity, then the known rows of every other key."""
        keys: set[str] = set()
        if entity in self._delta.entities():
            for row in self._delta.rows(entity):
                if row.key is not None:
                    keys.add(row.key)
                yield row
        known = (
            store_rows(self._conn, entity)
            if _has_streams(self._conn, entity)
            else self._base.rows(entity)
        )
        for row in known:
            if row.key is not None and row.key not in keys:
                yield row


def _owner(row: SourceRow) -> str | None:
    if row.entity == "custom_field":
        kind = (row.values.get("record_type") or "").strip().lower()
        entity = CUSTOM_RECORD_ENTITY.get(kind)
        column = "record_id"
    elif row.entity in _FOLDED:
        column, entity = _FOLDED[row.entity]
    else:
        return None
    try:
        owner_id = parse_id(row.values.get(column))
    except ValueParseError:
        return None
    return None if entity is None or owner_id is None else f"{entity}:{owner_id}"


def owners_to_refresh(source: Source, conn: sqlite3.Connection) -> frozenset[str]:
    """Owner streams of the folded rows (custom fields, ...) that are new or changed."""
    owners: set[str] = set()
    for entity in ("custom_field", *_FOLDED):
        if entity not in source.entities():
            continue
        for row in source.rows(entity):
            owner = _owner(row)
            if owner is None or row.stream_id is None:
                continue
            known = conn.execute(
                "SELECT content_hash FROM record_state WHERE stream_id = ?", (row.stream_id,)
            ).fetchone()
            if known is None or known[0] != row.content_hash:
                owners.add(owner)
    return frozenset(owners)

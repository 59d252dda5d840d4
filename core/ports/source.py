"""The Source port: what the migration needs from a Dental-Exec export, and the row contract.

A Source streams rows per entity. Every row carries where it came from (file and the physical
line where it starts), its source key, a content hash that stays the same across re-exports of
unchanged content, its values (canonical column name -> trimmed raw text or None) and its
row-level errors. A row with errors is still yielded, so that it can be rejected on record;
nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Protocol

import msgspec

__all__ = ["ExportInfo", "RowError", "Source", "SourceFile", "SourceRow"]


class RowError(msgspec.Struct, frozen=True):
    """One problem with one row. The message names no patient value.

    Codes: `column_count`, `undecodable_bytes`, `broken_quoting`, `missing_required`,
    `bad_integer`, `bad_value`, `bad_key`.
    """

    file: str
    line: int
    column: str | None
    code: str
    message: str


class SourceRow(msgspec.Struct, frozen=True):
    """One data row of one export file.

    Attributes:
        entity: singular entity name (`patient`), see core.export_format.ENTITIES.
        file: the file name inside the export.
        line: the physical line (1-based) where the row starts.
        key: the source key: the primary key as a canonical integer string (`10482`), or
            `<Record Type>:<Record ID>:<Field Key>` for custom fields; None when unreadable.
        content_hash: SHA-256 hex of the normalized row (independent of column order,
            encoding and ID zero-padding).
        values: canonical column name -> trimmed raw text, None for empty. Unknown headers
            appear under `?<header>`.
        errors: the row-level errors; empty for a clean row.
        is_deleted: a soft-deleted row (`Deleted = Y`, patient `Status = Deleted`).
    """

    entity: str
    file: str
    line: int
    key: str | None
    content_hash: str
    values: dict[str, str | None]
    errors: tuple[RowError, ...] = ()
    is_deleted: bool = False

    @property
    def stream_id(self) -> str | None:
        """`<entity>:<key>`, the id of this record's event stream; None without a key."""
        return None if self.key is None else f"{self.entity}:{self.key}"


class SourceFile(msgspec.Struct, frozen=True):
    """One file of the export, as found: headers, encoding and, once read, counts and notes.

    Attributes:
        rows: data rows yielded (trailers and blank lines excluded); None before a full read.
        error_rows: rows that carry at least one RowError; None before a full read.
        headers_recognised: header text -> canonical column name.
        headers_unknown: headers that match no column (their values are kept under `?<h>`).
        columns_missing: canonical columns of the format absent from the header.
        notes: what the reader noticed and handled (trailer rows, blank lines, ...).
        headers_repeated: (header as written, first position, repeated position), 1-based:
            a column that appears twice; its second copy is kept apart, never used.
    """

    entity: str
    name: str
    encoding: str
    headers_recognised: dict[str, str]
    headers_unknown: tuple[str, ...] = ()
    columns_missing: tuple[str, ...] = ()
    rows: int | None = None
    error_rows: int | None = None
    notes: tuple[str, ...] = ()
    headers_repeated: tuple[tuple[str, int, int], ...] = ()


class ExportInfo(msgspec.Struct, frozen=True):
    """The `_export_info.txt` of a bundle (all fields None when the file is absent)."""

    product: str | None = None
    exported_at: datetime | None = None
    practice_code: str | None = None
    location_ids: tuple[int, ...] = ()
    modified_since: date | None = None
    include_deleted: bool | None = None
    encoding: str | None = None
    extra: dict[str, str] = {}

    @property
    def is_delta(self) -> bool:
        """True when `Modified Since` is set: rows absent from the bundle are not deleted."""
        return self.modified_since is not None


class Source(Protocol):
    """A Dental-Exec export that can be read entity by entity, streaming."""

    @property
    def location(self) -> str:
        """Where the export is (a path), for messages."""
        ...

    def export_info(self) -> ExportInfo:
        """The export's `_export_info.txt`."""
        ...

    def entities(self) -> list[str]:
        """The entities present in the export, in export order."""
        ...

    def inventory(self) -> list[SourceFile]:
        """Every file found, with headers and encoding; row counts after a full read.

        Reading counts rows if no full read has happened yet (one streaming pass).
        """
        ...

    def rows(self, entity: str) -> Iterator[SourceRow]:
        """Stream the rows of one entity in file order; rows with errors are yielded too.

        Raises:
            KeyError: when the entity is not in the export.
        """
        ...

"""Which header each export file has, and what the reader calls its column."""

from __future__ import annotations

from core.export_format import header_key
from core.mapping.model import FileMapping, Mapping
from core.ports.source import Source, SourceFile

__all__ = ["describe_file", "file_headers", "header_meanings", "reader_renames"]


def describe_file(source: Source, entity: str) -> SourceFile:
    """The SourceFile of one entity, without a full read when the source can describe cheaply.

    Raises:
        KeyError: when the entity is not in the export.
    """
    describe = getattr(source, "describe", None)
    if callable(describe):
        found = describe(entity)
        assert isinstance(found, SourceFile)
        return found
    for item in source.inventory():
        if item.entity == entity:
            return item
    raise KeyError(entity)


def file_headers(source: Source, entity: str) -> list[tuple[str, str]]:
    """(header as written, the reader's name for it: canonical or `?<header>`), in file order.

    Raises:
        KeyError: when the entity is not in the export.
    """
    described = describe_file(source, entity)
    names = dict(described.headers_recognised)
    names.update({header: f"?{header}" for header in described.headers_unknown})
    cells_of = getattr(source, "header_cells", None)
    order = [c.strip().lstrip("\ufeff") for c in cells_of(entity)] if callable(cells_of) else []
    ordered = [h for h in order if h in names]
    ordered += [h for h in names if h not in ordered]
    return [(header, names[header]) for header in ordered]


def reader_renames(headers: list[tuple[str, str]], file: FileMapping) -> dict[str, str]:
    """Reader column name -> the mapping's canonical column ("" for ignored or unknown ones)."""
    by_header = {header_key(c.header): c for c in file.columns}
    renames: dict[str, str] = {}
    for header, reader_name in headers:
        column = by_header.get(header_key(header))
        renames[reader_name] = "" if column is None or column.is_ignored else column.column
    return renames


def header_meanings(mapping: Mapping) -> dict[str, dict[str, str]]:
    """What each header means, for the reader: entity -> {header as written -> column}.

    The mapping is the one truth about every header: the reader decides keys, parent keys,
    deleted flags and statuses from these names, not from its own labels. A column of no
    known meaning maps to "".
    """
    return {
        entity: {column.header: column.column for column in file.columns}
        for entity, file in mapping.files.items()
    }

"""What must hold before any row is mapped: each required column present once, each file of
the format present (or its absence acknowledged at `ferry map confirm --allow-missing`).

Required columns are the format's keys and required columns (`core/export_format`: primary
keys, parent keys and `req` columns) and the columns the mapping links by `ref` without
`optional`: without them rows would load with values silently lost.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import BadInputError
from core.export_format import ENTITIES, FILES, file_for_entity
from core.ports.source import Source, SourceFile

__all__ = ["absent_files", "check_columns_ready", "entity_of_file", "file_label", "missing_files"]


def file_label(entity: str) -> str:
    """The file name an entity is exported as (`payment` -> `payments.csv`)."""
    return f"{file_for_entity(entity).prefix}.csv"


def entity_of_file(name: str) -> str | None:
    """The entity an operator means by `payments`, `payments.csv` or `payment`; None if none."""
    text = name.strip().lower().removesuffix(".csv")
    for spec in FILES:
        if text in (spec.entity, spec.prefix, spec.prefix.rstrip("s")):
            return spec.entity
    return None


def absent_files(source: Source) -> tuple[str, ...]:
    """Entities of the format with no file in a full export (a delta holds only what changed)."""
    if source.export_info().is_delta:
        return ()
    present = set(source.entities())
    return tuple(entity for entity in ENTITIES if entity not in present)


def missing_files(source: Source, acknowledged: Iterable[str]) -> tuple[str, ...]:
    """Absent files whose absence was not acknowledged."""
    allowed = set(acknowledged)
    return tuple(entity for entity in absent_files(source) if entity not in allowed)


def check_columns_ready(source: Source, ref_columns: dict[str, set[str]] | None = None) -> None:
    """Refuse an export whose header lacks a required column, repeats a column or cannot be read.

    Raises:
        BadInputError: naming the first problem's file and column (and how many there are).
    """
    problems: list[_Problem] = []
    for entity in source.entities():
        problems += _file_problems(_describe(source, entity), (ref_columns or {}).get(entity, ()))
    if problems:
        file, column, message = problems[0]
        more = f" ({len(problems) - 1} more header problem(s))" if len(problems) > 1 else ""
        raise BadInputError(message + more, file=file, line=1, column=column or None)


_Problem = tuple[str, str, str]  # file, column, message


def _file_problems(described: SourceFile, refs: Iterable[str]) -> list[_Problem]:
    spec = file_for_entity(described.entity)
    if not described.headers_recognised and not described.headers_unknown:
        return [
            (
                described.name,
                "",
                "no header row (the file is empty): every column is missing; export it again, "
                "or delete it and confirm with `--allow-missing "
                f"{spec.prefix}`",
            )
        ]
    problems = [
        (
            described.name,
            header,
            f"the header holds this column twice (columns {first} and {second}); delete one "
            "copy (keep the right one) or export again, then retry",
        )
        for header, first, second in described.headers_repeated
    ]
    unreadable = any("\ufffd" in header for header in described.headers_unknown)
    why = (
        "missing or unreadable (a header cell holds undecodable bytes)"
        if unreadable
        else ("missing")
    )
    needed = [c.name for c in spec.columns if c.required]
    needed += [name for name in refs if name not in needed]
    for name in needed:
        if name in described.columns_missing:
            label = spec.column(name).label if name in {c.name for c in spec.columns} else name
            problems.append(
                (
                    described.name,
                    label,
                    f"required column {why}: its values would be lost; export again with "
                    "this column (or correct the header row), then retry",
                )
            )
    return problems


def _describe(source: Source, entity: str) -> SourceFile:
    describe = getattr(source, "describe", None)
    if callable(describe):
        found = describe(entity)
        assert isinstance(found, SourceFile)
        return found
    return next(item for item in source.inventory() if item.entity == entity)

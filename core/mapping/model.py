"""The mapping file (`mapping.toml`): what each source column becomes in Twenty.

Human-editable TOML with a stable order (files in export order, columns in header order,
value maps by name), so that two proposals of the same export are byte-identical and a
confirmed file has one hash. Every source column is either mapped (a transform and a target
field) or explicitly ignored with a reason.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import msgspec

from core.errors import FerryError
from core.export_format import ENTITIES
from core.toml_text import toml_key, toml_string, toml_value
from events.private_files import write_private

__all__ = [
    "ColumnMapping",
    "FileMapping",
    "Mapping",
    "MappingError",
    "ValueMap",
    "dump_mapping",
    "load_mapping",
    "mapping_hash",
    "parse_mapping",
    "write_mapping",
]

FORMAT_VERSION = 1


class MappingError(FerryError):
    """The mapping file is missing, unreadable or inconsistent; the operator must fix it."""


class ColumnMapping(msgspec.Struct, kw_only=True):
    """One source column: what it means (`column`) and what it becomes (transform, target).

    Attributes:
        header: the header text as written in the export.
        column: the canonical Dental-Exec column it holds (`birth_date`); "" when unknown.
        transform: how the value is converted (`text`, `date`, `select`, ...) or `ignore`.
        target: the Twenty field (`birthDate`, `name.firstName` for a composite's part).
        value_map: for `select`: the value map that converts its codes.
        label: for `body`/`extra` lines: the label written before the value.
        entity: for `ref`/`target`: the entity the ID points into.
        rank: order among columns feeding one target (phones, assignee).
        optional: for `ref`: a missing parent leaves the link empty instead of rejecting.
        reason: why an ignored column is ignored.
        confidence: the proposer's confidence (0-1) that `column` is right.
        evidence: what the confidence rests on (header similarity, value profile).
    """

    header: str
    column: str
    transform: str
    target: str = ""
    value_map: str = ""
    label: str = ""
    entity: str = ""
    rank: int = 0
    optional: bool = False
    reason: str = ""
    confidence: float = 1.0
    evidence: str = ""

    @property
    def is_ignored(self) -> bool:
        """True for an explicitly ignored column."""
        return self.transform == "ignore"


class FileMapping(msgspec.Struct, kw_only=True):
    """One export file: its Twenty object (empty: no records of its own) and its columns."""

    file: str
    target: str = ""
    plural: str = ""
    columns: list[ColumnMapping] = msgspec.field(default_factory=list)

    def by_column(self) -> dict[str, ColumnMapping]:
        """Canonical column -> its mapping (ignored and unknown columns left out)."""
        return {c.column: c for c in self.columns if c.column and not c.is_ignored}


class ValueMap(msgspec.Struct, kw_only=True):
    """An enumeration: source codes -> target option values.

    Attributes:
        target: the Twenty field the options belong to (`task.status`).
        values: source code (as written) -> option value (UPPER_SNAKE).
        fallback: the option for a code not in `values` ("" rejects such a row).
        unplaced: codes seen in the export that the proposer could not place.
    """

    target: str
    values: dict[str, str] = msgspec.field(default_factory=dict)
    fallback: str = ""
    unplaced: list[str] = msgspec.field(default_factory=list)

    def lookup(self, code: str) -> str | None:
        """The option for a code, compared trimmed and case-insensitively; None if unplaced."""
        wanted = _code_key(code)
        for source, option in self.values.items():
            if _code_key(source) == wanted:
                return option
        return None


def _code_key(text: str) -> str:
    return " ".join(text.split()).casefold()


class Mapping(msgspec.Struct, kw_only=True):
    """The whole mapping: files by entity, value maps by name."""

    version: int = FORMAT_VERSION
    source: str = ""
    files: dict[str, FileMapping] = msgspec.field(default_factory=dict)
    value_maps: dict[str, ValueMap] = msgspec.field(default_factory=dict)

    def value_map(self, name: str) -> ValueMap:
        """The value map called `name`.

        Raises:
            MappingError: when the mapping has no such value map.
        """
        try:
            return self.value_maps[name]
        except KeyError:
            raise MappingError(
                f"mapping.toml has no [value_maps.{name}]; add it or re-run `ferry map propose`"
            ) from None


def parse_mapping(text: str, *, where: str = "mapping.toml") -> Mapping:
    """Parse mapping TOML text.

    Raises:
        MappingError: when the text is not valid TOML or not a mapping (names the place).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{where}: not valid TOML ({error})") from None
    try:
        mapping = msgspec.convert(data, Mapping)
    except msgspec.ValidationError as error:
        raise MappingError(f"{where}: {error}") from None
    unknown = [entity for entity in mapping.files if entity not in ENTITIES]
    if unknown:
        raise MappingError(
            f"{where}: unknown file entity {unknown[0]!r}; use {', '.join(ENTITIES)}"
        )
    if mapping.version != FORMAT_VERSION:
        raise MappingError(f"{where}: version {mapping.version} is not {FORMAT_VERSION}")
    return mapping


def load_mapping(path: Path) -> Mapping:
    """Read `mapping.toml`.

    Raises:
        MappingError: when the file is missing or invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"no mapping at {path}; run `ferry map propose EXPORT` first") from None
    return parse_mapping(text, where=str(path))


def mapping_hash(text: str | bytes) -> str:
    """SHA-256 hex of the mapping file's bytes (what MappingConfirmed records)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def write_mapping(mapping: Mapping, path: Path) -> str:
    """Write `mapping.toml` (stable order) and return its hash."""
    text = dump_mapping(mapping)
    write_private(path, text)
    return mapping_hash(text)


_HEADER = """\
# Ferry mapping: Dental-Exec export -> Twenty CRM.
# Each source column is mapped (transform + target field) or ignored with a reason.
# Edit freely, then `ferry map confirm`; `ferry map diff` shows changes since then.
# Transforms and value maps are described in docs/mapping.md.
"""
_COLUMN_KEYS = ("value_map", "label", "entity", "rank", "optional", "reason")


def dump_mapping(mapping: Mapping) -> str:
    """The mapping as TOML text, in a stable order."""
    lines = [_HEADER, f"version = {mapping.version}", f"source = {toml_string(mapping.source)}", ""]
    for entity in sorted(mapping.files, key=_entity_order):
        lines.extend(_file_lines(entity, mapping.files[entity]))
    for name in sorted(mapping.value_maps):
        lines.extend(_value_map_lines(name, mapping.value_maps[name]))
    return "\n".join(lines).rstrip("\n") + "\n"


def _entity_order(entity: str) -> int:
    return ENTITIES.index(entity) if entity in ENTITIES else len(ENTITIES)


def _file_lines(entity: str, file: FileMapping) -> list[str]:
    lines = [f"[files.{toml_key(entity)}]", f"file = {toml_string(file.file)}"]
    lines += [f"target = {toml_string(file.target)}", f"plural = {toml_string(file.plural)}", ""]
    for column in file.columns:
        lines.append(f"[[files.{toml_key(entity)}.columns]]")
        lines.append(f"header = {toml_string(column.header)}")
        lines.append(f"column = {toml_string(column.column)}")
        lines.append(f"transform = {toml_string(column.transform)}")
        if column.target:
            lines.append(f"target = {toml_string(column.target)}")
        for name in _COLUMN_KEYS:
            value = getattr(column, name)
            if value not in ("", 0, False):
                lines.append(f"{name} = {toml_value(value)}")
        lines.append(f"confidence = {float(column.confidence):.2f}")
        if column.evidence:
            lines.append(f"evidence = {toml_string(column.evidence)}")
        lines.append("")
    return lines


def _value_map_lines(name: str, value_map: ValueMap) -> list[str]:
    lines = [f"[value_maps.{toml_key(name)}]", f"target = {toml_string(value_map.target)}"]
    lines.append(f"fallback = {toml_string(value_map.fallback)}")
    lines.append(f"unplaced = {toml_value(value_map.unplaced)}")
    lines.append(f"[value_maps.{toml_key(name)}.values]")
    lines.extend(
        f"{toml_string(code)} = {toml_string(option)}" for code, option in value_map.values.items()
    )
    lines.append("")
    return lines

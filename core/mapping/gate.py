"""The confirmation gate: nothing moves until the operator has confirmed `mapping.toml`.

`confirm_mapping` checks the file, keeps a copy (`mapping.confirmed.toml`, for `diff`) and
records MappingConfirmed with the file's hash. `check_gate` is what `schema apply`, `sample`
and `run` call first: it refuses while the file differs from the confirmed one, when the
export has a file or a column the mapping does not know (the message names it), when a
required column is missing, repeated or unreadable, and when a file is absent from the export
without the acknowledgement recorded at confirmation (`MappingConfirmed.absent_files`).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from core.export_format import file_for_entity, header_key
from core.mapping.engine import ENTITY_TRANSFORMS, GENERIC_TRANSFORMS
from core.mapping.headers import file_headers, header_meanings
from core.mapping.model import (
    FileMapping,
    Mapping,
    MappingError,
    load_mapping,
    mapping_hash,
    parse_mapping,
)
from core.ports.source import Source
from core.source_audit.readiness import (
    absent_files,
    check_columns_ready,
    entity_of_file,
    file_label,
    missing_files,
)
from events.private_files import write_private
from events.store import EventStore, NewEvent
from events.types import MappingConfirmed

__all__ = [
    "CONFIRMED_NAME",
    "MappingChange",
    "MappingNotConfirmedError",
    "MissingFileError",
    "MissingKeyColumnError",
    "UnknownColumnError",
    "check_columns",
    "check_gate",
    "check_mapping",
    "confirm_mapping",
    "confirmed_absent",
    "confirmed_hash",
    "confirmed_headers",
    "diff_mappings",
    "load_confirmed",
]

CONFIRMED_NAME = "mapping.confirmed.toml"


class MappingNotConfirmedError(MappingError):
    """The mapping was never confirmed, or changed since; confirm it (after `ferry map diff`)."""


class UnknownColumnError(MappingError):
    """The export has a file or column the mapping does not know; map or ignore it first."""


class MissingKeyColumnError(MappingError):
    """The header the mapping reads a file's key from is not in the export; map the right one."""


class MappingChange(msgspec.Struct, frozen=True):
    """One difference between the confirmed mapping and the current one."""

    where: str  # `files.patient.columns[Birth Date].target`, `value_maps.gender.values[M]`
    before: str
    after: str


def check_mapping(mapping: Mapping) -> list[str]:
    """Problems that make a mapping unusable (unknown transforms, missing value maps)."""
    known = set(GENERIC_TRANSFORMS) | ENTITY_TRANSFORMS
    problems = []
    for entity, file in mapping.files.items():
        names = _format_columns(entity)
        claimed: dict[str, str] = {}
        for column in file.columns:
            where = f"files.{entity} column {column.header!r}"
            if column.column and names is not None and column.column not in names:
                problems.append(
                    f"{where}: {column.column!r} is not a column of {file.file or entity}; "
                    'use one of its columns or "" (unknown)'
                )
            elif column.column and claimed.get(column.column, column.header) != column.header:
                # (The same header twice is the export's repeat: the export check names it.)
                problems.append(
                    f"{where}: column {column.column!r} is already given to header "
                    f"{claimed[column.column]!r}; a column has one header"
                )
            claimed.setdefault(column.column, column.header)
            if column.transform not in known:
                problems.append(f"{where}: unknown transform {column.transform!r}")
            if column.is_ignored and not column.reason:
                problems.append(f"{where}: an ignored column needs a reason")
            if column.value_map and column.value_map not in mapping.value_maps:
                problems.append(f"{where}: value map {column.value_map!r} is missing")
    return problems


def _format_columns(entity: str) -> set[str] | None:
    try:
        return {column.name for column in file_for_entity(entity).columns}
    except KeyError:
        return None


def confirm_mapping(
    path: Path,
    store: EventStore,
    user: str,
    source: Source | None = None,
    allow_missing: tuple[str, ...] = (),
) -> MappingConfirmed:
    """Check the mapping (and the export, when given), keep a copy for `diff` and record
    MappingConfirmed with the files acknowledged as absent (`allow_missing`).

    Raises:
        MappingError: when the file is missing, invalid or unusable, or a name in
            `allow_missing` is no file of the format.
        BadInputError: a required column of the export is missing, repeated or unreadable.
        MissingFileError: a file is absent from the export and not in `allow_missing`.
    """
    data = _read_bytes(path)
    mapping = parse_mapping(data.decode("utf-8"), where=str(path))
    problems = check_mapping(mapping)
    if problems:
        raise MappingError(f"{path}: {problems[0]} ({len(problems)} problem(s)); fix and retry")
    allowed = _allowed_entities(allow_missing)
    if source is not None:
        check_columns_ready(source, _ref_columns(mapping))
        _refuse_missing(missing_files(source, allowed))
        allowed = tuple(e for e in absent_files(source) if e in allowed)
    write_private(path.parent / CONFIRMED_NAME, data)
    event = MappingConfirmed(
        mapping_hash=mapping_hash(data), user=user, absent_files=",".join(allowed)
    )
    store.append([NewEvent("migration", event)])
    return event


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MappingError(f"no mapping at {path}; run `ferry map propose EXPORT` first") from None


class MissingFileError(MappingError):
    """A file of the format is absent from the export and its absence was not acknowledged."""


def _allowed_entities(names: tuple[str, ...]) -> tuple[str, ...]:
    entities = []
    for name in names:
        entity = entity_of_file(name)
        if entity is None:
            raise MappingError(
                f"--allow-missing {name!r} is no file of the export format; name it as "
                "`payments`, `payments.csv` or `payment`"
            )
        entities.append(entity)
    return tuple(dict.fromkeys(entities))


def _refuse_missing(missing: tuple[str, ...]) -> None:
    if not missing:
        return
    names = ", ".join(file_label(e) for e in missing)
    flags = " ".join(f"--allow-missing {file_label(e).removesuffix('.csv')}" for e in missing)
    raise MissingFileError(
        f"{names}: absent from the export; add the file(s) to the export, or, if this export "
        f"is meant to hold none, acknowledge it: `ferry map confirm {flags}`"
    )


def _ref_columns(mapping: Mapping) -> dict[str, set[str]]:
    """Per entity, the columns the mapping links by `ref` without `optional`: required."""
    return {
        entity: {
            c.column for c in file.columns if c.transform == "ref" and not c.optional and c.column
        }
        for entity, file in mapping.files.items()
    }


def confirmed_absent(store: EventStore) -> tuple[str, ...]:
    """The entities acknowledged as absent at the last confirmation."""
    found: tuple[str, ...] = ()
    for stored in store.read("stream_id = 'migration' AND type = 'MappingConfirmed'"):
        assert isinstance(stored.event, MappingConfirmed)
        found = tuple(filter(None, stored.event.absent_files.split(",")))
    return found


def confirmed_hash(store: EventStore) -> str | None:
    """The hash of the last confirmed mapping, or None when none was confirmed."""
    found = None
    for stored in store.read("stream_id = 'migration' AND type = 'MappingConfirmed'"):
        assert isinstance(stored.event, MappingConfirmed)
        found = stored.event.mapping_hash
    return found


def check_gate(path: Path, store: EventStore, source: Source | None = None) -> Mapping:
    """The confirmed mapping, or a refusal that says what to do.

    Raises:
        MappingNotConfirmedError: no confirmation, or the file changed since.
        UnknownColumnError: the export has a file or column the mapping does not know.
        BadInputError: a required column of the export is missing, repeated or unreadable.
        MissingFileError: a file is absent from the export and was not acknowledged.
        MappingError: the file is missing or invalid.
    """
    data = _read_bytes(path)
    expected = confirmed_hash(store)
    if expected is None:
        raise MappingNotConfirmedError(
            f"{path} is not confirmed; review it, then `ferry map confirm`"
        )
    if mapping_hash(data) != expected:
        raise MappingNotConfirmedError(
            f"{path} changed since it was confirmed; see `ferry map diff`, then `ferry map confirm`"
        )
    mapping = parse_mapping(data.decode("utf-8"), where=str(path))
    if source is not None:
        check_columns_ready(source, _ref_columns(mapping))
        check_columns(mapping, source)
        _refuse_missing(missing_files(source, confirmed_absent(store)))
    return mapping


def check_columns(mapping: Mapping, source: Source) -> None:
    """Refuse an export with a file or column that the mapping neither maps nor ignores.

    Raises:
        UnknownColumnError: naming the first unknown file or column (and how many there are).
    """
    unknown: list[str] = []
    for entity in source.entities():
        file = mapping.files.get(entity)
        if file is None:
            unknown.append(f"file for {entity!r} (not in mapping.toml)")
            continue
        known = {header_key(c.header) for c in file.columns}
        present = {header_key(header) for header, _name in file_headers(source, entity)}
        for header, _name in file_headers(source, entity):
            if header_key(header) not in known:
                unknown.append(f"column {header!r} of {file.file}")
        _check_key_headers(entity, file, present)
    if unknown:
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        raise UnknownColumnError(
            f"the export has {unknown[0]}{more} that mapping.toml does not know; map or ignore "
            "it (`ferry map propose` lists it), then `ferry map confirm`"
        )


def _check_key_headers(entity: str, file: FileMapping, present: set[str]) -> None:
    """Refuse an export lacking the header the mapping reads a file's key from: every row
    would have no key."""
    pk = set(file_for_entity(entity).pk)
    for column in file.columns:
        if column.column in pk and header_key(column.header) not in present:
            raise MissingKeyColumnError(
                f"mapping.toml reads the key of {file.file} ({column.column}) from header "
                f"{column.header!r}, which the export's {file.file} does not have; map the "
                "header that holds it (`ferry map propose` lists the headers), then "
                "`ferry map confirm`"
            )


def diff_mappings(confirmed: Mapping, current: Mapping) -> list[MappingChange]:
    """Every difference between two mappings, file by file, column by column, code by code."""
    before, after = _flatten(confirmed), _flatten(current)
    return [
        MappingChange(where, before.get(where, "(absent)"), after.get(where, "(absent)"))
        for where in sorted(set(before) | set(after))
        if before.get(where) != after.get(where)
    ]


_COMPARED = (
    "column",
    "transform",
    "target",
    "value_map",
    "label",
    "entity",
    "rank",
    "optional",
    "reason",
)


def _flatten(mapping: Mapping) -> dict[str, str]:
    flat: dict[str, str] = {}
    for entity, file in mapping.files.items():
        flat[f"files.{entity}.target"] = file.target
        for column in file.columns:
            for name in _COMPARED:
                flat[f"files.{entity}.columns[{column.header}].{name}"] = str(getattr(column, name))
    for name, value_map in mapping.value_maps.items():
        flat[f"value_maps.{name}.target"] = value_map.target
        flat[f"value_maps.{name}.fallback"] = value_map.fallback
        for code, option in value_map.values.items():
            flat[f"value_maps.{name}.values[{code}]"] = option
    return flat


def load_confirmed(path: Path) -> Mapping:
    """The copy kept at the last confirmation (next to `path`).

    Raises:
        MappingNotConfirmedError: when no copy exists.
    """
    copy = path.parent / CONFIRMED_NAME
    if not copy.exists():
        raise MappingNotConfirmedError(
            f"nothing confirmed yet in {path.parent}; `ferry map confirm`"
        )
    return load_mapping(copy)


def confirmed_headers(path: Path) -> dict[str, dict[str, str]] | None:
    """What the last confirmed mapping (kept next to `path`) says each header means, for
    opening the export; None when nothing was confirmed yet.

    Raises:
        MappingError: when the kept copy is unreadable.
    """
    copy = path.parent / CONFIRMED_NAME
    if not copy.exists():
        return None
    return header_meanings(load_mapping(copy))

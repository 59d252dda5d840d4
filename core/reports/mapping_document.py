"""The mapping document: `mapping.toml` in a form a practice can read and sign.

For every export file and every one of its columns: the Twenty object and field it becomes,
the transform in plain words, the value map, the proposer's confidence and evidence; the
columns that are not migrated and why; every value map (code -> option) with its unplaced
codes and what to do about them; and a sign-off block tied to the mapping's SHA-256, so a
signed copy names exactly one mapping. It holds header names, codes and shares, never a
patient value (the mapping has none).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from core.export_format import ENTITIES
from core.mapping.model import ColumnMapping, FileMapping, Mapping, load_mapping, mapping_hash
from events.store import EventStore
from events.types import MappingConfirmed

__all__ = [
    "DocumentColumn",
    "DocumentFile",
    "DocumentValueMap",
    "MappingDocument",
    "mapping_document",
    "transform_words",
    "unplaced_guidance",
]

_TRANSFORM_WORDS = {
    "key": "the record's Dental-Exec ID (finds it again on later runs)",
    "text": "text as written",
    "int": "whole number",
    "list": "list (a; b)",
    "date": "date",
    "date_as_datetime": "date at local midnight, stored as a time",
    "datetime_local": "local time in the location's time zone, stored in UTC",
    "money": "amount in the practice currency",
    "bool": "yes / no",
    "zip": "ZIP code (leading zeros restored)",
    "select": "option, through a value map",
    "phone": "phone number (primary or additional, by rank)",
    "phone_text": "phone number, kept as text when unusable",
    "provider_code": "provider code",
    "member": "assigned to the workspace member of this provider",
    "ref": "link to the record of another file",
    "target": "the person the task or note is about",
    "location": "link to the location (company); sets time zone and tooth numbering",
    "cdt": "CDT procedure code (normalised; the code as written kept)",
    "tooth": "tooth number (Universal)",
    "surfaces": "tooth surfaces",
    "interval": "interval in months",
    "file_size": "file size in bytes",
    "rich_text": "formatted text",
    "body": "a 'Label: value' line of the record's body",
    "extra": "a 'Label: value' line of the Dental-Exec extras field",
    "title": "part of the record's title",
    "due_date": "due date (with the due time, in the location's zone)",
    "due_time": "due time (with the due date)",
    "email_unique": "email (one person per address; the others keep it as shared email)",
    "appointment_status": "task status and appointment status, through value maps",
    "recall_category": "recall or reminder, by category",
    "recall_type": "recall type",
    "website": "website (domain of the primary location)",
}
_NOT_A_FIELD = {
    "ignore": "",
    "context": "read by Ferry to place other values (not stored as a field of its own)",
    "folded": "folded into the record it belongs to",
    "member_code": "matches providers to workspace members (providers are not records)",
    "member_email": "matches providers to workspace members by email",
}


# What a file without records of its own becomes; its `folded` columns say where they go.
_FOLDED = {
    "referral": (
        "incoming referrals fill the person's referral source and detail; outgoing ones "
        "become a note (REFERRAL) on the person, or are skipped by configuration"
    ),
    "custom_field": (
        "each row is pivoted onto the record it describes: medical alerts (MA_... keys set "
        "to Yes) into person.medicalAlerts, the HIPAA acknowledgement and its date, the "
        "tooth chart, the rest as text"
    ),
    "provider": "providers are matched to workspace members by email (`ferry members check`)",
}


class DocumentColumn(msgspec.Struct, frozen=True, kw_only=True):
    """One export column: what it becomes, how, how sure; or why it is not migrated."""

    header: str
    column: str
    transform: str
    target: str
    how: str
    value_map: str
    confidence: float
    evidence: str
    reason: str

    @property
    def is_migrated(self) -> bool:
        """True when the column's value reaches a Twenty field."""
        return not self.reason


class DocumentFile(msgspec.Struct, frozen=True, kw_only=True):
    """One export file, its Twenty object ("" when it has no records of its own), its columns."""

    entity: str
    file: str
    target: str
    note: str
    columns: list[DocumentColumn]


class DocumentValueMap(msgspec.Struct, frozen=True, kw_only=True):
    """One value map: codes of the export -> options of a Twenty select field."""

    name: str
    target: str
    values: list[tuple[str, str]]
    fallback: str
    unplaced: list[str]


class MappingDocument(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the mapping document shows, in the mapping's own order."""

    source: str
    mapping_hash: str
    confirmation: str
    files: list[DocumentFile]
    value_maps: list[DocumentValueMap]

    @property
    def column_count(self) -> int:
        """Columns of every file."""
        return sum(len(f.columns) for f in self.files)

    @property
    def not_migrated(self) -> list[tuple[DocumentFile, DocumentColumn]]:
        """Every column that reaches no Twenty field, with its file."""
        return [(f, c) for f in self.files for c in f.columns if not c.is_migrated]


def transform_words(transform: str) -> str:
    """A transform in plain words (its name when it has none)."""
    return _TRANSFORM_WORDS.get(transform, transform)


def unplaced_guidance(value_map: DocumentValueMap, code: str) -> str:
    """What an unplaced code means and how to place it in mapping.toml (one paragraph)."""
    name = value_map.name
    if code.strip().casefold() == "deleted" and name in {"procedure_stage", "patient_status"}:
        return (
            f"'{code}' ({name}): rows with this code are deleted in Dental-Exec and are "
            "skipped (SOURCE_DELETED); nothing to place."
        )
    options = sorted({option for _, option in value_map.values})
    known = ", ".join(options) if options else "a new option in UPPER_SNAKE"
    outcome = (
        f"they get the fallback {value_map.fallback}"
        if value_map.fallback
        else "those rows are rejected (UNMAPPED_VALUE)"
    )
    return (
        f"'{code}' ({name} -> {value_map.target}): seen in the export, but no option was found "
        f'for it, so {outcome}. To place it, add the line "{code}" = "OPTION" under '
        f"[value_maps.{name}.values] in mapping.toml, with OPTION one of {known} (a new "
        "option is added to the field by `ferry schema apply`); remove it from `unplaced`, "
        "then run `ferry map confirm`."
    )


def mapping_document(path: Path, store: EventStore | None = None) -> MappingDocument:
    """The document of the mapping at `path`, with its confirmation from `store` if given.

    Raises:
        MappingError: when the file is missing or is not a valid mapping.
    """
    mapping = load_mapping(path)
    digest = mapping_hash(path.read_bytes())
    return build_document(mapping, digest, _confirmation(store, digest))


def build_document(mapping: Mapping, digest: str, confirmation: str) -> MappingDocument:
    """The document of a parsed mapping whose file has the SHA-256 `digest`."""
    files = [
        DocumentFile(
            entity=entity,
            file=file.file,
            target=file.target,
            note="" if file.target else _FOLDED.get(entity, ""),
            columns=[_column(entity, file.target, column) for column in file.columns],
        )
        for entity, file in _ordered(mapping)
    ]
    maps = [
        DocumentValueMap(
            name=name,
            target=value_map.target,
            values=list(value_map.values.items()),
            fallback=value_map.fallback,
            unplaced=list(value_map.unplaced),
        )
        for name, value_map in sorted(mapping.value_maps.items())
    ]
    return MappingDocument(
        source=Path(mapping.source).name if mapping.source else "",
        mapping_hash=digest,
        confirmation=confirmation,
        files=files,
        value_maps=maps,
    )


def _ordered(mapping: Mapping) -> list[tuple[str, FileMapping]]:
    rank = {entity: index for index, entity in enumerate(ENTITIES)}
    return sorted(mapping.files.items(), key=lambda item: rank.get(item[0], len(rank)))


def _column(entity: str, object_name: str, column: ColumnMapping) -> DocumentColumn:
    reason = ""
    if column.is_ignored:
        reason = column.reason or "ignored"
    elif column.transform == "folded" and entity in _FOLDED:
        reason = f"folded: {_FOLDED[entity]}"
    elif column.transform in _NOT_A_FIELD:
        reason = _NOT_A_FIELD[column.transform]
    elif not column.target:
        reason = f"used by the {column.transform} transform, not stored as a field"
    target = ""
    if column.target and not reason:
        target = f"{object_name}.{column.target}" if object_name else column.target
    how = "not migrated" if column.is_ignored else transform_words(column.transform)
    if column.label and column.transform in {"body", "extra"}:
        how = f"{how} (label '{column.label}')"
    return DocumentColumn(
        header=column.header,
        column=column.column,
        transform=column.transform,
        target=target,
        how=how,
        value_map=column.value_map,
        confidence=float(column.confidence),
        evidence=column.evidence,
        reason=reason,
    )


def _confirmation(store: EventStore | None, digest: str) -> str:
    if store is None:
        return "not confirmed yet: run `ferry map confirm` once it is signed off"
    last = None
    for stored in store.read("stream_id = 'migration' AND type = 'MappingConfirmed'"):
        assert isinstance(stored.event, MappingConfirmed)
        last = stored
    if last is None:
        return "not confirmed yet: run `ferry map confirm` once it is signed off"
    assert isinstance(last.event, MappingConfirmed)
    if last.event.mapping_hash != digest:
        return (
            f"differs from the mapping confirmed by {last.event.user} at {last.recorded_at}; "
            "see `ferry map diff`"
        )
    return f"confirmed by {last.event.user} at {last.recorded_at}"

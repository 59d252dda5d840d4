"""The default mapping of every Dental-Exec column (reference §6), written as data.

One line per column: `column | transform | target | args`, args `map=<value map>`,
`entity=<entity>`, `rank=<n>`, `optional`, `label=<text>`, `reason=<text>`. The proposer
uses this table once it knows which column a header holds; the operator edits the result in
`mapping.toml`. Transforms are described in core.mapping.engine and docs/mapping.md.
"""

from __future__ import annotations

import msgspec

from core.export_format import file_for_entity
from core.mapping.default_tables import TABLES

__all__ = ["FILE_TARGETS", "ColumnDefault", "column_default", "defaults_for"]

# entity -> (Twenty nameSingular, REST plural); "" for files that make no records of their own.
FILE_TARGETS: dict[str, tuple[str, str]] = {
    "practice": ("company", "companies"),
    "provider": ("", ""),
    "patient": ("person", "people"),
    "appointment": ("task", "tasks"),
    "treatment_plan": ("treatment", "treatments"),
    "procedure": ("procedure", "procedures"),
    "insurance_policy": ("insurance", "insurances"),
    "claim": ("claim", "claims"),
    "referral": ("", ""),
    "payment": ("payment", "payments"),
    "recall": ("task", "tasks"),
    "attachment": ("note", "notes"),
    "communication": ("communication", "communications"),
    "custom_field": ("", ""),
}


class ColumnDefault(msgspec.Struct, frozen=True, kw_only=True):
    """The default mapping of one canonical column."""

    column: str
    transform: str
    target: str = ""
    value_map: str = ""
    label: str = ""
    entity: str = ""
    rank: int = 0
    optional: bool = False
    reason: str = ""


def _parse(entity: str, table: str) -> dict[str, ColumnDefault]:
    spec = file_for_entity(entity)
    found: dict[str, ColumnDefault] = {}
    for raw in table.strip().splitlines():
        parts = [part.strip() for part in raw.split("|")]
        column, transform = parts[0], parts[1]
        target = parts[2] if len(parts) > 2 else ""
        args: dict[str, str] = {}
        for item in parts[3].split(";") if len(parts) > 3 and parts[3] else []:
            name, _, value = item.partition("=")
            args[name.strip()] = value.strip() or "true"
        label = args.get("label") or spec.column(column).label
        found[column] = ColumnDefault(
            column=column,
            transform=transform,
            target=target,
            value_map=args.get("map", ""),
            label=label if transform in _LABELLED else args.get("label", ""),
            entity=args.get("entity", ""),
            rank=int(args.get("rank", "0")),
            optional="optional" in args,
            reason=args.get("reason", ""),
        )
    return found


# Transforms whose texts name the column: by the format's label, never the header as written,
# so a renamed export writes what the canonical one writes.
_LABELLED = {"body", "extra", "location", "interval", "phone", "email_unique"}
_DEFAULTS = {entity: _parse(entity, table) for entity, table in TABLES.items()}


def defaults_for(entity: str) -> dict[str, ColumnDefault]:
    """Canonical column -> its default mapping, for one entity (every column of the format)."""
    return _DEFAULTS[entity]


def column_default(entity: str, column: str) -> ColumnDefault | None:
    """The default mapping of one canonical column, or None for a column the format lacks."""
    return _DEFAULTS.get(entity, {}).get(column)

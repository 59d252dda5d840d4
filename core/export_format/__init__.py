"""The Dental-Exec export format as data: its 14 files, their columns, keys and code sets.

Pure data and small lookups; no I/O. The reader, the audit, the generator and the mapping all
read the format from here, so a change to the format is made once. Column tables are written
in a compact `Label | type | flags` notation (parsed once at import) to stay readable next to
the specification (shared/reference/dental-exec-export.md, section 3).

Column flags: `req` (never empty), `pk`, `name=<canonical>` (when not derived from the label),
`fk=<entity>` (by ID) or `fk=provider.code` (by code, Q13), `alias=<A>;<B>` (other header
spellings, Q18).
"""

from __future__ import annotations

import re
from enum import StrEnum

import msgspec

from core.export_format.codes import (
    CODE_SETS,
    CUSTOM_RECORD_ENTITY,
    EXPORT_INFO_KEYS,
    KNOWN_CUSTOM_FIELDS,
)
from core.export_format.columns import (
    APPOINTMENTS,
    ATTACHMENTS,
    CLAIMS,
    COMMUNICATIONS,
    CUSTOM_FIELDS,
    PATIENTS,
    PAYMENTS,
    POLICIES,
    PRACTICES,
    PROCEDURES,
    PROVIDERS,
    RECALLS,
    REFERRALS,
    TREATMENT_PLANS,
)

__all__ = [
    "CODE_SETS",
    "CUSTOM_RECORD_ENTITY",
    "ENTITIES",
    "EXPORT_INFO_KEYS",
    "FILES",
    "KNOWN_CUSTOM_FIELDS",
    "BoolFlavour",
    "ColumnSpec",
    "ColumnType",
    "FileSpec",
    "canonical_name",
    "file_for_entity",
    "header_key",
    "match_file_name",
]


class ColumnType(StrEnum):
    """The value types of section 1 of the specification."""

    INT = "int"
    TEXT = "text"
    CODE = "code"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    MONEY = "money"
    BOOL = "bool"
    PHONE = "phone"
    EMAIL = "email"
    LIST = "list"


class BoolFlavour(StrEnum):
    """How a file spells booleans (Q6)."""

    YN = "Y/N"
    YES_NO = "Yes/No"
    ONE_ZERO = "1/0"
    TRUE_FALSE = "True/False"


class ColumnSpec(msgspec.Struct, frozen=True):
    """One column: canonical name, header label, type, required-ness, keys and aliases."""

    name: str
    label: str
    type: ColumnType
    required: bool = False
    is_pk: bool = False
    fk: str | None = None
    aliases: tuple[str, ...] = ()


class FileSpec(msgspec.Struct, frozen=True):
    """One export file: entity, name prefix, primary key columns, columns and boolean flavour."""

    entity: str
    prefix: str
    pk: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    bool_flavour: BoolFlavour
    deleted_column: str | None = None

    def column(self, name: str) -> ColumnSpec:
        """The column with this canonical name.

        Raises:
            KeyError: when the file has no such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def foreign_keys(self) -> dict[str, str]:
        """Canonical column name -> referenced entity (or `provider.code`)."""
        return {c.name: c.fk for c in self.columns if c.fk}


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(header: str) -> str:
    """Case-, space- and punctuation-insensitive form of a header (`E-mail` -> `email`)."""
    return _NON_ALNUM.sub("", header.lower().replace("#", ""))


def canonical_name(label: str) -> str:
    """The snake_case canonical column name for a header label (`Chart #` -> `chart_number`)."""
    text = label.lower().replace("#", " number").replace("%", " pct")
    return _NON_ALNUM.sub("_", text).strip("_")


def _parse_columns(table: str) -> tuple[ColumnSpec, ...]:
    columns = []
    for raw in table.strip().splitlines():
        parts = [part.strip() for part in raw.split("|")]
        label, kind, flags = parts[0], ColumnType(parts[1]), parts[2:]
        fk: str | None = None
        aliases: tuple[str, ...] = ()
        name = canonical_name(label)
        for flag in flags:
            if flag.startswith("name="):
                name = flag[5:]
            elif flag.startswith("fk="):
                fk = flag[3:]
            elif flag.startswith("alias="):
                aliases = tuple(flag[6:].split(";"))
        is_pk = "pk" in flags
        columns.append(
            ColumnSpec(
                name=name,
                label=label,
                type=kind,
                required=is_pk or "req" in flags,
                is_pk=is_pk,
                fk=fk,
                aliases=aliases,
            )
        )
    return tuple(columns)


def _spec(
    entity: str, prefix: str, table: str, flavour: BoolFlavour, deleted: str | None = None
) -> FileSpec:
    columns = _parse_columns(table)
    pk = tuple(c.name for c in columns if c.is_pk)
    return FileSpec(entity, prefix, pk, columns, flavour, deleted)


_YN, _YES, _ONE, _TRUE = (
    BoolFlavour.YN,
    BoolFlavour.YES_NO,
    BoolFlavour.ONE_ZERO,
    BoolFlavour.TRUE_FALSE,
)

# In export order; `file_for_entity` and `match_file_name` read this table.
FILES: tuple[FileSpec, ...] = (
    _spec("practice", "practices", PRACTICES, _ONE),
    _spec("provider", "providers", PROVIDERS, _YN),
    _spec("patient", "patients", PATIENTS, _YN),
    _spec("appointment", "appointments", APPOINTMENTS, _YN, "deleted"),
    _spec("treatment_plan", "treatment_plans", TREATMENT_PLANS, _YN, "deleted"),
    _spec("procedure", "treatment_plan_procedures", PROCEDURES, _YN, "deleted"),
    _spec("insurance_policy", "insurance_policies", POLICIES, _YN),
    _spec("claim", "insurance_claims", CLAIMS, _YN),
    _spec("referral", "referrals", REFERRALS, _YN),
    _spec("payment", "payments", PAYMENTS, _YN),
    _spec("recall", "recalls", RECALLS, _YN, "deleted"),
    _spec("attachment", "attachments", ATTACHMENTS, _TRUE, "deleted"),
    _spec("communication", "communications", COMMUNICATIONS, _YN, "deleted"),
    _spec("custom_field", "custom_fields", CUSTOM_FIELDS, _YES),
)

ENTITIES: tuple[str, ...] = tuple(spec.entity for spec in FILES)
_BY_ENTITY = {spec.entity: spec for spec in FILES}
# Longest prefix first, so `treatment_plan_procedures*` wins over `treatment_plans*`.
_BY_PREFIX = sorted(FILES, key=lambda spec: len(spec.prefix), reverse=True)

EXPORT_INFO_PREFIX = "_export_info"


def file_for_entity(entity: str) -> FileSpec:
    """The file specification of an entity (`patient` -> patients.csv).

    Raises:
        KeyError: when the entity is not one of ENTITIES.
    """
    return _BY_ENTITY[entity]


def match_file_name(name: str) -> FileSpec | None:
    """The file a name belongs to, by case-insensitive prefix (`Patients_2025.csv`), or None."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if not base.endswith(".csv"):
        return None
    for spec in _BY_PREFIX:
        if base.startswith(spec.prefix):
            return spec
    # Single-table exports name files like `Patients_20250314.csv`; singular forms too.
    for spec in _BY_PREFIX:
        if base.startswith(spec.prefix.rstrip("s")):
            return spec
    return None

"""What transforms need beyond the row itself: settings and the run's auxiliary facts.

`TransformSettings` is given by the caller; `TransformContext` is built by one streaming
pre-pass (core.mapping.prepass.prepare_context): locations in memory, and, behind read-only
mappings over a scratch database, each patient's home location and the owner of each shared
email, pivoted custom fields, referral and claim summaries, and per-plan facts derived from
the procedure lines.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Container
from collections.abc import Mapping as Lookup
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from core.identity import IdSpace
from core.mapping.model import ColumnMapping, FileMapping, Mapping, ValueMap
from core.ports.source import SourceRow

__all__ = [
    "ClaimSummary",
    "CustomValue",
    "LocationInfo",
    "OwnerResolver",
    "PlanSummary",
    "ReferralSummary",
    "TransformContext",
    "TransformSettings",
]

OwnerResolver = Callable[[str | None], tuple[str | None, bool]]


def _no_members(code: str | None) -> tuple[str | None, bool]:
    return None, False


@dataclass(frozen=True, kw_only=True)
class TransformSettings:
    """How to transform: the migration's namespace, the member resolver and the options.

    Attributes:
        namespace: the migration's namespace UUID (core.identity.destination_id).
        owner_for: provider code -> (member id or None, was the default member used); from
            core.members.MemberReport.owner_for. The default knows no member (unit tests).
        out_referrals: `notes` (a Note on the person) or `skip` (SKIPPED_BY_CONFIG).
        communications_as: `object` (custom Communication) or `notes`.
        currency: ISO code for every amount.
        default_zone: IANA zone for locations without one (default: the primary location's).
        max_attachment_bytes: files above this size are flagged `oversized`.
        phone_region: region for phones written without a country code.
        merged_patients: merged patient key -> kept patient key, from the practice's
            duplicate decisions (core.source_audit.decisions.merges): the merged patient is
            skipped (MERGED_DUPLICATE) and every relation to it points at the kept one.
    """

    namespace: uuid.UUID | str
    owner_for: OwnerResolver = _no_members
    out_referrals: Literal["notes", "skip"] = "notes"
    communications_as: Literal["object", "notes"] = "object"
    currency: str = "USD"
    default_zone: str | None = None
    max_attachment_bytes: int = 10 * 1024 * 1024
    phone_region: str = "US"
    merged_patients: Lookup[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LocationInfo:
    """One practice location: its zone, tooth numbering and code."""

    zone: ZoneInfo | None
    numbering: str
    code: str
    is_primary: bool = False
    zone_problem: str = ""


@dataclass(frozen=True)
class CustomValue:
    """One custom-field value of one owner (`custom_fields.csv` pivoted)."""

    key: str
    label: str
    kind: str
    value: str | None


@dataclass
class ReferralSummary:
    """A patient's incoming referrals: the first one's source, details of all."""

    first_sort: tuple[str, int] = ("9999-99-99", 0)
    source_option: str = ""
    details: list[tuple[tuple[str, int], str]] = field(default_factory=list)


@dataclass
class ClaimSummary:
    """Claims per policy: how many, the latest date of service and that claim's status."""

    count: int = 0
    last_sort: tuple[str, int] = ("", 0)
    last_status: str = ""


@dataclass
class PlanSummary:
    """A treatment plan's location and what its (not deleted) procedure lines say."""

    location_id: int | None = None
    stages: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    teeth: set[str] = field(default_factory=set)
    line_fee_cents: int = 0
    lines: int = 0


def _one_newline(text: str | None) -> str | None:
    """CRLF and CR line breaks inside a value (Q2) as LF, so both encodings give one payload."""
    if text is None or "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(kw_only=True)
class TransformContext:
    """Everything a transform may look up; built once per run by `prepare_context`."""

    mapping: Mapping
    settings: TransformSettings
    renames: dict[str, dict[str, str]] = field(default_factory=dict)
    locations: dict[int, LocationInfo] = field(default_factory=dict)
    default_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    website_location: int | None = None
    # The per-owner facts below grow with the export: `prepare_context` gives read-only
    # mappings over a scratch database (core.mapping.context_store) with the same read
    # interface (`get`, `in`, `[]`); plain dicts do as well (unit tests).
    patient_location: Lookup[int, int] = field(default_factory=dict)
    email_owner: Lookup[str, int] = field(default_factory=dict)
    custom: Lookup[tuple[str, int], list[CustomValue]] = field(default_factory=dict)
    custom_owner_found: Container[tuple[str, int]] = field(default_factory=set)
    referrals: Lookup[int, ReferralSummary] = field(default_factory=dict)
    claims: Lookup[int, ClaimSummary] = field(default_factory=dict)
    plans: Lookup[int, PlanSummary] = field(default_factory=dict)
    export_date: date | None = None
    # Called by `close` (deletes the scratch database behind the mappings above).
    on_close: Callable[[], None] = lambda: None
    _pairs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _split: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    _ordered: dict[str, list[ColumnMapping]] = field(default_factory=dict)
    # Per-run caches: the row last asked for (transforms ask for its values several times),
    # value-map answers per code, and each file's compiled column plan (core.mapping.engine).
    _last_row: SourceRow | None = None
    _last_values: dict[str, str | None] = field(default_factory=dict)
    _options: dict[int, tuple[ValueMap, dict[str, str | None]]] = field(default_factory=dict)
    column_plans: dict[str, Any] = field(default_factory=dict)
    # (entity, transform) -> the file's first column with that transform (core.mapping.steps).
    first_columns: dict[tuple[str, str], ColumnMapping | None] = field(default_factory=dict)

    def close(self) -> None:
        """Release what the pre-pass holds outside memory (its scratch database)."""
        self.on_close()
        self.on_close = lambda: None

    def file(self, entity: str) -> FileMapping:
        """The mapping of one entity's file (an empty one when the mapping lacks it)."""
        return self.mapping.files.get(entity) or FileMapping(file="")

    def values(self, row: SourceRow) -> dict[str, str | None]:
        """The row's values under the mapping's canonical column names; ignored ones dropped."""
        if row is self._last_row:
            return self._last_values
        pairs = self._pairs.get(row.entity)
        if pairs is None:
            pairs = self._column_pairs(row)
            self._pairs[row.entity] = pairs
            self._split[row.entity] = (
                tuple(name for name, _ in pairs),
                tuple(canonical for _, canonical in pairs),
            )
        names, canonicals = self._split[row.entity]
        out = dict(zip(canonicals, map(row.values.get, names), strict=True))
        # One C-level scan for a carriage return; the per-value loop only when there is one.
        if "\r" in "".join(filter(None, out.values())):
            for canonical, value in out.items():
                if value is not None and "\r" in value:
                    out[canonical] = _one_newline(value)
        self._last_row, self._last_values = row, out
        return out

    def _column_pairs(self, row: SourceRow) -> list[tuple[str, str]]:
        renames = self.renames.get(row.entity)
        if renames is None:
            ignored = {c.column for c in self.file(row.entity).columns if c.is_ignored}
            names = [n for n in row.values if n not in ignored and n[:1] != "?"]
            return [(name, name) for name in names]
        pairs = [(name, canonical) for name, canonical in renames.items() if canonical]
        mapped = set(renames)
        pairs += [(n, n) for n in row.values if n not in mapped and n[:1] != "?"]
        return pairs

    def ordered_columns(self, entity: str) -> list[ColumnMapping]:
        """The file's column mappings, location and key columns first (cached)."""
        found = self._ordered.get(entity)
        if found is None:
            columns = self.file(entity).columns
            first = ("location", "key")
            found = sorted(columns, key=lambda c: 0 if c.transform in first else 1)
            self._ordered[entity] = found
        return found

    def option(self, value_map: ValueMap, code: str) -> str | None:
        """`value_map.lookup(code)`, remembered per code for the run (the mapping is fixed)."""
        entry = self._options.get(id(value_map))
        if entry is None or entry[0] is not value_map:
            entry = self._options[id(value_map)] = (value_map, {})
        answers = entry[1]
        if code in answers:
            return answers[code]
        found = answers[code] = value_map.lookup(code)
        return found

    def location(self, location_id: int | None) -> LocationInfo | None:
        """The location with this ID, or None."""
        return None if location_id is None else self.locations.get(location_id)

    def zone_of(self, location_id: int | None) -> ZoneInfo:
        """The zone of a location; the default zone when it is unknown or has none."""
        found = self.location(location_id)
        return found.zone if found is not None and found.zone is not None else self.default_zone

    def numbering_of(self, location_id: int | None) -> str:
        """The tooth numbering of a location (`Universal` when unknown)."""
        found = self.location(location_id)
        return found.numbering if found is not None else "Universal"

    @functools.cached_property
    def ids(self) -> IdSpace:
        """The destination ids of this migration's namespace."""
        return IdSpace(self.settings.namespace)

    def destination_id(self, entity: str, key: str) -> str:
        """The deterministic destination id of a record of this migration."""
        return self.ids.destination_id(entity, key)

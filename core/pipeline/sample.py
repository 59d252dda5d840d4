"""The sample: about `size` patients with all their related records, covering every stratum.

A stratum is one thing the export holds that the migration must be seen to handle: a value of
a status, type or mode column (`appointment.status=no-show`), a row-level error code
(`patient.error=bad_value`), a deleted row, or an audit finding (`patient.finding=
family_shared_email`, `appointment.finding=ambiguous_local_time`). Selection streams the
export a few times and keeps only keys:

1. the audit, capped per code, marks the rows with findings (file, line);
2. one pass notes each stratum's size and the first selectable row that shows it, with the
   patient that row belongs to, and draws a seeded reservoir of other patients;
3. one more pass takes every record of the chosen patients (every stratum's representative
   first, then the reservoir up to `size`); the patients those records point to (guarantor,
   subscriber, referring patient) join as parents: their own row only, read from the
   patient file until no pointer leads further.

Practices and providers are always included whole (every record points at them). The result,
`keys`, is what `RunRequest(keys=...)` runs; `strata` says how each stratum is covered.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import msgspec

from core.export_format import CUSTOM_RECORD_ENTITY, match_file_name
from core.ports.source import Source, SourceRow
from core.source_audit import audit_source

__all__ = ["SampleOptions", "SampleSelection", "Stratum", "select_sample"]

# The columns whose every value must be present in the sample, per entity.
STRATUM_COLUMNS: dict[str, tuple[str, ...]] = {
    "patient": ("status", "gender", "preferred_contact"),
    "appointment": ("status", "appt_type", "confirmation"),
    "treatment_plan": ("status",),
    "procedure": ("stage", "priority"),
    "insurance_policy": ("status", "coverage_order", "coverage_type", "relationship"),
    "claim": ("status", "claim_type"),
    "referral": ("direction", "source_type", "status"),
    "payment": ("method", "payer_type"),
    "recall": ("recall_type", "category", "status"),
    "attachment": ("category", "linked_record_type"),
    "communication": ("mode", "direction", "type"),
    "custom_field": ("record_type", "field_type"),
}
ALWAYS_WHOLE = ("practice", "provider")
# Columns of related records that point at another patient, who then joins the sample.
PATIENT_POINTERS: dict[str, tuple[str, ...]] = {
    "patient": ("guarantor_id",),
    "payment": ("guarantor_id",),
    "insurance_policy": ("subscriber_patient_id",),
    "referral": ("referring_patient_id",),
}
MAX_ROUNDS = 4


class SampleOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How big a sample, and the seed of the random part (the same seed, the same sample)."""

    size: int = 300
    seed: int = 1
    findings_per_code: int = 5


class Stratum(msgspec.Struct, kw_only=True):
    """One stratum: rows showing it in the export and in the sample."""

    name: str
    entity: str
    total: int = 0
    selected: int = 0
    selectable: bool = False


class SampleSelection(msgspec.Struct, kw_only=True):
    """The chosen source keys per entity and how every stratum is covered."""

    keys: dict[str, frozenset[str]]
    patients: int
    strata: list[Stratum]

    @property
    def uncovered(self) -> list[str]:
        """Strata with a selectable row in the export but none in the sample (always empty)."""
        return [s.name for s in self.strata if s.selectable and not s.selected]

    @property
    def unselectable(self) -> list[str]:
        """Strata shown only by rows without a readable key (rejected on record in a run)."""
        return [s.name for s in self.strata if not s.selectable]

    @property
    def records(self) -> int:
        """Source rows in the sample."""
        return sum(len(keys) for keys in self.keys.values())


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).casefold() or "(empty)"


def _id(value: str | None) -> str | None:
    text = (value or "").strip()
    return str(int(text)) if text.isdecimal() and int(text) > 0 else None


def _strata_of(row: SourceRow, findings: dict[tuple[str, int], set[str]]) -> Iterator[str]:
    entity = row.entity
    for column in STRATUM_COLUMNS.get(entity, ()):
        if column in row.values:
            yield f"{entity}.{column}={_norm(row.values[column])}"
    errors = sorted({error.code for error in row.errors})
    for code in errors:
        yield f"{entity}.error={code}"
    if row.is_deleted:
        yield f"{entity}.deleted"
    for code in sorted(findings.get((row.file, row.line), set()) - set(errors)):
        yield f"{entity}.finding={code}"


def _owner(row: SourceRow) -> str | tuple[str, str] | None:
    """The patient a row belongs to, or (entity, key) to resolve, or None."""
    if row.entity == "patient":
        return row.key
    if row.entity == "custom_field":
        entity = CUSTOM_RECORD_ENTITY.get((row.values.get("record_type") or "").lower())
        record = _id(row.values.get("record_id"))
        if entity == "patient":
            return record
        return (entity, record) if entity and record else None
    return _id(row.values.get("patient_id"))


def _findings(source: Source, per_code: int) -> dict[tuple[str, int], set[str]]:
    report = audit_source(source, per_code_limit=per_code)
    index: dict[tuple[str, int], set[str]] = {}
    for finding in report.findings:
        if finding.line is not None and match_file_name(finding.file) is not None:
            index.setdefault((finding.file, finding.line), set()).add(finding.code)
    return index


class _Survey:
    """Pass 2: stratum sizes, one representative per stratum, a reservoir of patients."""

    def __init__(self, options: SampleOptions) -> None:
        self.strata: dict[str, Stratum] = {}
        self.owners: dict[str, str | tuple[str, str] | None] = {}
        self.direct: dict[str, set[str]] = {}  # rows chosen for themselves (no patient)
        self.reservoir: list[str] = []
        self.patients_seen = 0
        self._rng = random.Random(options.seed)
        self._size = options.size

    def see(self, row: SourceRow, findings: dict[tuple[str, int], set[str]]) -> None:
        """Count the row's strata; make it the representative of those that have none."""
        if row.entity == "patient" and row.key is not None:
            self._draw(row.key)
        for name in _strata_of(row, findings):
            stratum = self.strata.setdefault(name, Stratum(name=name, entity=row.entity))
            stratum.total += 1
            if stratum.selectable or row.key is None:
                continue
            stratum.selectable = True
            owner = _owner(row)
            if owner is None and row.entity not in ALWAYS_WHOLE:
                self.direct.setdefault(row.entity, set()).add(row.key)
            self.owners[name] = owner

    def _draw(self, key: str) -> None:
        self.patients_seen += 1
        if len(self.reservoir) < self._size:
            self.reservoir.append(key)
            return
        slot = self._rng.randrange(self.patients_seen)
        if slot < self._size:
            self.reservoir[slot] = key


def select_sample(source: Source, options: SampleOptions | None = None) -> SampleSelection:
    """Choose the sample's source keys per entity, covering every selectable stratum."""
    options = options or SampleOptions()
    findings = _findings(source, options.findings_per_code)
    survey = _Survey(options)
    for entity in source.entities():
        for row in source.rows(entity):
            survey.see(row, findings)
    patients = _representatives(source, survey)
    for key in survey.reservoir:
        if len(patients) >= options.size:
            break
        patients.add(key)
    strata = survey.strata

    def count(row: SourceRow) -> None:
        """Count a chosen row in each of its strata."""
        for name in _strata_of(row, findings):
            strata[name].selected += 1

    keys = _close(source, patients, survey.direct, count)
    return SampleSelection(
        keys={e: frozenset(k) for e, k in keys.items() if k},
        patients=len(keys.get("patient", ())),
        strata=sorted(survey.strata.values(), key=lambda s: s.name),
    )


def _representatives(source: Source, survey: _Survey) -> set[str]:
    patients = {o for o in survey.owners.values() if isinstance(o, str)}
    pending = {o for o in survey.owners.values() if isinstance(o, tuple)}
    for entity in sorted({e for e, _ in pending}):
        wanted = {key for e, key in pending if e == entity}
        if entity in ALWAYS_WHOLE or entity not in source.entities():
            continue
        for row in source.rows(entity):
            if row.key in wanted and (owner := _owner(row)) and isinstance(owner, str):
                patients.add(owner)
    return patients


def _close(
    source: Source,
    patients: set[str],
    direct: dict[str, set[str]],
    count: Callable[[SourceRow], None],
) -> dict[str, set[str]]:
    """Every record of the chosen patients, then the patient rows they point to.

    One pass over the export takes each chosen patient's records; patients pointed at from
    them (a guarantor, a subscriber, a referring patient) join as parents only: their own
    row, re-read from the patient file until no pointer leads further.
    """
    keys = {entity: set(rows) for entity, rows in direct.items()}
    pointed: set[str] = set()
    for entity in source.entities():
        chosen = keys.setdefault(entity, set())
        for row in source.rows(entity):
            if row.key is not None and (row.key in chosen or _belongs(row, patients, keys)):
                chosen.add(row.key)
                count(row)
                pointed |= _pointers(row)
    parents = keys.setdefault("patient", set())
    for _ in range(MAX_ROUNDS):
        wanted = pointed - parents
        if not wanted or "patient" not in source.entities():
            break
        pointed = set()
        for row in source.rows("patient"):
            if row.key in wanted:
                parents.add(row.key)
                count(row)
                pointed |= _pointers(row)
    return keys


def _pointers(row: SourceRow) -> set[str]:
    found = (_id(row.values.get(c)) for c in PATIENT_POINTERS.get(row.entity, ()))
    return {key for key in found if key}


def _belongs(row: SourceRow, patients: set[str], keys: dict[str, set[str]]) -> bool:
    if row.entity in ALWAYS_WHOLE:
        return True
    owner = _owner(row)
    if isinstance(owner, tuple):
        return owner[1] in keys.get(owner[0], ())
    return owner in patients

"""The sample: a few hundred records that cover every stratum of the export, with their parents.

A stratum is one thing the export holds that the migration must be seen to handle: a value of
a status, type or mode column (`appointment.status=no-show`), a row-level error code
(`patient.error=bad_value`), a deleted row, or an audit finding (`patient.finding=
family_shared_email`, `appointment.finding=ambiguous_local_time`). The sample is sized in
records (source rows), not patients: `size` (ferry.toml `run.sample_size`, 400 by default) is
the target, because a person reads the diff and 200 to 500 records is what one can read.
Selection streams the export a few times and keeps only keys:

1. the audit, capped per code, marks the rows with findings (file, line);
2. one pass notes each stratum's size and the first selectable row that shows it (its
   *representative*), with the records that row points to, and counts each patient's rows;
3. the representatives come first, each with its parents only (the patient, the plan, the
   policy, the claim, the appointment it points to; a guarantor or subscriber patient);
   then whole patients, drawn with the seed, fill the sample up to `size` while they fit;
4. one more pass takes the chosen rows and the fill patients' rows, and the parents they
   point to are read until no pointer leads further.

Practices and providers are always included whole (every record points at them). Custom-field
rows join only as representatives of their own strata: the values they give a record are
shown in the diff with their source line (`SampleSelection.custom`). The result, `keys`, is
what `RunRequest(keys=...)` runs; `strata` says how each stratum is covered.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import msgspec

from core.export_format import CUSTOM_RECORD_ENTITY, file_for_entity, match_file_name
from core.ports.source import Source, SourceRow
from core.source_audit import audit_source

__all__ = ["CustomRow", "SampleOptions", "SampleSelection", "Stratum", "select_sample"]

# The columns whose every value must be present in the sample, per entity.
STRATUM_COLUMNS: dict[str, tuple[str, ...]] = {
    "patient": ("status", "gender", "preferred_contact"),
    "appointment": ("status", "appt_type", "confirmation"),
    "treatment_plan": ("status",),
    "procedure": ("stage", "priority"),
    "insurance_policy": ("status", "coverage_order", "coverage_type", "relationship"),
    "claim": ("status", "claim_type"),
    "referral": ("direction", "source_type", "status"),
    "payment": ("method", "payer_type", "voided"),
    "recall": ("recall_type", "category", "status"),
    "attachment": ("category", "linked_record_type"),
    "communication": ("mode", "direction", "type"),
    "custom_field": ("record_type", "field_type"),
}
ALWAYS_WHOLE = ("practice", "provider")
MAX_ROUNDS = 6
Ref = tuple[str, str]  # (entity, source key)


class SampleOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How many records to aim at, and the seed of the random part (same seed, same sample)."""

    size: int = 400
    seed: int = 1
    findings_per_code: int = 5


class Stratum(msgspec.Struct, kw_only=True):
    """One stratum: rows showing it in the export and in the sample."""

    name: str
    entity: str
    total: int = 0
    selected: int = 0
    selectable: bool = False


class CustomRow(msgspec.Struct, frozen=True, kw_only=True):
    """One `custom_fields.csv` row of a sampled record: where it is and what it says."""

    file: str
    line: int
    field_key: str
    value: str


class SampleSelection(msgspec.Struct, kw_only=True):
    """The chosen source keys per entity and how every stratum is covered.

    `custom`: "entity:key" of a sampled record -> its custom-field rows (the source of the
    values derived from them, such as `hipaaAcknowledged` or `medicalAlerts`).
    `patient_of`: "entity:key" of a sampled record -> "patient:key" of the patient it belongs
    to (a patient belongs to itself; practices and providers to none), to group the diff.
    """

    keys: dict[str, frozenset[str]]
    patients: int
    strata: list[Stratum]
    custom: dict[str, list[CustomRow]] = msgspec.field(default_factory=dict)
    patient_of: dict[str, str] = msgspec.field(default_factory=dict)

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

    @property
    def entities(self) -> list[str]:
        """The entities the sample holds rows of."""
        return sorted(self.keys)


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
    if entity == "payment" and (row.values.get("amount") or "").strip().startswith(("(", "-")):
        yield "payment.amount=refund"  # refunds are written in parentheses
    errors = sorted({error.code for error in row.errors})
    for code in errors:
        yield f"{entity}.error={code}"
    if row.is_deleted:
        yield f"{entity}.deleted"
    for code in sorted(findings.get((row.file, row.line), set()) - set(errors)):
        yield f"{entity}.finding={code}"


def _custom_owner(row: SourceRow) -> Ref | None:
    entity = CUSTOM_RECORD_ENTITY.get((row.values.get("record_type") or "").lower())
    record = _id(row.values.get("record_id"))
    return (entity, record) if entity and record else None


def _owner(row: SourceRow) -> str | None:
    """The patient a row belongs to (custom-field rows belong to no patient here)."""
    if row.entity == "patient":
        return row.key
    if row.entity == "custom_field":
        return None
    return _id(row.values.get("patient_id"))


def _parents(row: SourceRow) -> set[Ref]:
    """The records this row points to by id (practices and providers are always whole)."""
    if row.entity == "custom_field":
        owner = _custom_owner(row)
        return {owner} if owner else set()
    found = set()
    for column, target in file_for_entity(row.entity).foreign_keys.items():
        if target in ALWAYS_WHOLE or "." in target:
            continue
        if key := _id(row.values.get(column)):
            found.add((target, key))
    return found


def _findings(source: Source, per_code: int) -> dict[tuple[str, int], set[str]]:
    report = audit_source(source, per_code_limit=per_code)
    index: dict[tuple[str, int], set[str]] = {}
    for finding in report.findings:
        if finding.line is not None and match_file_name(finding.file) is not None:
            index.setdefault((finding.file, finding.line), set()).add(finding.code)
    return index


class _Survey:
    """Pass 2: stratum sizes, one representative row per stratum, rows per patient."""

    def __init__(self) -> None:
        self.strata: dict[str, Stratum] = {}
        self.representatives: dict[Ref, set[Ref]] = {}  # row -> the rows it points to
        self.rows_per_patient: dict[str, int] = {}

    def see(self, row: SourceRow, findings: dict[tuple[str, int], set[str]]) -> None:
        """Count the row's strata; make it the representative of those that have none."""
        if row.key is not None and (owner := _owner(row)) is not None:
            self.rows_per_patient[owner] = self.rows_per_patient.get(owner, 0) + 1
        for name in _strata_of(row, findings):
            stratum = self.strata.setdefault(name, Stratum(name=name, entity=row.entity))
            stratum.total += 1
            if stratum.selectable or row.key is None:
                continue
            stratum.selectable = True
            if row.entity not in ALWAYS_WHOLE:
                self.representatives[(row.entity, row.key)] = _parents(row)


def select_sample(source: Source, options: SampleOptions | None = None) -> SampleSelection:
    """Choose the sample's source keys per entity, covering every selectable stratum."""
    options = options or SampleOptions()
    findings = _findings(source, options.findings_per_code)
    survey = _Survey()
    for entity in source.entities():
        for row in source.rows(entity):
            survey.see(row, findings)
    chosen: set[Ref] = set(survey.representatives)
    pending: set[Ref] = set().union(*survey.representatives.values()) - chosen
    fill = _fill(survey, chosen | pending, options)
    strata = survey.strata

    patient_of: dict[str, str] = {}

    def count(row: SourceRow) -> None:
        """Count a chosen row in each of its strata; note the patient it belongs to."""
        for name in _strata_of(row, findings):
            strata[name].selected += 1
        owner = _owner(row) if row.entity != "custom_field" else None
        if row.entity == "custom_field" and (ref := _custom_owner(row)) and ref[0] == "patient":
            owner = ref[1]
        if owner is not None:
            patient_of[f"{row.entity}:{row.key}"] = f"patient:{owner}"

    taken, pointed = _take(source, chosen, fill, count)
    _close(source, taken, pointed, count)
    keys: dict[str, set[str]] = {}
    for entity, key in taken:
        keys.setdefault(entity, set()).add(key)
    return SampleSelection(
        keys={e: frozenset(k) for e, k in keys.items() if k},
        patients=len(keys.get("patient", ())),
        strata=sorted(strata.values(), key=lambda s: s.name),
        custom=_custom_rows(source, taken),
        patient_of=patient_of,
    )


def _fill(survey: _Survey, chosen: set[Ref], options: SampleOptions) -> set[str]:
    """Whole patients, in a seeded random order, while they fit under `size` records."""
    total = len(chosen)
    patients = sorted(survey.rows_per_patient)
    random.Random(options.seed).shuffle(patients)
    fill: set[str] = set()
    for patient in patients:
        if total >= options.size:
            break
        if ("patient", patient) in chosen:
            continue
        rows = survey.rows_per_patient[patient] + 1  # and, often, a guarantor
        if total + rows <= options.size:
            fill.add(patient)
            total += rows
    return fill


def _take(
    source: Source, chosen: set[Ref], fill: set[str], count: Callable[[SourceRow], None]
) -> tuple[set[Ref], set[Ref]]:
    """One pass: practices, providers, the chosen rows and every row of the fill patients.

    Returns the rows taken and the records they point to."""
    taken: set[Ref] = set()
    pointed: set[Ref] = set()
    for entity in source.entities():
        for row in source.rows(entity):
            if row.key is None:
                continue
            ref = (entity, row.key)
            wanted = entity in ALWAYS_WHOLE or ref in chosen
            if not wanted and entity != "custom_field" and _owner(row) in fill:
                wanted = True
            if wanted and ref not in taken:
                taken.add(ref)
                count(row)
                if entity not in ALWAYS_WHOLE:
                    pointed |= _parents(row)
    return taken, pointed


def _close(
    source: Source, taken: set[Ref], pointed: set[Ref], count: Callable[[SourceRow], None]
) -> None:
    """Add the records the taken rows point to, until no pointer leads further."""
    for _ in range(MAX_ROUNDS):
        wanted = pointed - taken
        if not wanted:
            return
        pointed = set()
        for entity in sorted({e for e, _ in wanted} & set(source.entities())):
            for row in source.rows(entity):
                if row.key is not None and (entity, row.key) in wanted:
                    taken.add((entity, row.key))
                    count(row)
                    pointed |= _parents(row)


def _custom_rows(source: Source, taken: set[Ref]) -> dict[str, list[CustomRow]]:
    """The custom-field rows of the sampled records, by the record's stream id."""
    if "custom_field" not in source.entities():
        return {}
    found: dict[str, list[CustomRow]] = {}
    for row in source.rows("custom_field"):
        owner = _custom_owner(row)
        if owner is None or owner not in taken:
            continue
        found.setdefault(f"{owner[0]}:{owner[1]}", []).append(
            CustomRow(
                file=row.file,
                line=row.line,
                field_key=(row.values.get("field_key") or "").strip(),
                value=row.values.get("value") or "",
            )
        )
    return found

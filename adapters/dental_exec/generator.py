"""The synthetic Dental-Exec export generator: a whole practice, streamed, deterministic per seed.

Patients are produced in ID order with everything that refers to them (visits, plans,
coverage, money, documents, messages), written to all fourteen files at once, so memory stays
flat however many patients are asked for. Row errors are injected at a low rate on purpose
and listed (file, line, key, code) in `_generator_manifest.json` next to the files, with the
data-quality cases planted on purpose (`planted`: duplicate patients and unusable phones).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from adapters.dental_exec.synth_billing import claim_rows, payment_rows, policy_rows
from adapters.dental_exec.synth_people import patient_row, practice_rows, provider_rows
from adapters.dental_exec.synth_records import (
    attachment_rows,
    communication_rows,
    custom_field_rows,
    referral_rows,
    staff_field_rows,
)
from adapters.dental_exec.synth_visits import appointment_rows, procedure_rows, recall_rows
from adapters.dental_exec.synth_world import (
    EXPORT_AT,
    FIRST_PATIENT_ID,
    Person,
    Staff,
    iter_people,
    make_locations,
    make_staff,
)
from adapters.dental_exec.synth_writer import BROKEN_TOKEN, TableWriter, header_labels
from core.errors import BadInputError
from core.export_format import FILES, file_for_entity

MANIFEST = "_generator_manifest.json"
# A byte invalid in the file's encoding, as a surrogate the writer turns back into that byte.
_BAD_BYTE = {"cp1252": chr(0xDC81), "utf-8": chr(0xDCFF)}
_FIRST_IDS = {
    "appointment": 500000, "treatment_plan": 70000, "procedure": 900000,
    "insurance_policy": 5000, "claim": 30000, "referral": 2000, "payment": 110000,
    "recall": 640000, "attachment": 40000, "communication": 300000,
}  # fmt: skip


class GeneratorOptions(msgspec.Struct, frozen=True):
    """What to generate."""

    out: Path
    patients: int
    seed: int
    locations: int = 2
    encoding: str = "cp1252"  # or "utf-8" (then every file is UTF-8 with BOM)
    error_rate: float = 1 / 4000  # share of rows given a deliberate row error
    patients_only: bool = False  # skip visits, money and documents (for big patients.csv runs)
    dialect: str = "canonical"  # or a core.export_format.dialects name: headers renamed


class InjectedError(msgspec.Struct, frozen=True):
    """A row error the generator put in on purpose; the reader must report `code` there."""

    file: str
    line: int
    key: str
    code: str


class PlantedDuplicate(msgspec.Struct, frozen=True):
    """A patient written twice on purpose (Q7): `key` is the later row, `original` the first."""

    file: str
    line: int
    key: str
    original: str


class PlantedPhone(msgspec.Struct, frozen=True):
    """A patient phone written unusable on purpose (Q5): `problem` is `no_area_code` (seven
    digits) or `placeholder` (`none`)."""

    file: str
    line: int
    key: str
    column: str
    problem: str


class Planted(msgspec.Struct, frozen=True):
    """Data-quality cases the generator put in on purpose, which the audit must list."""

    duplicate_patients: list[PlantedDuplicate] = msgspec.field(default_factory=list)
    unusable_phones: list[PlantedPhone] = msgspec.field(default_factory=list)


class GenerationResult(msgspec.Struct, frozen=True):
    """Files written with their row counts, the injected errors and the planted cases."""

    out: Path
    files: dict[str, int]
    injected_errors: list[InjectedError]
    planted: Planted = msgspec.field(default_factory=Planted)


@contextmanager
def _writers(options: GeneratorOptions, rng: random.Random) -> Iterator[dict[str, TableWriter]]:
    writers: dict[str, TableWriter] = {}
    try:
        for spec in FILES:
            is_new_module = spec.entity in {"attachment", "custom_field"}
            encoding = "utf-8-sig" if options.encoding != "cp1252" or is_new_module else "cp1252"
            path = options.out / f"{spec.prefix}.csv"
            writers[spec.entity] = TableWriter(
                path, spec, encoding, header_labels(spec, rng, options.dialect)
            )
        yield writers
    finally:
        for writer in writers.values():
            writer.close()


class _Run:
    """One generation: the RNGs, the ID counters, the writers and the injected errors."""

    def __init__(self, options: GeneratorOptions, writers: dict[str, TableWriter]) -> None:
        self.options, self.writers = options, writers
        self.rng = random.Random(options.seed)
        self.faults = random.Random(options.seed ^ 0x5EED)
        self.ids = dict(_FIRST_IDS)
        self.injected: list[InjectedError] = []
        self.planted = Planted()
        self.force_bad_byte = False
        has_faults = options.error_rate > 0
        self.marked_patient = str(FIRST_PATIENT_ID + options.patients // 2) if has_faults else ""

    def emit(self, entity: str, row: dict[str, str]) -> int:
        writer = self.writers[entity]
        extra = None
        is_fault = self.faults.random() < self.options.error_rate
        if entity == "patient" and row["patient_id"] == self.marked_patient:
            is_fault, self.force_bad_byte = True, True  # every bundle shows undecodable bytes
        code = self._fault(entity, row) if is_fault else None
        if code == "column_count":
            extra = "EXTRA"
        line = writer.write(row, extra=extra)
        if code is not None:
            key = row[file_for_entity(entity).pk[0]]
            self.injected.append(InjectedError(writer.path.name, line, str(int(key)), code))
        return line

    def _fault(self, entity: str, row: dict[str, str]) -> str | None:
        if entity == "custom_field":
            return None  # composite keys: keep them clean
        kind = self.faults.choice(("column_count", "bad_integer", "broken_quoting", "bad_value"))
        if entity == "patient" and (self.force_bad_byte or self.faults.random() < 0.3):
            self.force_bad_byte = False
            row["last_name"] = (
                row["last_name"][:1] + _BAD_BYTE[self.options.encoding] + row["last_name"][1:]
            )
            return "undecodable_bytes"
        if kind == "bad_integer":
            column = next(
                (
                    c.name
                    for c in file_for_entity(entity).columns
                    if c.type == "int" and not c.is_pk
                ),
                None,
            )
            if column is None:
                return "column_count"
            row[column] = "1O"
        elif kind == "broken_quoting":
            for name in list(row):
                row[name] = row[name].replace("\n", " ").replace("\r", " ")
            row[file_for_entity(entity).columns[1].name] = BROKEN_TOKEN
        elif kind == "bad_value":
            row[file_for_entity(entity).pk[0]] = row[file_for_entity(entity).pk[0]]
            target = _required_date(entity)
            if target is None:
                return "column_count"
            row[target] = "13/45/2024"
        return kind

    def person(self, person: Person, staff: Staff) -> None:
        rng, ids = self.rng, self.ids
        row = patient_row(rng, person)
        self._plant(row, self.emit("patient", row), person)
        if self.options.patients_only:
            return
        visits = appointment_rows(rng, person, staff, ids)
        procedure_rows(rng, person, visits, ids)
        for entity in ("appointment", "treatment_plan", "procedure"):
            for row in visits.rows[entity]:
                self.emit(entity, row)
        policies = policy_rows(rng, person, ids)
        for _, row in policies:
            self.emit("insurance_policy", row)
        claims = claim_rows(rng, person, visits, [pid for pid, _ in policies], ids)
        for _, _, row in claims:
            self.emit("claim", row)
        for entity, rows in (
            ("referral", referral_rows(rng, person, ids)),
            (
                "payment",
                payment_rows(rng, person, staff, visits, [(c, p) for c, p, _ in claims], ids),
            ),
            ("recall", recall_rows(rng, person, staff, ids)),
            ("attachment", attachment_rows(rng, person, staff, visits, ids)),
            ("communication", communication_rows(rng, person, staff, visits, ids)),
            ("custom_field", custom_field_rows(rng, person)),
        ):
            for row in rows:
                self.emit(entity, row)
        for claim_id, _, _ in claims[:1]:
            self.writers["custom_field"].write(_claim_code(rng, claim_id))

    def _plant(self, row: dict[str, str], line: int, person: Person) -> None:
        """List what this patient row holds on purpose (the row as written, faults included)."""
        name, key = self.writers["patient"].path.name, str(person.id)
        if person.duplicate_of is not None:
            original = str(person.duplicate_of.id)
            self.planted.duplicate_patients.append(PlantedDuplicate(name, line, key, original))
        for column in ("home_phone", "work_phone", "cell_phone"):
            text = row.get(column, "")
            digits = sum(ch.isdigit() for ch in text)
            problem = "placeholder" if text == "none" else "no_area_code" if digits == 7 else ""
            if problem:
                self.planted.unusable_phones.append(PlantedPhone(name, line, key, column, problem))


def _required_date(entity: str) -> str | None:
    for column in file_for_entity(entity).columns:
        if column.required and column.type in {"date", "datetime"}:
            return column.name
    return None


def _claim_code(rng: random.Random, claim_id: int) -> dict[str, str]:
    return {
        "record_type": "Claim",
        "record_id": str(claim_id),
        "field_key": "CLAIM_STATUS_CODE",
        "field_label": "Clearinghouse status",
        "field_type": "Text",
        "value": rng.choice(("A1", "A2", "P1", "F1", "F2")),
        "last_modified": "03/01/2025 12:10:44 PM",
    }


def generate_export(options: GeneratorOptions) -> GenerationResult:
    """Write a full synthetic export (14 files, `_export_info.txt`, the manifest) to `out`.

    Raises:
        BadInputError: when `out` exists and is not an empty directory.
    """
    _prepare(options.out)
    with _writers(options, random.Random(options.seed ^ 0x4EAD)) as writers:
        run = _Run(options, writers)
        locations = make_locations(run.rng, options.locations)
        staff = make_staff(options.locations)
        for row in practice_rows(run.rng, locations):
            writers["practice"].write(row)
        for row in provider_rows(run.rng, staff, options.locations):
            writers["provider"].write(row)
        for row in staff_field_rows(run.rng, staff, options.locations):
            writers["custom_field"].write(row)
        for person in iter_people(run.rng, options.patients, locations, staff):
            run.person(person, staff)
        writers["payment"].write_raw(f'Total Payments: {writers["payment"].rows:,},,,,"$0.00"\r\n')
        writers["appointment"].write_raw("\r\n")
        files = {w.path.name: w.rows for w in writers.values()}
    _write_info(options)
    result = GenerationResult(options.out, files, run.injected, run.planted)
    _write_manifest(options, result)
    return result


def _prepare(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInputError(
            "output exists and is not an empty directory; choose a new --out", file=str(out)
        )
    out.mkdir(parents=True, exist_ok=True)


def _write_info(options: GeneratorOptions) -> None:
    encoding = "Windows-1252" if options.encoding == "cp1252" else "UTF-8"
    locations = ";".join(str(n) for n in range(1, options.locations + 1))
    text = (
        f"Product: Dental-Exec 7.4.2\r\nExported: {EXPORT_AT.strftime('%m/%d/%Y %I:%M:%S %p')}\r\n"
        f"Practice Code: BRSM\r\nLocations: {locations}\r\nModified Since: \r\n"
        f"Include Deleted: Yes\r\nEncoding: {encoding}\r\n"
    )
    (options.out / "_export_info.txt").write_bytes(text.encode("ascii"))


def _write_manifest(options: GeneratorOptions, result: GenerationResult) -> None:
    manifest = {
        "kind": "full",
        "seed": options.seed,
        "patients": options.patients,
        "locations": options.locations,
        "encoding": options.encoding,
        "files": result.files,
        "injected_errors": msgspec.to_builtins(result.injected_errors),
        "planted": msgspec.to_builtins(result.planted),
    }
    if options.dialect != "canonical":  # canonical manifests stay byte-identical
        manifest["dialect"] = options.dialect
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (options.out / MANIFEST).write_text(text, encoding="utf-8")

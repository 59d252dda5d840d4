"""Change sets on the source truth: what the practice does in Dental-Exec during the cutover.

An operation is `(kind, entity, pick)`: `pick` chooses among the eligible rows (modulo their
number), so hypothesis shrinks towards the first eligible row. Kinds:

- `change`: the checked fields of patients, appointments, policies and payments (a name, a
  phone, an email, a status, a note, a group number, an amount, ...), a text column elsewhere;
- `new`: a copy of a live row under the next free key (patients get their own email);
- `soft_delete`: `Status = Deleted` for a patient, `Deleted = Y` where the file has the column;
- `hard_delete`: the row disappears, with the rows that require it (a patient's whole chart,
  a policy's claims). Only a later full export shows it; in a delta bundle it is a no-op.

Patients are deleted only when no other patient's rows point at them (guarantor, subscriber,
referrer): a dangling required link is a different story than a cutover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.export_format import CUSTOM_RECORD_ENTITY, BoolFlavour
from tests.cutover.expected import fates
from tests.cutover.source import EXPORT_FORMAT, REQUIRED_PARENTS, Truth

OPERATIONS: tuple[tuple[str, str], ...] = (
    *(("change", e) for e in ("patient", "appointment", "insurance_policy", "payment",
                               "treatment_plan", "procedure", "communication", "attachment")),
    *(("new", e) for e in ("patient", "appointment", "insurance_policy", "payment",
                            "communication")),
    *(("soft_delete", e) for e in ("patient", "appointment", "communication", "attachment",
                                    "procedure")),
    *(("hard_delete", e) for e in ("patient", "appointment", "payment", "insurance_policy",
                                    "communication")),
)  # fmt: skip
_APPOINTMENT_STATUSES = ("Scheduled", "Completed", "Cancelled", "No-Show", "Broken")
_TEXT_COLUMNS = ("note", "notes", "description", "subject", "patient_note")
_YES = {
    BoolFlavour.YN: "Y", BoolFlavour.YES_NO: "Yes", BoolFlavour.ONE_ZERO: "1",
    BoolFlavour.TRUE_FALSE: "True",
}  # fmt: skip


@dataclass
class Applied:
    """What one change set did: rows to put in a delta bundle, and what it did, for a log."""

    touched: set[str] = field(default_factory=set)  # `entity:key`
    log: list[str] = field(default_factory=list)


def apply(
    truth: Truth,
    operations: list[tuple[str, str, int]],
    stamp: datetime,
    *,
    full: bool,
    serial: int,
) -> Applied:
    """Apply the operations to `truth` in place; `serial` makes the new values unique."""
    applied = Applied()
    for number, (kind, entity, pick) in enumerate(operations):
        if kind == "hard_delete" and not full:
            applied.log.append(f"{kind} {entity}: not visible in a delta bundle, skipped")
            continue
        table = truth.tables[entity]
        candidates = _eligible(truth, kind, entity)
        if not candidates:
            applied.log.append(f"{kind} {entity}: no eligible row")
            continue
        key = candidates[pick % len(candidates)]
        unique = serial * 100 + number
        if kind == "change":
            column = _change(truth, entity, key, unique)
            applied.log.append(f"change {entity}:{key} {column}")
        elif kind == "new":
            key = _new(truth, entity, key, unique)
            applied.log.append(f"new {entity}:{key}")
        elif kind == "soft_delete":
            if entity == "patient":
                table.set(key, "status", "Deleted")
            else:
                table.set(key, table.spec.deleted_column or "", _YES[table.spec.bool_flavour])
            applied.log.append(f"soft_delete {entity}:{key}")
        else:
            gone = _hard_delete(truth, entity, key)
            applied.log.append(f"hard_delete {entity}:{key} (+{len(gone) - 1} dependent rows)")
            continue
        if table.has("last_modified"):
            table.set(key, "last_modified", stamp.strftime(EXPORT_FORMAT))
        applied.touched.add(f"{entity}:{key}")
    return applied


def _eligible(truth: Truth, kind: str, entity: str) -> list[str]:
    fate = fates(truth)
    keys = [k for k in truth.tables[entity].rows if fate.of(entity, k) == "expected"]
    if kind in ("soft_delete", "hard_delete"):
        keys = [k for k in keys if _is_alone(truth, entity, k)]
    return keys


def _dependents(truth: Truth, entity: str, key: str) -> set[tuple[str, str]]:
    """The row and every row that requires it, transitively."""
    found = {(entity, key)}
    changed = True
    while changed:
        changed = False
        for child, table in truth.tables.items():
            for row_key in table.rows:
                if (child, row_key) in found:
                    continue
                if (
                    any(
                        (parent, _id(table.get(row_key, column))) in found
                        for column, parent in REQUIRED_PARENTS.get(child, ())
                        if table.has(column)
                    )
                    or _custom_owner(truth, child, row_key) in found
                ):
                    found.add((child, row_key))
                    changed = True
    return found


def _is_alone(truth: Truth, entity: str, key: str) -> bool:
    """No row outside what a delete of this row takes along points at any of it."""
    group = _dependents(truth, entity, key)
    for child, table in truth.tables.items():
        links = table.spec.foreign_keys
        for row_key in table.rows:
            if (child, row_key) in group:
                continue
            for column, parent in links.items():
                if table.has(column) and (parent, _id(table.get(row_key, column))) in group:
                    return False
    return True


def _custom_owner(truth: Truth, entity: str, key: str) -> tuple[str, str] | None:
    if entity != "custom_field":
        return None
    table = truth.tables[entity]
    owner = CUSTOM_RECORD_ENTITY.get(table.get(key, "record_type").strip().lower())
    return (owner, _id(table.get(key, "record_id"))) if owner else None


def _id(text: str) -> str:
    text = text.strip()
    return str(int(text)) if text.isdecimal() else text


def _hard_delete(truth: Truth, entity: str, key: str) -> set[tuple[str, str]]:
    gone = _dependents(truth, entity, key)
    for child, row_key in gone:
        del truth.tables[child].rows[row_key]
    return gone


def _change(truth: Truth, entity: str, key: str, unique: int) -> str:
    table = truth.tables[entity]
    variant = unique % 3
    if entity == "patient":
        column, value = [
            ("last_name", f"{table.get(key, 'last_name')}-{unique}"),
            ("cell_phone", f"(555) 555-{unique % 10000:04d}"),
            ("email", f"cutover.{unique}.{key}@mail.example"),
        ][variant]
    elif entity == "appointment":
        column, value = [
            ("status", _APPOINTMENT_STATUSES[unique % len(_APPOINTMENT_STATUSES)]),
            ("note", f"cutover note {unique}"),
            ("status", _APPOINTMENT_STATUSES[(unique + 2) % len(_APPOINTMENT_STATUSES)]),
        ][variant]
    elif entity == "insurance_policy":
        column, value = [
            ("group_number", f"GRP-C{unique}"),
            ("subscriber_id", f"SUB{unique:08d}"),
            ("group_number", f"GRP-D{unique}"),
        ][variant]
    elif entity == "payment":
        column, value = [
            ("amount", f"${(unique * 7) % 900 + 10}.{unique % 100:02d}"),
            ("check_ref_number", f"CHK{unique}"),
            ("amount", f"${(unique * 13) % 400 + 5}.00"),
        ][variant]
    else:
        column = next(c for c in _TEXT_COLUMNS if table.has(c))
        value = f"{table.get(key, column)} (cutover {unique})".strip()
    table.set(key, column, value)
    return column


def _new(truth: Truth, entity: str, template: str, unique: int) -> str:
    table = truth.tables[entity]
    key = str(1 + max(int(k) for k in table.rows))
    cells = list(table.rows[template])
    table.rows[key] = cells
    table.set(key, table.spec.pk[0], key)
    if entity == "patient":
        table.set(key, "first_name", f"New{unique}")
        table.set(key, "email", f"new.{unique}@mail.example")
        if table.has("chart_number"):
            table.set(key, "chart_number", f"NEW{unique}")
        table.set(key, "guarantor_id", key)
        table.set(key, "relationship_to_guarantor", "Self")
    return key

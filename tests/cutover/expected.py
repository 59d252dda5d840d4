"""What Twenty must hold for a source truth: plain rules written from the runbook, not Ferry.

Every row gets a fate: `expected` (one live record carrying its dentalExecId, with the
checked fields equal to the row's), `absent` (no live record: rejected on purpose by the
generator, a required parent absent, or deleted in the source once the deletes are applied)
or `free` (either: a row whose patient or plan was deleted in Dental-Exec but which is still
exported itself; Ferry leaves such records in Twenty until told, and a rerun refuses them as
orphans, so both are right). Exact field checks cover patients, appointments, insurance
policies and payments; the other entities are checked for existence and duplicates only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.cutover.source import REQUIRED_PARENTS, Truth

# entity -> (Twenty object, how its dentalExecId spells the key)
OBJECT_OF: dict[str, tuple[str, str]] = {
    "practice": ("companies", "{key}"),
    "patient": ("people", "{key}"),
    "appointment": ("tasks", "appointment:{key}"),
    "recall": ("tasks", "recall:{key}"),
    "treatment_plan": ("treatments", "{key}"),
    "procedure": ("procedures", "{key}"),
    "insurance_policy": ("insurances", "{key}"),
    "claim": ("claims", "{key}"),
    "payment": ("payments", "{key}"),
    "attachment": ("notes", "attachment:{key}"),
    "communication": ("communications", "{key}"),
}
# Entities whose existence is modelled; referrals (only some become notes), providers
# (members) and custom fields (folded into their owner) are counted for duplicates only.
MODELLED = tuple(OBJECT_OF)
EXACT = ("patient", "appointment", "insurance_policy", "payment")
# Dental-Exec appointment status -> the task's appointmentStatus (docs/mapping.md's table).
APPOINTMENT_STATUS = {
    "scheduled": "SCHEDULED", "completed": "COMPLETED", "cancelled": "CANCELLED",
    "broken": "NO_SHOW", "no-show": "NO_SHOW", "confirmed": "CONFIRMED",
}  # fmt: skip
_EMAIL = re.compile(r"^[a-z0-9._%+'-]+@[a-z0-9.-]+\.[a-z]{2,}$")


@dataclass(frozen=True)
class Fates:
    """The fate of every row, by entity and key."""

    by_entity: dict[str, dict[str, str]]

    def of(self, entity: str, key: str) -> str:
        return self.by_entity.get(entity, {}).get(key, "absent")


def fates(truth: Truth) -> Fates:
    """Walk the entities parents first; a row's fate follows its own state and its parents'."""
    out: dict[str, dict[str, str]] = {}
    parents = ["practice", "patient", "treatment_plan", "insurance_policy"]
    order = parents + [e for e in MODELLED if e not in parents]
    for entity in order:
        table = truth.tables.get(entity)
        if table is None:
            continue
        found: dict[str, str] = {}
        for key in table.rows:
            if (entity, key) in truth.rejected:
                found[key] = "absent"
            elif table.is_deleted(key):
                found[key] = "deleted"
            else:
                found[key] = _by_parents(truth, out, entity, key)
        out[entity] = found
    return Fates(out)


def _by_parents(truth: Truth, known: dict[str, dict[str, str]], entity: str, key: str) -> str:
    fate = "expected"
    table = truth.tables[entity]
    for column, parent in REQUIRED_PARENTS.get(entity, ()):
        if not table.has(column):
            continue
        raw = table.get(key, column).strip()
        if not raw or not raw.isdecimal() or int(raw) == 0:
            if entity == "procedure" and column == "plan_id":
                continue  # completed lines without a plan
            return "absent"
        parent_fate = known.get(parent, {}).get(str(int(raw)), "absent")
        if parent_fate == "absent":
            return "absent"
        if parent_fate in ("deleted", "free"):
            fate = "free"
    return fate


# --- field values -------------------------------------------------------------------------


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def _digits(value: str) -> str | None:
    digits = re.sub(r"\D", "", value.split("x")[0].split("ext")[0])
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def _micros(value: str) -> int | None:
    text = value.strip().replace("$", "").replace(",", "")
    if not text:
        return None
    negative = text.startswith("-") or text.startswith("(")
    amount = Decimal(text.strip("-()"))
    return int(amount * 1_000_000) * (-1 if negative else 1)


def _iso_date(value: str) -> str | None:
    value = value.strip()
    return datetime.strptime(value, "%m/%d/%Y").date().isoformat() if value else None


def differences(truth: Truth, entity: str, key: str, record: dict[str, Any]) -> list[str]:
    """The checked fields of `record` that do not hold what the row says."""
    table = truth.tables[entity]

    def cell(column: str) -> str:
        return table.get(key, column) if table.has(column) else ""

    wrong: list[str] = []

    def expect(name: str, actual: Any, wanted: Any) -> None:
        if actual != wanted:
            wrong.append(f"{name}: {actual!r} != {wanted!r}")

    if entity == "patient":
        name = record.get("name") or {}
        expect("name.firstName", _text(name.get("firstName") or ""), _text(cell("first_name")))
        expect("name.lastName", _text(name.get("lastName") or ""), _text(cell("last_name")))
        email = cell("email").strip().lower()
        if _EMAIL.match(email) and not email.split("@")[0].startswith(("none", "noemail")):
            held = {((record.get("emails") or {}).get("primaryEmail") or "").lower(),
                    (record.get("sharedEmail") or "").lower()}  # fmt: skip
            expect("emails", email in held, True)
        phones = record.get("phones") or {}
        got = {_digits(phones.get("primaryPhoneNumber") or "")} | {
            _digits(p.get("number") or "") for p in phones.get("additionalPhones") or []
        }
        wanted = {_digits(cell(c)) for c in ("home_phone", "work_phone", "cell_phone")}
        expect("phones", got - {None}, wanted - {None})
    elif entity == "appointment":
        status = APPOINTMENT_STATUS.get(cell("status").strip().lower())
        if status is not None:
            expect("appointmentStatus", record.get("appointmentStatus"), status)
        expect("taskType", record.get("taskType"), "APPOINTMENT")
        kind = cell("appt_type").strip()
        title = record.get("title") or ""
        expect("title", title.startswith(f"Appt: {kind}" if kind else "Appt: "), True)
        note = " ".join(cell("note").split())  # line endings are the body's own
        if note:
            body = " ".join(((record.get("bodyV2") or {}).get("markdown") or "").split())
            expect("bodyV2 holds the note", note in body, True)
    elif entity == "insurance_policy":
        expect("carrier", _text(record.get("carrier") or ""), _text(cell("carrier_name")))
        subscriber = _text(record.get("subscriberId") or "")
        expect("subscriberId", subscriber, _text(cell("subscriber_id")))
        expect("groupNumber", _text(record.get("groupNumber") or ""), _text(cell("group_number")))
    elif entity == "payment":
        amount = (record.get("amount") or {}).get("amountMicros")
        expect("amount", amount, _micros(cell("amount")))
        expect("paymentDate", record.get("paymentDate"), _iso_date(cell("payment_date")))
        expect("reference", _text(record.get("reference") or ""), _text(cell("check_ref_number")))
    return wrong

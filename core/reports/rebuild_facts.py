"""What the export holds that Twenty will not do by itself, counted from the event store.

Read from the latest RecordExtracted row of every record (streamed, one record at a time).
Only counts, codes and the practice's own vocabulary (recall types, statuses, roles, custom
field keys, MIME types) are kept: never a patient value.

One thing is counted under one name: claim statuses are read through the claim status value
map (`S` and `Sent` are both `Sent`), recall intervals through the interval parser (`6M`,
`6 mo`, `q6mo` are all `6 months`), and hygienists are counted apart from providers.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec

from core.mapping.valuemaps import default_value_maps
from core.values.dental import parse_recall_interval
from core.values.errors import ValueParseError
from core.values.money import parse_money
from events.types import RecordExtracted, decode

__all__ = ["RebuildFacts", "collect_facts"]

_CLOSED_STAGES = {"completed", "complete", "done", "deleted", "rejected", "declined"}
_CLOSED_CLAIMS = {"paid", "closed", "denied", "void", "voided"}
_CLOSED_CLAIM_OPTIONS = {"PAID", "DENIED", "VOIDED"}
_HYGIENIST_ROLES = {"hygienist", "rdh"}
NO_TYPE = "(none)"


class RebuildFacts(msgspec.Struct, kw_only=True):
    """Counts per kind of thing to rebuild; every Counter maps vocabulary to a count."""

    recall_types: Counter[str] = msgspec.field(default_factory=Counter)
    recall_status: Counter[str] = msgspec.field(default_factory=Counter)
    recall_intervals: Counter[str] = msgspec.field(default_factory=Counter)
    payments: int = 0
    payments_with_balance: int = 0
    patients: int = 0
    patients_with_balance: int = 0
    providers: Counter[str] = msgspec.field(default_factory=Counter)  # code -> appointments
    hygienists: Counter[str] = msgspec.field(default_factory=Counter)  # code -> appointments
    staff_roles: dict[str, str] = msgspec.field(default_factory=dict)  # code -> role
    roles: Counter[str] = msgspec.field(default_factory=Counter)
    staff: int = 0
    appointment_status: Counter[str] = msgspec.field(default_factory=Counter)
    plan_status: Counter[str] = msgspec.field(default_factory=Counter)
    open_stages: Counter[str] = msgspec.field(default_factory=Counter)
    plans_with_open_stages: int = 0
    custom_fields: Counter[str] = msgspec.field(default_factory=Counter)  # type/key/label
    attachments: int = 0
    attachment_categories: Counter[str] = msgspec.field(default_factory=Counter)
    attachment_types: Counter[str] = msgspec.field(default_factory=Counter)
    open_claims: Counter[str] = msgspec.field(default_factory=Counter)


def _latest_rows(conn: sqlite3.Connection) -> Iterator[tuple[str, dict[str, str | None]]]:
    """(entity, row) of each record's latest extraction, in stream order."""
    sql = (
        "SELECT stream_id, data FROM events WHERE type = 'RecordExtracted' "
        "ORDER BY stream_id, position"
    )
    last: tuple[str, str] | None = None
    for stream_id, data in conn.execute(sql):
        if last is not None and last[0] != stream_id:
            yield _row(*last)
        last = (stream_id, data)
    if last is not None:
        yield _row(*last)


def _row(stream_id: str, data: str) -> tuple[str, dict[str, str | None]]:
    event = decode(data)
    assert isinstance(event, RecordExtracted)
    return stream_id.partition(":")[0], event.row


def _value(row: dict[str, str | None], column: str) -> str:
    return (row.get(column) or "").strip()


def _is_deleted(row: dict[str, str | None]) -> bool:
    return _value(row, "deleted").upper() in ("Y", "TRUE", "1") or (
        _value(row, "status").lower() == "deleted"
    )


def _money(text: str) -> int:
    try:
        return parse_money(text) or 0
    except ValueParseError:
        return 0


def collect_facts(conn: sqlite3.Connection) -> RebuildFacts:
    """Count what the export holds, per kind, from the store."""
    facts = RebuildFacts()
    open_plans: set[str] = set()
    for entity, row in _latest_rows(conn):
        if _is_deleted(row):
            continue
        handler = _HANDLERS.get(entity)
        if handler is not None:
            handler(facts, row)
        if entity == "procedure" and _value(row, "stage").lower() not in _CLOSED_STAGES:
            open_plans.add(_value(row, "plan_id"))
    open_plans.discard("")
    facts.plans_with_open_stages = len(open_plans)
    _set_hygienists_apart(facts)
    return facts


def _set_hygienists_apart(facts: RebuildFacts) -> None:
    """Codes whose staff role is a hygienist's move from `providers` to `hygienists` (the
    appointment rows are read before the provider rows that say who is what)."""
    for code, role in facts.staff_roles.items():
        if role.lower() in _HYGIENIST_ROLES and code in facts.providers:
            facts.hygienists[code] += facts.providers.pop(code)


def _interval_name(text: str) -> str:
    """`6 months` for every spelling of six months; the text itself when it is no interval."""
    try:
        parsed = parse_recall_interval(text)
    except ValueParseError:
        return text
    if parsed is None:
        return NO_TYPE
    return "1 month" if parsed.months == 1 else f"{parsed.months} months"


_CLAIM_STATUS = default_value_maps()["claim_status"]
# option -> the first (long) code the map lists for it: `SENT` -> `Sent`
_CLAIM_LABELS: dict[str, str] = {}
for _code, _option in _CLAIM_STATUS.values.items():
    _CLAIM_LABELS.setdefault(_option, _code)


def _claim_status(text: str) -> tuple[str, bool]:
    """(the status's one name, whether the claim is still open)."""
    option = _CLAIM_STATUS.lookup(text) if text else None
    if option is None:
        return text or NO_TYPE, text.lower() not in _CLOSED_CLAIMS
    return _CLAIM_LABELS[option], option not in _CLOSED_CLAIM_OPTIONS


def _recall(facts: RebuildFacts, row: dict[str, Any]) -> None:
    facts.recall_types[_value(row, "recall_type") or NO_TYPE] += 1
    facts.recall_status[_value(row, "status") or NO_TYPE] += 1
    facts.recall_intervals[_interval_name(_value(row, "interval"))] += 1


def _payment(facts: RebuildFacts, row: dict[str, Any]) -> None:
    facts.payments += 1
    facts.payments_with_balance += _money(_value(row, "balance_after")) > 0


def _patient(facts: RebuildFacts, row: dict[str, Any]) -> None:
    facts.patients += 1
    facts.patients_with_balance += _money(_value(row, "balance")) > 0


def _provider(facts: RebuildFacts, row: dict[str, Any]) -> None:
    facts.staff += 1
    facts.roles[_value(row, "role") or NO_TYPE] += 1
    code = _value(row, "code").upper()
    if code:
        facts.staff_roles[code] = _value(row, "role")
    if _value(row, "is_provider").upper() == "Y" and code:
        facts.providers.setdefault(code, 0)


def _appointment(facts: RebuildFacts, row: dict[str, Any]) -> None:
    facts.appointment_status[_value(row, "status") or "(none)"] += 1
    for column in ("provider", "hygienist"):
        code = _value(row, column).upper()
        if code:
            facts.providers[code] += 1


def _plan(facts: RebuildFacts, row: dict[str, Any]) -> None:
    facts.plan_status[_value(row, "status") or "(none)"] += 1


def _procedure(facts: RebuildFacts, row: dict[str, Any]) -> None:
    stage = _value(row, "stage")
    if stage.lower() not in _CLOSED_STAGES:
        facts.open_stages[stage or "(none)"] += 1


def _custom_field(facts: RebuildFacts, row: dict[str, Any]) -> None:
    key = (
        f"{_value(row, 'record_type')} / {_value(row, 'field_key')} / {_value(row, 'field_label')}"
    )
    facts.custom_fields[key] += 1


def _attachment(facts: RebuildFacts, row: dict[str, Any]) -> None:
    facts.attachments += 1
    facts.attachment_categories[_value(row, "category") or "(none)"] += 1
    facts.attachment_types[_value(row, "mime_type") or "(unknown)"] += 1


def _claim(facts: RebuildFacts, row: dict[str, Any]) -> None:
    name, is_open = _claim_status(_value(row, "status"))
    if is_open:
        facts.open_claims[name] += 1


_HANDLERS = {
    "recall": _recall,
    "payment": _payment,
    "patient": _patient,
    "provider": _provider,
    "appointment": _appointment,
    "treatment_plan": _plan,
    "procedure": _procedure,
    "custom_field": _custom_field,
    "attachment": _attachment,
    "claim": _claim,
}

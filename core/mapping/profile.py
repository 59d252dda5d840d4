"""Value profiles: which share of a column's sampled values parses as each kind."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from core.export_format import CODE_SETS, ColumnSpec, ColumnType
from core.values import (
    ValueParseError,
    is_valid_npi,
    normalize_cdt,
    parse_date,
    parse_datetime,
    parse_email,
    parse_money,
    parse_phone,
    parse_time,
    parse_tooth,
)

__all__ = ["CODE_SET_OF", "KINDS", "expected_kind", "profile_values", "value_score"]

# (entity, column) -> the code set its values come from (reference §4).
CODE_SET_OF: dict[tuple[str, str], str] = {
    ("practice", "tooth_numbering"): "tooth_numbering",
    ("provider", "role"): "role",
    ("provider", "specialty"): "specialty",
    ("patient", "gender"): "gender",
    ("patient", "status"): "patient_status",
    ("patient", "preferred_contact"): "preferred_contact",
    ("patient", "relationship_to_guarantor"): "guarantor_relationship",
    ("appointment", "appt_type"): "appointment_type",
    ("appointment", "status"): "appointment_status",
    ("appointment", "confirmation"): "confirmation",
    ("treatment_plan", "status"): "plan_status",
    ("procedure", "stage"): "procedure_stage",
    ("procedure", "priority"): "priority",
    ("insurance_policy", "coverage_order"): "coverage_order",
    ("insurance_policy", "coverage_type"): "coverage_type",
    ("insurance_policy", "relationship"): "policy_relationship",
    ("insurance_policy", "status"): "policy_status",
    ("claim", "claim_type"): "claim_type",
    ("claim", "status"): "claim_status",
    ("referral", "direction"): "referral_direction",
    ("referral", "source_type"): "referral_source_type",
    ("referral", "status"): "referral_status",
    ("payment", "method"): "payment_method",
    ("payment", "payer_type"): "payer_type",
    ("recall", "category"): "recall_category",
    ("recall", "recall_type"): "recall_type",
    ("recall", "status"): "recall_status",
    ("attachment", "linked_record_type"): "attachment_record_type",
    ("attachment", "category"): "attachment_category",
    ("communication", "mode"): "comm_mode",
    ("communication", "direction"): "comm_direction",
    ("communication", "type"): "comm_type",
    ("custom_field", "record_type"): "custom_record_type",
    ("custom_field", "field_type"): "custom_field_type",
}
# Text columns whose values have a kind of their own.
_SPECIAL_KIND = {
    "cdt_code": "cdt",
    "tooth": "tooth",
    "referring_npi": "npi",
    "zip": "zip",
    "address_1": "address",
}
_BOOLS = {"y", "n", "yes", "no", "1", "0", "true", "false"}
_ZIP = re.compile(r"^\d{3,5}(-?\d{4})?$")
_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}$")
# A street line: a house number and a word (`88 Alder St`, `1200-B Main`), or a PO box.
_ADDRESS = re.compile(r"^\s*(\d+[-\w]*\s+[^\W\d]\w*|p\.?\s*o\.?\s*box\b)", re.IGNORECASE)


def _ok(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            return parse(text) is not None
        except ValueParseError:
            return False

    return check


def _is_email(text: str) -> bool:
    parsed = parse_email(text)
    return parsed is not None and (parsed.address is not None or "@" in text)


def _is_phone(text: str) -> bool:
    if _DATE.match(text) or (text.isdecimal() and len(text) < 7):
        return False
    parsed = parse_phone(text)
    return parsed is not None and (parsed.e164 is not None or parsed.problem == "no_area_code")


def _is_money(text: str) -> bool:
    return "$" in text and _ok(parse_money)(text)


def _is_cdt(text: str) -> bool:
    code = normalize_cdt(text)
    return code is not None and code.is_standard


def _is_time(text: str) -> bool:
    return "/" not in text and ":" in text and _ok(parse_time)(text)


def _is_datetime(text: str) -> bool:
    return ":" in text and "/" in text and _ok(parse_datetime)(text)


def _is_tooth(text: str) -> bool:
    return len(text) <= 3 and _ok(parse_tooth)(text)


KINDS: dict[str, Callable[[str], bool]] = {
    "email": _is_email,
    "phone": _is_phone,
    "date": lambda t: bool(_DATE.match(t)) and _ok(parse_date)(t),
    "datetime": _is_datetime,
    "time": _is_time,
    "money": _is_money,
    "cdt": _is_cdt,
    "npi": is_valid_npi,
    "tooth": _is_tooth,
    "bool": lambda t: t.lower() in _BOOLS,
    "int": lambda t: t.isdecimal(),
    "list": lambda t: ";" in t,
    "zip": lambda t: bool(_ZIP.match(t)),
    "address": lambda t: bool(_ADDRESS.match(t)),
}
_TYPE_KIND = {
    ColumnType.INT: "int",
    ColumnType.DATE: "date",
    ColumnType.TIME: "time",
    ColumnType.DATETIME: "datetime",
    ColumnType.MONEY: "money",
    ColumnType.BOOL: "bool",
    ColumnType.PHONE: "phone",
    ColumnType.EMAIL: "email",
}
_STRONG = ("email", "date", "datetime", "money", "cdt", "time")


def profile_values(values: Sequence[str]) -> dict[str, float]:
    """Kind -> share of the (non-empty) values that parse as that kind."""
    if not values:
        return {}
    return {kind: sum(1 for v in values if check(v)) / len(values) for kind, check in KINDS.items()}


def expected_kind(entity: str, column: ColumnSpec) -> str:
    """The kind a column's values should have (`enum`, `text`, `list` or a KINDS name)."""
    if column.name in _SPECIAL_KIND:
        return _SPECIAL_KIND[column.name]
    if (entity, column.name) in CODE_SET_OF:
        return "enum"
    if column.type == ColumnType.LIST:
        return "list"
    return _TYPE_KIND.get(column.type, "text")


def value_score(
    entity: str, column: ColumnSpec, values: Sequence[str], profile: dict[str, float]
) -> tuple[float, str]:
    """How well sampled values fit a column (0-1), and the words for the evidence."""
    kind = expected_kind(entity, column)
    if kind == "enum":
        codes = {c.casefold() for c in CODE_SETS[CODE_SET_OF[(entity, column.name)]]}
        share = sum(1 for v in values if " ".join(v.split()).casefold() in codes) / len(values)
        return share, f"{share:.0%} in code set {CODE_SET_OF[(entity, column.name)]}"
    if kind == "text":
        strong = max((profile.get(k, 0.0) for k in _STRONG), default=0.0)
        is_short_code = all(len(v) <= 12 for v in values)
        return 1.0 - strong, f"text ({strong:.0%} typed{'; short codes' if is_short_code else ''})"
    if kind == "list":
        strong = max(profile.get(k, 0.0) for k in ("email", "date", "datetime", "money"))
        share = max(profile.get("list", 0.0), 1.0 - strong)
        return share, f"list-like ({profile.get('list', 0.0):.0%} with `;`)"
    share = profile.get(kind, 0.0)
    return share, f"{share:.0%} {kind}"

"""`validate`: what Twenty would refuse, found before anything is sent.

Checks one outcome's payload against the schema spec: every key a known field of the
object, Twenty's name rule for field names, required values, formats (dates, instants,
currency, emails, composites) and select values within the field's options. With a
`ref_state` callback it also checks that required parents are present and not rejected
(ORPHAN). Each failure is a Reason; a record with any reason becomes Rejected.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from types import FunctionType
from typing import Any, Literal

from core.mapping.outcomes import Outcome, Reason, Rejected, Transformed
from core.mapping.spec import STANDARD_FIELDS
from core.schema_spec import FieldSpec, SchemaSpec
from core.values import is_twenty_email

__all__ = ["RefState", "SpecChecks", "validate"]

RefState = Callable[[str], Literal["ok", "missing", "rejected"]]
_NAME = re.compile(r"^[a-z][a-zA-Z0-9]{0,62}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_REQUIRED = {"person": "name", "company": "name", "task": "title", "note": "title"}
_TASK_STATUS = {"TODO", "IN_PROGRESS", "DONE"}
_STANDARD_TYPES = {
    "emails": "EMAILS",
    "phones": "PHONES",
    "domainName": "LINKS",
    "address": "ADDRESS",
    "bodyV2": "RICH_TEXT_V2",
    "dueAt": "DATE_TIME",
    "createdAt": "DATE_TIME",
    "status": "TASK_STATUS",
    "assigneeId": "UUID",
    "accountOwnerId": "UUID",
}


def validate(outcome: Outcome, checks: SpecChecks, ref_state: RefState | None = None) -> Outcome:
    """The outcome itself when valid; Rejected with every reason otherwise (children apart)."""
    if not isinstance(outcome, Transformed):
        return outcome
    reasons = _payload_reasons(outcome, checks.plan(outcome.target_object))
    if ref_state is not None:
        reasons += _ref_reasons(outcome, ref_state)
    return Rejected(reasons) if reasons else outcome


def _ref_reasons(outcome: Transformed, ref_state: RefState) -> list[Reason]:
    reasons = []
    for name, ref in outcome.refs.items():
        state = ref_state(ref.stream_id)
        if ref.required and state != "ok":
            message = f"its parent {ref.stream_id} is {state}; fix or load the parent first"
            reasons.append(Reason(name, "ORPHAN", message))
    return reasons


Check = Callable[[Any], list[Reason]]


class _ObjectPlan:
    """How to check each payload key of one object, compiled once per spec and object.

    Every key met gets its check (typed, standard, bad name or unknown) the first time it
    is seen; rows then cost one dictionary lookup per key instead of a regex match, a field
    lookup and an option set built afresh.
    """

    def __init__(self, spec: SchemaSpec, target_object: str) -> None:
        obj = spec.object(target_object)
        self.fields = {f.name: f for f in obj.fields} if obj is not None else {}
        self.target_object = target_object
        self.standard = STANDARD_FIELDS.get(target_object, {"id", "createdAt", "position", "name"})
        self.is_unknown = obj is None and target_object not in STANDARD_FIELDS
        self.required = _REQUIRED.get(target_object)
        self.checks: dict[str, Check] = {}
        self.accepts = self._accepts()

    def _accepts(self) -> dict[str, object]:
        """Values whose check provably finds nothing, decided without calling it.

        Per key: True (any value passes: a standard field without a format, a spec type
        without a check), a type (a value of exactly that type passes: text, booleans,
        integers), a frozenset (a str among the select's options passes) or a function (a
        value it accepts passes: the format checks of dates, instants and amounts). Anything
        else goes through the key's full check, which words the reason.
        """
        accepts: dict[str, object] = {key: True for key in self.standard}
        for key in self.standard:
            if key in _STANDARD_TYPES:
                del accepts[key]
            if _STANDARD_TYPES.get(key) == "DATE_TIME":
                accepts[key] = _CHECKS["DATE_TIME"][0]
        for key, spec_field in self.fields.items():
            accepts.pop(key, None)
            if spec_field.type == "SELECT":
                accepts[key] = frozenset(option.value for option in spec_field.options)
            elif spec_field.type in _EXACT_TYPES:
                accepts[key] = _EXACT_TYPES[spec_field.type]
            elif spec_field.type in _CHECKS:
                accepts[key] = _CHECKS[spec_field.type][0]
            elif spec_field.type not in _CHECKS and spec_field.type != "MULTI_SELECT":
                accepts[key] = True
        return {key: rule for key, rule in accepts.items() if _NAME.match(key)}

    def check_of(self, key: str) -> Check:
        """The check of one payload key (compiled on first use)."""
        found = self.checks.get(key)
        if found is None:
            found = self.checks[key] = self._compile(key)
        return found

    def _compile(self, key: str) -> Check:
        if not _NAME.match(key):
            reasons = [Reason(key, "BAD_FIELD_NAME", f"{key!r} breaks Twenty's name rule")]
            return lambda value: list(reasons)
        if key in self.fields:
            return _typed_check(key, self.fields[key])
        if key in self.standard:
            return functools.partial(_standard, key)
        message = f"{self.target_object} has no field {key!r}; fix the mapping's target"
        return lambda value: [Reason(key, "UNKNOWN_FIELD", message)]


class SpecChecks:
    """The payload checks of one schema spec: each object's plan compiled on first use.

    Build one per spec and run, and pass it to every `validate` call: the plans (and the
    per-key checks they compile lazily) are kept here, with the spec they were made from.
    """

    def __init__(self, spec: SchemaSpec) -> None:
        self.spec = spec
        self._plans: dict[str, _ObjectPlan] = {}

    def plan(self, target_object: str) -> _ObjectPlan:
        """How to check the payload of `target_object` (an unknown object has a plan too)."""
        plan = self._plans.get(target_object)
        if plan is None:
            plan = self._plans[target_object] = _ObjectPlan(self.spec, target_object)
        return plan


def _payload_reasons(outcome: Transformed, plan: _ObjectPlan) -> list[Reason]:
    if plan.is_unknown:
        message = f"object {outcome.target_object!r} is not in the schema spec"
        return [Reason("", "UNKNOWN_OBJECT", message)]
    reasons: list[Reason] = []
    check_of, accepts = plan.check_of, plan.accepts
    for key, value in outcome.payload.items():
        rule = accepts.get(key)
        if rule is True or rule is type(value):
            continue
        kind = type(rule)
        if kind is frozenset:
            if type(value) is str and value in rule:  # type: ignore[operator]
                continue
        elif kind is FunctionType and rule(value):  # type: ignore[operator]
            continue
        found = check_of(key)(value)
        if found:
            reasons += found
    required = plan.required
    if required is not None and not _has_text(outcome.payload.get(required)):
        message = f"{outcome.target_object} needs a non-empty {required}"
        reasons.append(Reason(required, "REQUIRED", message))
    return reasons


def _has_text(value: Any) -> bool:
    if isinstance(value, dict):
        return any(isinstance(v, str) and v.strip() for v in value.values())
    return isinstance(value, str) and bool(value.strip())


def _bad(key: str, what: str) -> list[Reason]:
    return [Reason(key, "BAD_FORMAT", f"{key} is not {what}")]


_NO_REASONS: list[Reason] = []


def _typed_check(key: str, field: FieldSpec) -> Check:
    """The check of a spec field: select options, then the type's format."""
    options = frozenset(option.value for option in field.options)
    kind = field.type
    check = _CHECKS.get(kind)

    def typed(value: Any) -> list[Reason]:
        if value is None:
            return _NO_REASONS
        if kind == "SELECT" and value not in options:
            return [Reason(key, "BAD_SELECT", f"{value!r} is not an option of {key}")]
        if kind == "MULTI_SELECT":
            wrong = [v for v in value if v not in options] if isinstance(value, list) else [value]
            if wrong:
                return [Reason(key, "BAD_SELECT", f"{wrong[0]!r} is not an option of {key}")]
        return _bad(key, check[1]) if check is not None and not check[0](value) else _NO_REASONS

    return typed


def _is_address(value: Any) -> bool:
    return isinstance(value, dict) and all(key.startswith("address") for key in value)


def _is_rich_text(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("markdown"), str)


def _is_currency(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("amountMicros"), int)
        and isinstance(value.get("currencyCode"), str)
        and len(value["currencyCode"]) == 3
    )


def _standard(key: str, value: Any) -> list[Reason]:
    kind = _STANDARD_TYPES.get(key)
    if kind == "EMAILS":
        primary = value.get("primaryEmail") if isinstance(value, dict) else None
        # Twenty stores emails canonical (lower-cased, punycode domain) and refuses others.
        ok = primary is None or is_twenty_email(primary)
        return [] if ok else _bad(key, "a valid email")
    if kind == "PHONES":
        # Twenty refuses a number it cannot place in a country (no country or calling code).
        ok = (
            isinstance(value, dict)
            and str(value.get("primaryPhoneNumber", "")).isdecimal()
            and bool(value.get("primaryPhoneCountryCode") or value.get("primaryPhoneCallingCode"))
        )
        return [] if ok else _bad(key, "a phone number with its country or calling code")
    if kind == "DATE_TIME":
        return (
            [] if isinstance(value, str) and _INSTANT.match(value) else _bad(key, "a UTC instant")
        )
    if kind == "TASK_STATUS" and value not in _TASK_STATUS:
        return [Reason(key, "BAD_SELECT", f"{value!r} is not a task status")]
    if kind == "UUID" and not (isinstance(value, str) and _UUID.match(value)):
        return _bad(key, "a member id")
    return []


# Spec types whose check passes every value of exactly this Python type.
_EXACT_TYPES: dict[str, type] = {"TEXT": str, "BOOLEAN": bool, "NUMBER": int}
_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "TEXT": (lambda v: isinstance(v, str), "text"),
    "NUMBER": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "BOOLEAN": (lambda v: isinstance(v, bool), "true or false"),
    "DATE": (lambda v: isinstance(v, str) and bool(_DATE.match(v)), "a YYYY-MM-DD date"),
    "DATE_TIME": (lambda v: isinstance(v, str) and bool(_INSTANT.match(v)), "a UTC instant"),
    "CURRENCY": (_is_currency, "an amount in micros with a currency code"),
    "ADDRESS": (_is_address, "an address"),
    "RICH_TEXT_V2": (_is_rich_text, "rich text"),
}  # fmt: skip

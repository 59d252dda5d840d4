"""Helpers shared by the entity transforms: builds, members, phones, children, custom values."""

from __future__ import annotations

import functools
from typing import Any

import phonenumbers

from core.export_format import KNOWN_CUSTOM_FIELDS
from core.mapping.context import CustomValue, TransformContext
from core.mapping.engine import Build
from core.mapping.outcomes import Ref, Rejected, Transformed
from core.mapping.steps import apply_columns
from core.ports.source import SourceRow
from core.values import Phone, ValueParseError, parse_id

__all__ = [
    "assign_member",
    "child_target",
    "custom_values",
    "extra_custom",
    "finish",
    "int_value",
    "phones_value",
    "require_person",
    "start",
]

_RECORD_TYPE = {
    "patient": "Patient",
    "practice": "Location",
    "claim": "Claim",
    "insurance_policy": "Policy",
    "treatment_plan": "Plan",
    "procedure": "Procedure",
}


def start(row: SourceRow, ctx: TransformContext, location_id: int | None = None) -> Build:
    """A Build for the row with its canonical values, location set, columns applied."""
    assert row.key is not None
    build = Build(row.entity, row.key, ctx.values(row), ctx)
    build.location_id = location_id
    apply_columns(build)
    return build


def int_value(build: Build, column: str) -> int | None:
    """An ID column's value (None when blank, zero or unreadable)."""
    try:
        return parse_id(build.values.get(column))
    except ValueParseError:
        return None


# Objects that receive records of more than one export file (appointments and recalls are
# tasks; attachments, outgoing referrals and communications-as-notes are notes). IDs of
# different files overlap, so on these objects the unique `dentalExecId` names its file's
# entity too (`recall:640446`); otherwise a recall would be refused as a duplicate of the
# appointment with the same number, and linked onto it.
SHARED_OBJECTS = frozenset({"task", "note"})


def finish(build: Build, object_name: str = "", plural: str = "") -> Transformed | Rejected:
    """The outcome of a build: Rejected with every reason, or Transformed."""
    if build.reasons:
        return Rejected(list(build.reasons))
    build.finish()
    file = build.ctx.file(build.entity)
    target = object_name or file.target
    if target in SHARED_OBJECTS and "dentalExecId" in build.payload:
        build.payload["dentalExecId"] = f"{build.entity}:{build.key}"
    return Transformed(
        stream_id=f"{build.entity}:{build.key}",
        destination_id=build.ctx.ids.destination_id(build.entity, build.key),
        target_object=target,
        target_plural=plural or file.plural,
        payload=build.payload,
        refs=build.refs,
        warnings=build.warnings,
    )


def assign_member(build: Build, target: str) -> str | None:
    """Resolve the first-ranked provider code to a member into `target`; returns the code."""
    if not build.members:
        return None
    _rank, _column, code = sorted(build.members)[0]
    member_id, is_default = build.ctx.settings.owner_for(code)
    if member_id is not None:
        build.payload[target] = member_id
    if is_default:
        build.warnings.append(f"member_defaulted:{target}:{code}")
    return code


def _phone_parts(phone: Phone) -> tuple[str, str, str]:
    assert phone.e164 is not None
    return _e164_parts(phone.e164)


# The region lookup walks every region of the calling code (~250 us for +1); the answer
# depends on the E.164 text alone, so it is remembered per number (bounded).
@functools.lru_cache(maxsize=8192)
def _e164_parts(e164: str) -> tuple[str, str, str]:
    number = phonenumbers.parse(e164)
    region = phonenumbers.region_code_for_number(number)
    region = region or phonenumbers.region_code_for_country_code(number.country_code or 1)
    # The national significant number, as Twenty stores it (an Italian leading 0 is kept).
    national = phonenumbers.national_significant_number(number)
    return national, region, f"+{number.country_code}"


def phones_value(build: Build) -> dict[str, Any] | None:
    """Twenty's PHONES composite: the first-ranked usable phone primary, the rest additional."""
    usable: list[tuple[str, str, str]] = []
    for _rank, column, phone in sorted(build.phones, key=lambda item: item[0]):
        if phone.e164 is None:
            build.warnings.append(f"phone_kept_as_text:{column}:{phone.problem}")
            build.extra.append(f"{column} (not a full number): {phone.raw}")
            continue
        parts = _phone_parts(phone)
        if phone.extension:
            build.extra.append(f"{column} extension: {phone.extension}")
        if parts not in usable:
            usable.append(parts)
    if not usable:
        return None
    number, region, calling = usable[0]
    extra = [{"number": n, "countryCode": r, "callingCode": c} for n, r, c in usable[1:]]
    return {
        "primaryPhoneNumber": number,
        "primaryPhoneCountryCode": region,
        "primaryPhoneCallingCode": calling,
        "additionalPhones": extra,
    }


def child_target(build: Build, kind: str, parent: Transformed) -> None:
    """Attach a task or note target (`kind` `task`/`note`) linking `parent` to its person."""
    if not build.person_stream:
        return
    key = f"{build.entity}:{build.key}"
    entity = f"{kind}_target"
    parent.children.append(
        Transformed(
            stream_id=f"{entity}:{key}",
            destination_id=build.ctx.ids.destination_id(entity, key),
            target_object=f"{kind}Target",
            target_plural=f"{kind}Targets",
            payload={},
            refs={f"{kind}Id": Ref(parent.stream_id), "targetPersonId": Ref(build.person_stream)},
        )
    )


def require_person(build: Build) -> None:
    """A check-only ref: the record's person must exist (ORPHAN otherwise)."""
    if build.person_stream:
        build.refs["requires:patient"] = Ref(build.person_stream, write=False)


def custom_values(build: Build, entity: str) -> list[CustomValue]:
    """The custom-field values pivoted onto this record; unknown keys warned and kept as text."""
    owner = _key_int(build.key)
    found = build.ctx.custom.get((entity, owner), []) if owner is not None else []
    known = KNOWN_CUSTOM_FIELDS.get(_RECORD_TYPE.get(entity, ""), {})
    for value in found:
        if value.key not in known:
            build.warnings.append(f"custom_field_unknown:{value.key}")
    return found


def _key_int(key: str) -> int | None:
    return int(key) if key.isdecimal() else None


def extra_custom(build: Build, value: CustomValue) -> None:
    """Keep a custom value as an extra text line (`Label (KEY): value`)."""
    if value.value is not None:
        build.extra.append(f"{value.label} ({value.key}): {value.value}")

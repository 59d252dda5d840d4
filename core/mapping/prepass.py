"""`prepare_context`: one streaming pre-pass over the auxiliary data the transforms need.

Reads practices, custom fields, patients, plans and their lines, claims and referrals once
each. Locations stay in memory; every per-owner fact goes to a scratch database
(core.mapping.context_store) that the context reads back through small caches, so memory
does not grow with the export. `TransformContext.close` deletes the scratch database.
"""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

from core.export_format import CUSTOM_RECORD_ENTITY
from core.mapping.context import (
    CustomValue,
    LocationInfo,
    TransformContext,
    TransformSettings,
)
from core.mapping.context_store import ContextStore
from core.mapping.headers import file_headers, reader_renames
from core.mapping.model import Mapping
from core.ports.source import Source, SourceRow
from core.values import (
    ValueParseError,
    normalize_cdt,
    parse_bool,
    parse_date,
    parse_email,
    parse_id,
    parse_zone,
)

__all__ = ["prepare_context", "sort_date"]


def prepare_context(
    source: Source, mapping: Mapping, settings: TransformSettings
) -> TransformContext:
    """Build the TransformContext of a run in one streaming pass over the auxiliary files.

    The caller closes the context when done (or leaves it to garbage collection).
    """
    store = ContextStore()
    ctx = TransformContext(mapping=mapping, settings=settings, on_close=store.close)
    try:
        _fill(ctx, store, source, mapping)
    except BaseException:
        store.close()
        raise
    lookups = store.finish(ctx.numbering_of)
    ctx.custom, ctx.custom_owner_found = lookups.custom, lookups.custom_owner_found
    ctx.patient_location, ctx.email_owner = lookups.patient_location, lookups.email_owner
    ctx.referrals, ctx.claims, ctx.plans = lookups.referrals, lookups.claims, lookups.plans
    return ctx


def _fill(ctx: TransformContext, store: ContextStore, source: Source, mapping: Mapping) -> None:
    exported = source.export_info().exported_at
    ctx.export_date = exported.date() if exported is not None else None
    present = set(source.entities())
    for entity in present:
        if entity in mapping.files:
            ctx.renames[entity] = reader_renames(
                file_headers(source, entity), mapping.files[entity]
            )
    steps = (
        ("custom_field", _custom_field),
        ("practice", _practice),
        ("patient", _patient),
        ("treatment_plan", _plan),
        ("procedure", _procedure),
        ("claim", _claim),
        ("referral", _referral),
    )
    for entity, step in steps:
        if entity in present:
            for row, values in _rows(source, entity, ctx):
                step(ctx, store, row, values)
        if entity == "practice":
            _settle_zones(ctx)
    for entity in ("provider", "insurance_policy"):
        if entity in present and entity in store.custom_entities:
            for row, _values in _rows(source, entity, ctx):
                _mark_owner(store, entity, row)


def _rows(
    source: Source, entity: str, ctx: TransformContext
) -> Iterator[tuple[SourceRow, dict[str, str | None]]]:
    for row in source.rows(entity):
        if row.key is not None:
            yield row, ctx.values(row)


def _int(text: str | None) -> int | None:
    try:
        return parse_id(text)
    except ValueParseError:
        return None


def sort_date(text: str | None) -> str:
    """An ISO date for sorting (`9999-99-99` when blank or unreadable)."""
    try:
        parsed = parse_date(text)
    except ValueParseError:
        return "9999-99-99"
    return parsed.value.isoformat() if parsed is not None and parsed.value else "9999-99-99"


def _practice(
    ctx: TransformContext, store: ContextStore, row: SourceRow, values: dict[str, str | None]
) -> None:
    location_id = _int(row.key)
    if location_id is None:
        return
    problem = ""
    try:
        zone = parse_zone(values.get("time_zone"))
    except ValueParseError:
        zone, problem = None, "bad_zone"
    try:
        is_primary = parse_bool(values.get("is_primary")) is True
    except ValueParseError:
        is_primary = False
    numbering = (values.get("tooth_numbering") or "Universal").strip()
    code = values.get("location_code") or str(location_id)
    ctx.locations[location_id] = LocationInfo(zone, numbering, code, is_primary, problem)
    if is_primary and values.get("website") and ctx.website_location is None:
        ctx.website_location = location_id
    _mark_owner(store, "practice", row)


def _settle_zones(ctx: TransformContext) -> None:
    if ctx.settings.default_zone:
        ctx.default_zone = ZoneInfo(ctx.settings.default_zone)
        return
    primary = [info for info in ctx.locations.values() if info.is_primary and info.zone]
    if primary and primary[0].zone is not None:
        ctx.default_zone = primary[0].zone


def _mark_owner(store: ContextStore, entity: str, row: SourceRow) -> None:
    owner_id = _int(row.key)
    if owner_id is not None:
        store.mark_owner(entity, owner_id)


def _custom_field(
    ctx: TransformContext, store: ContextStore, row: SourceRow, values: dict[str, str | None]
) -> None:
    record_type = (values.get("record_type") or "").strip().lower()
    entity = CUSTOM_RECORD_ENTITY.get(record_type)
    owner_id = _int(values.get("record_id"))
    key = (values.get("field_key") or "").strip().upper()
    if entity is None or owner_id is None or not key or row.errors:
        return
    value = CustomValue(
        key, values.get("field_label") or key, values.get("field_type") or "", values.get("value")
    )
    store.add_custom(entity, owner_id, value)


def _patient(
    ctx: TransformContext, store: ContextStore, row: SourceRow, values: dict[str, str | None]
) -> None:
    patient_id = _int(row.key)
    if patient_id is None:
        return
    store.set_patient_location(patient_id, _int(values.get("home_location_id")) or 0)
    _mark_owner(store, "patient", row)
    if row.is_deleted or row.errors or row.key in ctx.settings.merged_patients:
        return  # a merged patient never becomes a person: it cannot own a shared email
    email = parse_email(values.get("email"))
    if email is None or email.address is None:
        return
    is_head = _int(values.get("guarantor_id")) in (None, patient_id)
    store.offer_email(email.address, patient_id, is_head)


def _plan(
    ctx: TransformContext, store: ContextStore, row: SourceRow, values: dict[str, str | None]
) -> None:
    plan_id = _int(row.key)
    if plan_id is not None:
        store.set_plan_location(plan_id, _int(values.get("location_id")))
        _mark_owner(store, "treatment_plan", row)


def _procedure(
    ctx: TransformContext, store: ContextStore, row: SourceRow, values: dict[str, str | None]
) -> None:
    _mark_owner(store, "procedure", row)
    plan_id = _int(values.get("plan_id"))
    stage = (values.get("stage") or "").strip()
    if plan_id is None or row.is_deleted or stage.lower() == "deleted":
        return
    option = ctx.mapping.value_maps.get("procedure_stage")
    stage_option = (ctx.option(option, stage) if option else None) or stage.upper()
    code = normalize_cdt(values.get("cdt_code"))
    # The tooth and fee are read when the plan is looked up, with its location's numbering.
    store.add_plan_line(
        plan_id, stage_option, code.code if code else None, values.get("tooth"), values.get("fee")
    )


def _claim(
    ctx: TransformContext, store: ContextStore, row: SourceRow, values: dict[str, str | None]
) -> None:
    _mark_owner(store, "claim", row)
    policy_id = _int(values.get("policy_id"))
    claim_id = _int(row.key)
    if policy_id is None or claim_id is None or row.errors:
        return
    status = (values.get("status") or "").strip()
    value_map = ctx.mapping.value_maps.get("claim_status")
    option = ctx.option(value_map, status) if value_map else None
    last_status = option or (value_map.fallback if value_map else "") or status
    store.add_claim(policy_id, sort_date(values.get("date_of_service")), claim_id, last_status)


def _referral(
    ctx: TransformContext, store: ContextStore, row: SourceRow, values: dict[str, str | None]
) -> None:
    patient_id = _int(values.get("patient_id"))
    referral_id = _int(row.key)
    direction = (values.get("direction") or "").strip().lower()
    if patient_id is None or referral_id is None or direction != "in" or row.errors:
        return
    source_type = (values.get("source_type") or "").strip()
    value_map = ctx.mapping.value_maps.get("referral_source")
    option = (ctx.option(value_map, source_type) or value_map.fallback) if value_map else ""
    sort = sort_date(values.get("referral_date"))
    store.add_referral(patient_id, sort, referral_id, option, referral_detail(values))


def referral_detail(values: dict[str, str | None]) -> str:
    """One referral as a line: source name and code, referring patient or NPI, date, reason."""
    parts = [values.get("source_name") or values.get("source_type") or "unknown source"]
    if values.get("source_code"):
        parts[0] += f" ({values['source_code']})"
    for label, column in (
        ("referring patient", "referring_patient_id"),
        ("NPI", "referring_npi"),
        ("specialty", "specialty"),
        ("phone", "phone"),
        ("email", "email"),
        ("on", "referral_date"),
        ("reason", "reason"),
        ("status", "status"),
        ("note", "note"),
    ):
        if values.get(column):
            parts.append(f"{label} {values[column]}")
    return ", ".join(parts)

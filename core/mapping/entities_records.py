"""Transforms of plans (-> Treatment), procedure lines (-> Procedure), policies (-> Insurance),
claims (-> Claim), payments (-> Payment) and custom-field rows (folded into their owners)."""

from __future__ import annotations

from core.export_format import CUSTOM_RECORD_ENTITY
from core.mapping.context import TransformContext
from core.mapping.entities_people import id_of, int_value_of
from core.mapping.outcomes import Outcome, Reason, Rejected, Skipped
from core.mapping.prepass import sort_date
from core.mapping.records import custom_values, extra_custom, finish, start
from core.mapping.valuemaps import CDT_CATEGORY_PREFIX
from core.ports.source import SourceRow
from core.values import parse_money

__all__ = [
    "derive_stage",
    "transform_claim",
    "transform_custom_field",
    "transform_payment",
    "transform_plan",
    "transform_policy",
    "transform_procedure",
]

_OPEN = {"IN_PROGRESS", "SCHEDULED"}
_DONE = {"COMPLETED", "EXISTING"}


def derive_stage(stages: set[str]) -> str:
    """A plan's stage from its lines: all done COMPLETED, all declined DECLINED, any started
    (or a mix of done and not done) IN_PROGRESS, else PROPOSED."""
    if not stages:
        return "PROPOSED"
    if stages <= _DONE:
        return "COMPLETED"
    if stages == {"DECLINED"}:
        return "DECLINED"
    if stages & _OPEN or stages & _DONE:
        return "IN_PROGRESS"
    return "PROPOSED"


def transform_plan(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A treatment plan -> a Treatment with the stage, codes and teeth of its lines."""
    build = start(row, ctx)
    plan_id = int(build.key)
    summary = ctx.plans.get(plan_id)
    stages = summary.stages if summary else set()
    stage = derive_stage(stages)
    build.payload["stage"] = stage
    build.payload.setdefault("name", f"Treatment plan {build.key}")
    if summary is not None:
        codes = ctx.mapping.value_maps.get("cdt_code")
        options = {(ctx.option(codes, c) or codes.fallback) if codes else c for c in summary.codes}
        build.payload["procedureCodes"] = sorted(o for o in options if o)
        build.payload["teeth"] = ", ".join(sorted(summary.teeth, key=_tooth_order))
        total = parse_money(build.values.get("total_fee"))
        if total is not None and summary.lines and total != summary.line_fee_cents:
            build.warnings.append("total_vs_lines")
    if build.payload.get("planStatus") == "COMPLETED" and stage != "COMPLETED":
        build.warnings.append("status_vs_lines")
    for value in custom_values(build, "treatment_plan"):
        extra_custom(build, value)
    return finish(build)


def _tooth_order(tooth: str) -> tuple[int, str]:
    return (int(tooth), "") if tooth.isdecimal() else (100, tooth)


def transform_procedure(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A procedure line -> a Procedure (Universal tooth, normalised CDT code, stage, fees)."""
    values = ctx.values(row)
    if (values.get("stage") or "").strip().lower() == "deleted":
        return Skipped("SOURCE_DELETED", "procedure line with Stage = Deleted")
    plan_id = id_of(values, "plan_id")
    patient_id = id_of(values, "patient_id")
    plan = ctx.plans.get(plan_id) if plan_id is not None else None
    location = plan.location_id if plan is not None else None
    if location is None and patient_id is not None:
        location = ctx.patient_location.get(patient_id)
    build = start(row, ctx, location)
    code = build.payload.get("cdtCode") or ""
    build.payload["name"] = f"{code} {build.values.get('description') or ''}".strip()
    category = ctx.mapping.value_maps.get("cdt_category")
    if category is not None and code:
        is_standard = len(code) == 5 and code[0] == "D" and code[1:].isdecimal()
        found = ctx.option(category, code[:CDT_CATEGORY_PREFIX]) if is_standard else None
        build.payload["category"] = found or category.fallback
        if not is_standard:
            build.warnings.append(f"office_code:{code}")
    for value in custom_values(build, "procedure"):
        extra_custom(build, value)
    return finish(build)


_MAIN_RELATIONSHIPS = {"self", "spouse", "child", "other"}


def transform_policy(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A policy -> an Insurance with its claim summary; legacy relationship text kept."""
    build = start(row, ctx)
    carrier = build.values.get("carrier_name") or "Insurance"
    order = build.values.get("coverage_order") or ""
    build.payload["name"] = f"{carrier} ({order})" if order else carrier
    relationship = build.values.get("relationship")
    if relationship and relationship.strip().lower() not in _MAIN_RELATIONSHIPS:
        build.extra.append(f"Relationship (as exported): {relationship}")
    summary = ctx.claims.get(int(build.key))
    build.payload["claimCount"] = summary.count if summary else 0
    if summary is not None and summary.last_sort[0] != "9999-99-99":
        build.payload["lastClaimDate"] = summary.last_sort[0]
        build.payload["lastClaimStatus"] = summary.last_status
    end = sort_date(build.values.get("termination_date"))
    is_active = build.payload.get("policyStatus") == "ACTIVE"
    if is_active and ctx.export_date is not None and end < ctx.export_date.isoformat():
        build.warnings.append("status_vs_dates:termination_date")
        build.extra.append("Flag: Active in Dental-Exec but the termination date has passed")
    for value in custom_values(build, "insurance_policy"):
        extra_custom(build, value)
    return finish(build)


def transform_claim(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A claim -> a Claim (status value-mapped, raw kept, X12 category from custom fields)."""
    build = start(row, ctx)
    build.payload.setdefault("claimNumber", None)
    build.payload["name"] = build.values.get("clearinghouse_claim_number") or f"Claim {build.key}"
    if build.payload["claimNumber"] is None:
        del build.payload["claimNumber"]
    if build.values.get("status"):
        build.payload["rawStatus"] = build.values["status"]
    for value in custom_values(build, "claim"):
        if value.key == "CLAIM_STATUS_CODE" and value.value:
            build.payload["x12Category"] = value.value.strip().upper()
        else:
            extra_custom(build, value)
    return finish(build)


def transform_payment(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A payment -> a Payment (refunds negative; voided rows arrive flagged)."""
    build = start(row, ctx)
    build.payload["name"] = f"Payment {build.key}"
    if build.payload.get("voided"):
        build.warnings.append("voided")
    return finish(build)


def transform_custom_field(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A custom-field row: folded into its owner (ORPHAN when the owner is not in the export)."""
    values = ctx.values(row)
    record_type = (values.get("record_type") or "").strip()
    entity = CUSTOM_RECORD_ENTITY.get(record_type.lower())
    owner = int_value_of(row, ctx, "record_id")
    key = (values.get("field_key") or "").strip().upper()
    if entity is None:
        message = f"record type {record_type!r} is not one Ferry knows; fix the export"
        return Rejected([Reason("record_type", "UNKNOWN_RECORD_TYPE", message)])
    if owner is None or (entity, owner) not in ctx.custom_owner_found:
        message = f"custom field {key} points at a {record_type} that is not in the export"
        return Rejected([Reason("record_id", "ORPHAN", message)])
    where = "the provider mapping (members)" if entity == "provider" else f"{entity}:{owner}"
    return Skipped("FOLDED_INTO_OWNER", f"{key} folded into {where}")

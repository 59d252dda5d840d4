"""The transform contract the pipeline calls: `transform(row, ctx) -> Outcome`, LOAD_ORDER."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from core.mapping.context import TransformContext
from core.mapping.entities_people import transform_patient, transform_practice, transform_provider
from core.mapping.entities_records import (
    transform_claim,
    transform_custom_field,
    transform_payment,
    transform_plan,
    transform_policy,
    transform_procedure,
)
from core.mapping.entities_visits import (
    transform_appointment,
    transform_attachment,
    transform_communication,
    transform_recall,
    transform_referral,
)
from core.mapping.outcomes import Outcome, Reason, Rejected, Skipped, Transformed
from core.ports.source import SourceRow

__all__ = ["LOAD_ORDER", "TARGET_LOAD_ORDER", "transform"]

# Entities in the order Twenty needs them: parents before children.
LOAD_ORDER: tuple[str, ...] = (
    "practice",
    "provider",
    "patient",
    "treatment_plan",
    "procedure",
    "insurance_policy",
    "claim",
    "payment",
    "appointment",
    "recall",
    "attachment",
    "communication",
    "referral",
    "custom_field",
)
# Child records (Transformed.children) load after every parent: task and note targets.
TARGET_LOAD_ORDER: tuple[str, ...] = ("task_target", "note_target")

_TRANSFORMS: dict[str, Callable[[SourceRow, TransformContext], Outcome]] = {
    "practice": transform_practice,
    "provider": transform_provider,
    "patient": transform_patient,
    "appointment": transform_appointment,
    "treatment_plan": transform_plan,
    "procedure": transform_procedure,
    "insurance_policy": transform_policy,
    "claim": transform_claim,
    "referral": transform_referral,
    "payment": transform_payment,
    "recall": transform_recall,
    "attachment": transform_attachment,
    "communication": transform_communication,
    "custom_field": transform_custom_field,
}


def transform(row: SourceRow, ctx: TransformContext) -> Outcome:
    """Map one source row to its outcome: Skipped, Rejected (every reason) or Transformed."""
    if row.key is not None and row.is_deleted:
        return Skipped("SOURCE_DELETED", _deleted_reason(row))
    if row.key is None or row.errors:
        reasons = [
            Reason(
                error.column or "",
                error.code.upper(),
                f"{error.file}:{error.line}: {error.message}",
            )
            for error in row.errors
        ]
        return Rejected(reasons or [Reason("", "NO_KEY", "the row has no readable primary key")])
    if row.entity not in ctx.mapping.files:
        message = f"{row.file} is not in mapping.toml; re-run `ferry map propose`"
        return Rejected([Reason("", "NOT_MAPPED", message)])
    merged = ctx.settings.merged_patients
    if not merged:
        return _TRANSFORMS[row.entity](row, ctx)
    if row.entity == "patient" and row.key in merged:
        kept = merged[row.key]
        return Skipped("MERGED_DUPLICATE", f"merged into patient:{kept} (the practice's decision)")
    outcome = _TRANSFORMS[row.entity](row, ctx)
    if isinstance(outcome, Transformed):
        _link_to_kept(outcome, {f"patient:{k}": f"patient:{v}" for k, v in merged.items()})
    return outcome


def _link_to_kept(record: Transformed, streams: dict[str, str]) -> None:
    """Point every relation to a merged patient at the patient kept in its place."""
    for name, ref in record.refs.items():
        kept = streams.get(ref.stream_id)
        if kept is not None:
            record.refs[name] = msgspec.structs.replace(ref, stream_id=kept)
    for child in record.children:
        _link_to_kept(child, streams)


def _deleted_reason(row: SourceRow) -> str:
    if row.entity == "patient":
        return "patient with Status = Deleted"
    return "row marked Deleted = Y in the export"

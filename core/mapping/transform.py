"""The transform contract the pipeline calls: `transform(row, ctx) -> Outcome`, LOAD_ORDER."""

from __future__ import annotations

from collections.abc import Callable

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
from core.mapping.outcomes import Outcome, Reason, Rejected, Skipped
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
    return _TRANSFORMS[row.entity](row, ctx)


def _deleted_reason(row: SourceRow) -> str:
    if row.entity == "patient":
        return "patient with Status = Deleted"
    return "row marked Deleted = Y in the export"

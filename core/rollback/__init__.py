"""Rollback: undo what the migration wrote to Twenty, exactly, as an event-sourced run.

`rollback` undoes records newest first (delete what we created, put back the before-image of
what we changed, soft-delete again what we restored) and, when asked, the custom fields and
objects we created. `plan_records` / `plan_schema` give the dry-run plan.
"""

from core.rollback.plan import RollbackItem, RollbackScope, plan_chunks
from core.rollback.records import Conflict, Failure, RecordUndoer, UndoCounts, edited_fields
from core.rollback.runner import (
    PlannedRecord,
    RollbackEstimate,
    RollbackOptions,
    RollbackResult,
    check_scope,
    estimate_rollback,
    plan_records,
    plan_schema,
    rollback,
)
from core.rollback.schema_undo import SchemaStep, SchemaUndo, SchemaUndoBlockedError

__all__ = [
    "Conflict",
    "Failure",
    "PlannedRecord",
    "RecordUndoer",
    "RollbackEstimate",
    "RollbackItem",
    "RollbackOptions",
    "RollbackResult",
    "RollbackScope",
    "SchemaStep",
    "SchemaUndo",
    "SchemaUndoBlockedError",
    "UndoCounts",
    "check_scope",
    "edited_fields",
    "estimate_rollback",
    "plan_chunks",
    "plan_records",
    "plan_schema",
    "rollback",
]

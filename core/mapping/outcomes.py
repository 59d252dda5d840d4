"""What a transform returns for one source row: Skipped, Rejected or Transformed.

The pipeline turns them into events: Skipped -> RecordSkipped, Rejected -> RecordRejected,
Transformed -> RecordTransformed (then validation). A relation to another record is never a
destination id in the payload: it is a `Ref` to the parent's stream, which the pipeline
resolves through the event store (the parent may have been linked to a record that already
existed in Twenty) and rejects with ORPHAN when a required parent is missing or rejected.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["Outcome", "Reason", "Ref", "Rejected", "Skipped", "Transformed"]


class Reason(msgspec.Struct, frozen=True):
    """One reason a record is refused: the column or field, a stable code, words without PHI."""

    field: str
    code: str
    message: str


class Ref(msgspec.Struct, frozen=True):
    """A relation to another record's stream (`patient:10482`).

    Attributes:
        stream_id: the parent's stream.
        required: a missing or rejected parent rejects this record with ORPHAN; otherwise
            the link is left empty.
        write: False for a check-only ref (key `requires:<entity>`): the parent must exist,
            but nothing is written (a task is linked to its person by its task target).
    """

    stream_id: str
    required: bool = True
    write: bool = True


class Skipped(msgspec.Struct, frozen=True):
    """A row deliberately not migrated as its own record.

    Codes: SOURCE_DELETED, TRAILER, PROVIDER_IS_MEMBER, FOLDED_INTO_OWNER, SKIPPED_BY_CONFIG,
    MERGED_DUPLICATE.
    """

    code: str
    reason: str


class Rejected(msgspec.Struct, frozen=True):
    """A row that cannot be migrated as it is; every reason found, not only the first."""

    reasons: list[Reason]


class Transformed(msgspec.Struct, kw_only=True):
    """A row mapped to a Twenty record.

    Attributes:
        stream_id: the record's stream (`patient:10482`, `task_target:appointment:583301`).
        destination_id: the deterministic id (core.identity.destination_id).
        target_object: the Twenty object's nameSingular (`person`).
        target_plural: its REST plural (`people`).
        payload: the JSON body, without `id` and without the relation join columns in `refs`.
        refs: join-column field name (`companyId`) -> the parent's stream.
        warnings: non-blocking findings, e.g. `member_defaulted:assigneeId:HYG2`.
        children: records to load after this one (task and note targets).
    """

    stream_id: str
    destination_id: str
    target_object: str
    target_plural: str
    payload: dict[str, Any]
    refs: dict[str, Ref] = msgspec.field(default_factory=dict)
    warnings: list[str] = msgspec.field(default_factory=list)
    children: list[Transformed] = msgspec.field(default_factory=list)


Outcome = Skipped | Rejected | Transformed

"""Records that already exist in the destination: the `--on-conflict link|skip|fail` policy.

A create refused because a unique value is taken (a person's email, a company's domain, a
`dentalExecId`) - by a live or a soft-deleted record - is resolved here. `link` updates the
existing record with our values (restoring it first when it was soft-deleted) and records its
before-image, so a rollback can put it back exactly and soft-delete it again; `skip` leaves
it alone; `fail` reports it. Either way the record's stream gets an outcome event.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Literal

from core.ports.destination import (
    Destination,
    Record,
    RecordRejectedError,
    WriteOutcomeUnknownError,
)
from core.values import canonical_email, stored_link
from events.types import LoadFailed, LoadRequested, RecordLoaded

if TYPE_CHECKING:
    from core.loader import Loader, LoadItem

__all__ = ["UNIQUE_PATHS", "find_holder", "resolve_conflict"]

# Unique values of the standard objects (reference §9); every migrated object also has the
# unique `dentalExecId`.
UNIQUE_PATHS: dict[str, tuple[str, ...]] = {
    "people": ("emails.primaryEmail",),
    "companies": ("domainName.primaryLinkUrl",),
}
_UNSAFE = set('"()[],')


def _dig(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def conflict_filters(object_plural: str, payload: dict[str, Any]) -> list[str]:
    """Filters that find a record holding one of the payload's unique values."""
    filters = []
    for path in ("dentalExecId", *UNIQUE_PATHS.get(object_plural, ())):
        value = _dig(payload, path)
        if not isinstance(value, str) or not value or _UNSAFE & set(value):
            continue  # values Twenty's filter grammar cannot carry are not searched
        if path.startswith("emails."):
            value = canonical_email(value)  # as Twenty stores it: lower-cased, punycode
        elif path.endswith("primaryLinkUrl"):
            value = stored_link(value)  # origin lower-cased, no trailing slash
        filters.append(f'{path}[eq]:"{value}"')
    return filters


async def find_holder(destination: Destination, item: LoadItem) -> Record | None:
    """The existing record (live or soft-deleted) holding one of the item's unique values."""
    for expr in conflict_filters(item.object_plural, item.payload):
        async for record in destination.find(item.object_plural, expr, include_deleted=True):
            if str(record.get("id")) != item.destination_id:
                return record
    return None


async def resolve_conflict(
    loader: Loader,
    destination: Destination,
    item: LoadItem,
    error: RecordRejectedError,
    policy: str,
) -> None:
    """Apply the conflict policy to one refused item and record its outcome."""
    holder = await find_holder(destination, item)
    if holder is None:
        _fail(loader, item, "DUPLICATE", error.message, error.field or "")
        return
    holder_id = str(holder["id"])
    if policy == "fail":
        _fail(
            loader, item, "CONFLICT",
            f"existing record {holder_id} already holds a unique value; rerun with "
            "--on-conflict link to update it or skip to leave it",
            error.field or "",
        )  # fmt: skip
        return
    if policy == "skip":
        loader.summary.skipped += 1
        message = f"left existing record {holder_id} unchanged (--on-conflict skip)"
        loader.record(item.stream_id, LoadFailed(retryable=False, code="CONFLICT_SKIPPED",
                                                 message=message))  # fmt: skip
        return
    await _link(loader, destination, item, holder)


async def _link(loader: Loader, destination: Destination, item: LoadItem, holder: Record) -> None:
    was_deleted = holder.get("deletedAt") is not None
    await _apply_link(loader, destination, item, str(holder["id"]), dict(holder), was_deleted)


async def resume_link(loader: Loader, destination: Destination, item: LoadItem) -> None:
    """Finish a link whose outcome is unknown (a crash, a timeout): apply it again.

    The before-image recorded with the first intent is kept: the holder as it is now may
    already carry our values, and a rollback must put back what was there before us.
    """
    intent = item.link
    assert intent is not None
    await _apply_link(
        loader, destination, item, intent.holder_id, intent.before_image, intent.was_deleted
    )


async def _apply_link(
    loader: Loader,
    destination: Destination,
    item: LoadItem,
    holder_id: str,
    before_image: Record | None,
    was_deleted: bool,
) -> None:
    operation: Literal["restore", "link"] = "restore" if was_deleted else "link"
    # The intent carries the before-image, so a crash before the outcome loses nothing.
    loader.record(item.stream_id, LoadRequested(
        batch_id=str(uuid.uuid4()), destination_id=holder_id,
        target_object=item.object_singular, operation=operation, before_image=before_image,
    ))  # fmt: skip
    try:
        await _write_link(destination, item, holder_id, was_deleted)
    except RecordRejectedError as refused:
        _fail(loader, item, f"HTTP_{refused.status}", refused.message, refused.field or "")
        return
    except WriteOutcomeUnknownError as unknown:
        # Restore and update are idempotent: the next run applies the link again.
        loader.summary.failed += 1
        loader.record(item.stream_id, LoadFailed(retryable=True, code="OUTCOME_UNKNOWN",
                                                 message=str(unknown)))  # fmt: skip
        return
    loader.summary.linked += 1
    loader.record(item.stream_id, RecordLoaded(
        destination_id=holder_id, outcome="linked", before_image=before_image,
        was_soft_deleted=was_deleted,
    ))  # fmt: skip


async def _write_link(
    destination: Destination, item: LoadItem, holder_id: str, was_deleted: bool
) -> None:
    """Restore (if needed) and update; both are idempotent, so unknown outcomes are retried."""
    for attempt in range(6):
        try:
            if was_deleted:
                current = await destination.find_by_ids(
                    item.object_plural, [holder_id], include_deleted=True
                )
                if current and current[0].get("deletedAt") is not None:
                    await destination.restore_one(item.object_plural, holder_id)
            await destination.update_one(item.object_plural, holder_id, item.payload)
            return
        except WriteOutcomeUnknownError:
            if attempt == 5:
                raise


def _fail(loader: Loader, item: LoadItem, code: str, message: str, field: str) -> None:
    loader.summary.failed += 1
    loader.record(item.stream_id, LoadFailed(retryable=False, code=code, message=message,
                                             field=field))  # fmt: skip

"""Records driven to a chosen end state with the events the pipeline appends (no destination)."""

from __future__ import annotations

from events.store import EventStore, NewEvent
from events.types import (
    Event,
    FieldDiff,
    LoadFailed,
    LoadRequested,
    RecordExtracted,
    RecordLoaded,
    RecordRejected,
    RecordRemovedInSource,
    RecordRolledBack,
    RecordSkipped,
    RecordSoftDeleted,
    RecordTransformed,
    RecordValidated,
    RecordVerified,
    RejectionReason,
    VerificationFailed,
)

FATES = (
    "skipped", "rejected", "pending", "blocked", "in_doubt", "load_failed", "loaded",
    "verified", "mismatched", "missing", "removed", "deleted", "rolled_back",
)  # fmt: skip


def _path(stream_id: str, fate: str, parent: str | None, line: int) -> list[Event]:
    key = stream_id.partition(":")[2]
    dest = f"00000000-0000-4000-8000-{line:012d}"
    refs = {"personId": parent} if parent else {}
    head: list[Event] = [
        RecordExtracted(source_file="x.csv", line=line, source_key=key, content_hash=f"h{line}")
    ]
    if fate == "skipped":
        return [*head, RecordSkipped(code="SOURCE_DELETED", reason="deleted")]
    if fate == "rejected":
        reason = RejectionReason(field="birth_date", code="BAD_DATE", message="not a date")
        return [*head, RecordRejected(reasons=[reason])]
    body = {"title": f"t{line}"}
    head += [
        RecordTransformed(target_object="task", target_plural="tasks", payload=body, refs=refs),
        RecordValidated(),
    ]
    if fate in ("pending", "blocked"):
        return head
    head.append(LoadRequested(batch_id="b", destination_id=dest, target_object="task"))
    if fate == "in_doubt":
        return head
    if fate == "load_failed":
        return [*head, LoadFailed(retryable=False, code="HTTP_400", message="refused")]
    head.append(RecordLoaded(destination_id=dest, outcome="created"))
    tail: dict[str, list[Event]] = {
        "loaded": [],
        "verified": [RecordVerified(destination_id=dest)],
        "mismatched": [VerificationFailed(
            destination_id=dest, diffs=[FieldDiff(field="title", expected="a", actual="b")])],
        "missing": [VerificationFailed(destination_id=dest, missing=True)],
        "rolled_back": [RecordRolledBack(action="delete", destination_id=dest)],
        "removed": [RecordRemovedInSource(export="full-2", destination_id=dest)],
        "deleted": [
            RecordRemovedInSource(export="full-2", destination_id=dest),
            LoadRequested(batch_id="d", destination_id=dest, target_object="task",
                          operation="soft_delete"),
            RecordSoftDeleted(destination_id=dest),
        ],
    }  # fmt: skip
    return head + tail[fate]


def seed_fates(store: EventStore, entity: str, fates: list[str], run_id: str = "r1") -> None:
    """One record per fate in `entity`; a blocked record points to a rejected parent."""
    events: list[NewEvent] = []
    for n, fate in enumerate(fates):
        parent = None
        if fate == "blocked":
            parent = f"parent:{entity}{n}"
            events += [NewEvent(parent, e) for e in _path(parent, "rejected", None, 9000 + n)]
        stream = f"{entity}:{n + 1}"
        events += [NewEvent(stream, e) for e in _path(stream, fate, parent, 1000 * len(entity) + n)]
    store.append(events, run_id=run_id)

"""Ferry's event types: immutable facts, named in the past tense, in one tagged union.

Every event is a frozen msgspec Struct tagged by its class name in the `type` field of its
JSON. The envelope (stream, version, run, time, position, hash chain) lives in the store's
row, not in the event. Schemas only grow: a new field gets a default; nothing is renamed or
retyped; a breaking change gets a new tag.

Stream ids: `migration` for migration-wide facts, `run:<run id>` for a run's own facts, and
`<entity>:<source key>` for one source record (e.g. `patient:10482`).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class Event(msgspec.Struct, frozen=True, tag=True, tag_field="type", kw_only=True):
    """Base of every event; `is_record_event` tells whether it moves a record's lifecycle."""

    is_record_event = False


class RecordEvent(Event, frozen=True, kw_only=True):
    """Base of the events that belong to one source record's stream."""

    is_record_event = True


# --- migration-level --------------------------------------------------------------------------


class MigrationInitialized(Event, frozen=True, kw_only=True):
    """Emitted once, when a work directory's store is created for a migration.

    Fields:
        namespace: a random UUID; every destination id is UUIDv5(namespace, entity:key), so
            two migrations never collide and one migration always derives the same ids.
        source: the export path given at init (a path, never patient data).
        ferry_version: the version of Ferry that created the store.
        kept_namespace: the namespace was read from `ferry.toml`, not drawn: this store was
            made again after the one before it was lost, and records may already be in
            Twenty under these ids (the first load of each entity looks them up first).
    """

    namespace: str
    source: str = ""
    ferry_version: str = ""
    kept_namespace: bool = False


class MappingConfirmed(Event, frozen=True, kw_only=True):
    """Emitted when the operator confirms `mapping.toml`.

    Fields:
        mapping_hash: SHA-256 of the mapping file's bytes as confirmed.
        user: who confirmed (login name of the operator).
        absent_files: entities whose file the operator acknowledged as absent from the
            export (`--allow-missing`), comma-separated (`payment,recall`; "" for none); a
            run refuses an export missing any other file.
    """

    mapping_hash: str
    user: str
    absent_files: str = ""


class SchemaChangeApplied(Event, frozen=True, kw_only=True):
    """Emitted after one change to Twenty's data model succeeded.

    Fields:
        change: what was done: `create_object`, `create_field`, `update_field`, `delete_field`,
            `delete_object`.
        object_name: the object's `nameSingular`.
        field_name: the field's name, empty for object-level changes.
        metadata_id: the id Twenty gave the object or field (needed to undo it).
        detail: the request's salient parts (type, options), for the audit trail.
    """

    change: str
    object_name: str
    field_name: str = ""
    metadata_id: str = ""
    detail: dict[str, Any] = msgspec.field(default_factory=dict)


class SampleApproved(Event, frozen=True, kw_only=True):
    """Emitted when the operator approves a sample run after reading its field-level diff.

    Fields:
        run_id: the sample run that was reviewed.
        diff_hash: SHA-256 of the diff report (CSV) that was reviewed.
        user: who approved.
        mapping_hash: the confirmed mapping the sample ran with.
    """

    run_id: str
    diff_hash: str
    user: str
    mapping_hash: str = ""


class DuplicateDecided(Event, frozen=True, kw_only=True):
    """Emitted when the practice's decision on a suspected duplicate patient is recorded
    (`ferry source decide duplicates`, from the audit's `fixup-duplicates.csv`).

    The latest decision on a pair stands. A merge is applied by every later run and delta:
    the merged patient is not created (RecordSkipped `MERGED_DUPLICATE`) and every record
    that points at it is linked to the kept patient instead.

    Fields:
        patient_key: the patient flagged as looking like another (the list's `patient_id`).
        same_person_as: the patient it looks like.
        decision: `merge` (one person in Twenty) or `separate` (two people, as in the source).
        keep_key: for `merge`, the patient kept (one of the two); "" for `separate`.
        user: who recorded the decision (login name of the operator).
        file_hash: SHA-256 of the fix-up file the decision was read from.
        line: the decision's line in that file.
    """

    patient_key: str
    same_person_as: str
    decision: Literal["merge", "separate"]
    keep_key: str = ""
    user: str = ""
    file_hash: str = ""
    line: int = 0


class RunStarted(Event, frozen=True, kw_only=True):
    """Emitted when a command that moves records starts (`sample`, `run`, `delta`, `rollback`).

    Fields:
        run_id: the run's id (also in the envelope's `run_id`).
        command: the command that started it.
        entities: the entities it will work on, in order.
        options: non-secret options that shape the run (batch size, budget, policies).
    """

    run_id: str
    command: str
    entities: list[str] = msgspec.field(default_factory=list)
    options: dict[str, Any] = msgspec.field(default_factory=dict)


class RunPaused(Event, frozen=True, kw_only=True):
    """Emitted when a run must wait long (rate limit, Twenty unavailable) or is stopped.

    Fields:
        until: ISO-8601 UTC instant the run expects to go on at; empty when unknown.
        why: a short reason code with words, e.g. `rate_limited: budget exhausted`.
    """

    until: str = ""
    why: str


class RunResumed(Event, frozen=True, kw_only=True):
    """Emitted when a paused run goes on, or an interrupted run is started again.

    Fields:
        why: what made it go on (`wait_over`, `restarted`).
    """

    why: str = ""


class RunFinished(Event, frozen=True, kw_only=True):
    """Emitted when a run ends, whatever the outcome.

    Fields:
        outcome: `completed`, `interrupted`, `failed` or `timed_out`.
        counts: records per final state reached in this run.
        message: for `failed`, what went wrong (no patient values): the error's name, or
            why a run that reached its end has not done the work, one reason a line.
    """

    outcome: Literal["completed", "interrupted", "failed", "timed_out"]
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    message: str = ""


class ConflictDetected(Event, frozen=True, kw_only=True):
    """Emitted when a command about to write a record finds it changed in Twenty since our
    last write (someone edited it, or it is gone), under the run's stream `run:<run id>`.

    Fields:
        stream_id: the source record's stream (`patient:10482`).
        destination_id: the Twenty record id.
        command: the command that found it (`rollback`, `delta`).
        fields: the field paths whose current value differs from what we wrote (names only,
            never values); empty when `missing`.
        missing: the record is no longer in Twenty.
        resolution: `left_alone` (reported, not written) or `overwritten` (with `--force`).
    """

    stream_id: str
    destination_id: str
    command: str
    fields: list[str] = msgspec.field(default_factory=list)
    missing: bool = False
    resolution: Literal["left_alone", "overwritten"] = "left_alone"


# --- record-level -----------------------------------------------------------------------------


class RecordExtracted(RecordEvent, frozen=True, kw_only=True):
    """Emitted when a source row is read and differs from what the stream last saw.

    Fields:
        source_file: the export file's name.
        line: the physical line (1-based) where the row starts.
        source_key: the Dental-Exec primary key, canonical (no zero padding).
        content_hash: SHA-256 of the normalized row; equal across re-exports of unchanged rows.
        row: the normalized row, canonical column name -> raw text (None for empty).
    """

    source_file: str
    line: int
    source_key: str
    content_hash: str
    row: dict[str, str | None] = msgspec.field(default_factory=dict)


class RecordTransformed(RecordEvent, frozen=True, kw_only=True):
    """Emitted when a record has been mapped to its Twenty payload.

    Fields:
        target_object: the Twenty object's `nameSingular` (e.g. `person`).
        payload: the JSON body that will be sent, without the relation join columns.
        mapping_hash: the confirmed mapping the payload was made with.
        target_plural: the object's plural API name (`people`), which addresses it in REST.
        refs: relation join column -> the stream id of the record it points to
            (`personId` -> `patient:10482`); resolved to that record's Twenty id at load
            time, because a parent may have been linked to a record that existed before us.
    """

    target_object: str
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    mapping_hash: str = ""
    target_plural: str = ""
    refs: dict[str, str] = msgspec.field(default_factory=dict)


class RecordValidated(RecordEvent, frozen=True, kw_only=True):
    """Emitted when the transformed payload passed every validation rule.

    Fields:
        warnings: non-blocking findings (e.g. `placeholder_email_dropped`).
    """

    warnings: list[str] = msgspec.field(default_factory=list)


class RejectionReason(msgspec.Struct, frozen=True, kw_only=True):
    """One reason a record was refused.

    Fields:
        field: the source column or target field concerned (empty for whole-row problems).
        code: a stable code, e.g. `REQUIRED`, `BAD_DATE`, `ORPHAN`, `COLUMN_COUNT`.
        message: what is wrong and what to do, without patient values.
    """

    field: str = ""
    code: str
    message: str


class RecordRejected(RecordEvent, frozen=True, kw_only=True):
    """Emitted when a record cannot be migrated as it is; it never loads.

    Fields:
        reasons: every reason found, not only the first.
    """

    reasons: list[RejectionReason]


class RecordSkipped(RecordEvent, frozen=True, kw_only=True):
    """Emitted when a row is deliberately not migrated (source-deleted, trailer, by config).

    Fields:
        code: a stable code, e.g. `SOURCE_DELETED`, `TRAILER`, `FOLDED_INTO_OWNER`.
        reason: words for the report.
    """

    code: str = ""
    reason: str


class LoadRequested(RecordEvent, frozen=True, kw_only=True):
    """Emitted before a write is sent to Twenty: the intent, recorded first.

    After a crash, a record whose last event is LoadRequested has an unknown outcome: it is
    looked up by `destination_id` before anything is sent again.

    Fields:
        batch_id: the request this record travels in.
        destination_id: the Twenty record id (deterministic UUIDv5 for creates).
        target_object: the Twenty object's `nameSingular`.
        operation: `create`, `update`, `restore`, `link` or `soft_delete`.
        before_image: for `update` and `soft_delete` (a delta), the record as read from Twenty
            just before the write, kept here so that a crash between the write and its outcome
            event cannot lose the original values; None for the other operations.
    """

    batch_id: str
    destination_id: str
    target_object: str = ""
    operation: Literal["create", "update", "restore", "link", "soft_delete"] = "create"
    before_image: dict[str, Any] | None = None


class RecordLoaded(RecordEvent, frozen=True, kw_only=True):
    """Emitted when Twenty holds the record as sent.

    Fields:
        destination_id: the Twenty record id.
        outcome: `created` (we made it), `updated` (we changed a record we made), or `linked`
            (we changed a record that existed before us).
        before_image: for `updated`/`linked`, the record as it was before our write, so a
            rollback can put it back exactly.
        was_soft_deleted: the existing record was soft-deleted and our write restored it.
        reconciled: the outcome was established by reading back after an unknown outcome.
        updated_at: the record's `updatedAt` as Twenty answered our write (or the read-back
            after an unknown outcome); empty when Twenty's answer did not carry it. A rollback
            deletes the record only while its `updatedAt` is still this one, so that a record
            edited in Twenty since is found without reading every record first.
    """

    destination_id: str
    outcome: Literal["created", "updated", "linked"]
    before_image: dict[str, Any] | None = None
    was_soft_deleted: bool = False
    reconciled: bool = False
    updated_at: str = ""


class LoadFailed(RecordEvent, frozen=True, kw_only=True):
    """Emitted when a write failed for this record.

    Fields:
        retryable: whether trying again later may succeed (rate limit, outage).
        code: a stable code (`HTTP_400`, `DUPLICATE`, `TIMEOUT`, ...).
        message: Twenty's message or ours, without patient values.
        field: the field Twenty named, when it named one.
    """

    retryable: bool
    code: str
    message: str
    field: str = ""


class RecordVerified(RecordEvent, frozen=True, kw_only=True):
    """Emitted when the record read back from Twenty equals what was sent, field by field.

    Fields:
        destination_id: the Twenty record id that was read.
    """

    destination_id: str


class FieldDiff(msgspec.Struct, frozen=True, kw_only=True):
    """One field that differs between what was sent and what was read back."""

    field: str
    expected: Any = None
    actual: Any = None


class VerificationFailed(RecordEvent, frozen=True, kw_only=True):
    """Emitted when the record read back differs from what was sent, or is missing.

    Fields:
        destination_id: the Twenty record id that was read.
        diffs: the differing fields; empty with `missing` set when the record is gone.
        missing: the record was not found in Twenty.
    """

    destination_id: str
    diffs: list[FieldDiff] = msgspec.field(default_factory=list)
    missing: bool = False


class RollbackRequested(RecordEvent, frozen=True, kw_only=True):
    """Emitted before a rollback write is sent for this record: the intent, recorded first.

    Fields:
        rollback_id: the rollback run.
        action: `delete` (we created it), `restore_before_image` (we changed it), or
            `soft_delete` (we restored it from soft deletion, after restoring its fields).
        destination_id: the Twenty record id.
    """

    rollback_id: str
    action: Literal["delete", "restore_before_image", "soft_delete"]
    destination_id: str


class RecordRolledBack(RecordEvent, frozen=True, kw_only=True):
    """Emitted when the rollback write for this record is done (or found already done).

    Fields:
        action: as in RollbackRequested.
        destination_id: the Twenty record id.
        already_done: the record was found in its rolled-back form without our write.
    """

    action: Literal["delete", "restore_before_image", "soft_delete"]
    destination_id: str
    already_done: bool = False


class RecordReverted(RecordEvent, frozen=True, kw_only=True):
    """Emitted by a rollback whose scope held only the later writes of a record (a delta's
    update of a record an earlier run created): those writes are undone — the fields they
    sent put back to their before-image — and the record stays ours in Twenty with what our
    earlier writes left there. It is `validated` again: Twenty is behind the source, and the
    next `ferry run` brings it up to date (a later full rollback deletes it).

    Fields:
        destination_id: the Twenty record id.
        undone_from: the position of the first RecordLoaded undone (it and every later one
            are no longer in Twenty).
        already_done: the record was found holding its before-image without our write.
    """

    destination_id: str
    undone_from: int
    already_done: bool = False


class RollbackWithheld(RecordEvent, frozen=True, kw_only=True):
    """Emitted when a rollback whose intent is recorded (RollbackRequested) finds the record
    edited in Twenty since our last write, and leaves it alone (without `--force`): the
    record stays ours in Twenty, holding someone's edits, and is `loaded` again (a `ferry
    verify` shows the difference). The fields' names are in the ConflictDetected on the
    rollback's stream.

    Fields:
        destination_id: the Twenty record id.
    """

    destination_id: str


class RecordUpToDate(RecordEvent, frozen=True, kw_only=True):
    """Emitted by `ferry delta` when a re-extracted record's new payload equals, field for
    field, the payload Twenty was last sent: nothing is written and the record is `loaded`
    again (e.g. a changed source column that the mapping does not carry, or a task target
    re-derived with its changed appointment).

    Fields:
        destination_id: the Twenty record id, unchanged.
    """

    destination_id: str


class RecordRemovedInSource(RecordEvent, frozen=True, kw_only=True):
    """Emitted by `ferry delta` when a later full export no longer holds a row the store knows
    (a hard delete in Dental-Exec; a delta bundle never says this, absent rows there are only
    unchanged); also for a task/note target whose row was removed or deleted in the source,
    and for a record in Twenty whose changed row is now refused as ORPHAN (its patient was
    deleted in the source). The Twenty copy, if any, stays until `--apply-deletes`.

    Fields:
        export: the export that lacks the row (a path, never patient data).
        destination_id: the Twenty record id when the record is in Twenty, else empty.
    """

    export: str = ""
    destination_id: str = ""


class RecordSoftDeleted(RecordEvent, frozen=True, kw_only=True):
    """Emitted when `ferry delta --apply-deletes` soft-deleted the Twenty copy of a record that
    was removed in the source (absent from a full export, or `Deleted = Y` / patient
    `Status = Deleted`). The before-image is in the LoadRequested(soft_delete) just before.

    Fields:
        destination_id: the Twenty record id (now holding `deletedAt`).
        reconciled: the outcome was established by reading back after an unknown outcome.
    """

    destination_id: str
    reconciled: bool = False


AnyEvent = (
    MigrationInitialized
    | MappingConfirmed
    | SchemaChangeApplied
    | SampleApproved
    | DuplicateDecided
    | RunStarted
    | RunPaused
    | RunResumed
    | RunFinished
    | ConflictDetected
    | RecordExtracted
    | RecordTransformed
    | RecordValidated
    | RecordRejected
    | RecordSkipped
    | LoadRequested
    | RecordLoaded
    | LoadFailed
    | RecordVerified
    | VerificationFailed
    | RollbackRequested
    | RecordRolledBack
    | RecordReverted
    | RollbackWithheld
    | RecordUpToDate
    | RecordRemovedInSource
    | RecordSoftDeleted
)

EVENT_TYPES: tuple[type[Event], ...] = (
    MigrationInitialized,
    MappingConfirmed,
    SchemaChangeApplied,
    SampleApproved,
    DuplicateDecided,
    RunStarted,
    RunPaused,
    RunResumed,
    RunFinished,
    ConflictDetected,
    RecordExtracted,
    RecordTransformed,
    RecordValidated,
    RecordRejected,
    RecordSkipped,
    LoadRequested,
    RecordLoaded,
    LoadFailed,
    RecordVerified,
    VerificationFailed,
    RollbackRequested,
    RecordRolledBack,
    RecordUpToDate,
    RecordRemovedInSource,
    RecordSoftDeleted,
    RecordReverted,
    RollbackWithheld,
)
RECORD_EVENT_TYPES = frozenset(t.__name__ for t in EVENT_TYPES if t.is_record_event)

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[AnyEvent] = msgspec.json.Decoder(AnyEvent)


def encode(event: Event) -> bytes:
    """The event's canonical JSON bytes (tag first, fields in declaration order)."""
    return _encoder.encode(event)


def decode(data: bytes | str) -> AnyEvent:
    """An event from its JSON.

    Raises:
        msgspec.ValidationError: when the JSON is not a known event of the right shape.
    """
    return _decoder.decode(data)

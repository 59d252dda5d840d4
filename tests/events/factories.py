"""Small builders of events for the store's tests (one valid instance of every type)."""

from __future__ import annotations

from events.types import (
    ConflictDetected,
    DuplicateDecided,
    Event,
    FieldDiff,
    LoadFailed,
    LoadRequested,
    MappingConfirmed,
    MigrationInitialized,
    RecordExtracted,
    RecordLoaded,
    RecordRejected,
    RecordRemovedInSource,
    RecordReverted,
    RecordRolledBack,
    RecordSkipped,
    RecordSoftDeleted,
    RecordTransformed,
    RecordUpToDate,
    RecordValidated,
    RecordVerified,
    RejectionReason,
    RollbackRequested,
    RollbackWithheld,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    SampleApproved,
    SchemaChangeApplied,
    VerificationFailed,
)

DEST = "4b2f7a3e-58c1-5d3a-9b7e-0c1d2e3f4a5b"


def record_event(event_type: str, key: str = "1") -> Event:
    """A valid instance of a record event type."""
    builders = {
        "RecordExtracted": lambda: RecordExtracted(
            source_file="patients.csv",
            line=2,
            source_key=key,
            content_hash="ab" * 32,
            row={"Patient ID": key, "Last Name": "Doe"},
        ),
        "RecordTransformed": lambda: RecordTransformed(
            target_object="person",
            payload={"name": {"firstName": "J"}},
            mapping_hash="m",
            target_plural="people",
            refs={"companyId": "practice:1"},
        ),
        "RecordValidated": lambda: RecordValidated(warnings=["placeholder_email_dropped"]),
        "RecordRejected": lambda: RecordRejected(
            reasons=[RejectionReason(field="Birth Date", code="BAD_DATE", message="not a date")]
        ),
        "RecordSkipped": lambda: RecordSkipped(code="SOURCE_DELETED", reason="Deleted = Y"),
        "LoadRequested": lambda: LoadRequested(
            batch_id="b1", destination_id=DEST, target_object="person"
        ),
        "RecordLoaded": lambda: RecordLoaded(destination_id=DEST, outcome="created"),
        "LoadFailed": lambda: LoadFailed(retryable=True, code="HTTP_503", message="unavailable"),
        "RecordVerified": lambda: RecordVerified(destination_id=DEST),
        "VerificationFailed": lambda: VerificationFailed(
            destination_id=DEST, diffs=[FieldDiff(field="city", expected="A", actual="B")]
        ),
        "RollbackRequested": lambda: RollbackRequested(
            rollback_id="rb1", action="delete", destination_id=DEST
        ),
        "RecordRolledBack": lambda: RecordRolledBack(action="delete", destination_id=DEST),
        "RecordUpToDate": lambda: RecordUpToDate(destination_id=DEST),
        "RecordRemovedInSource": lambda: RecordRemovedInSource(
            export="/exports/full-2", destination_id=DEST
        ),
        "RecordSoftDeleted": lambda: RecordSoftDeleted(destination_id=DEST),
        "RecordReverted": lambda: RecordReverted(destination_id=DEST, undone_from=12),
        "RollbackWithheld": lambda: RollbackWithheld(destination_id=DEST),
    }
    return builders[event_type]()


def every_event() -> list[tuple[str, Event]]:
    """(stream id, event) for one instance of every event type."""
    migration: list[tuple[str, Event]] = [
        ("migration", MigrationInitialized(namespace=DEST, source="/exports/x", ferry_version="1")),
        ("migration", MappingConfirmed(mapping_hash="f" * 64, user="operator")),
        (
            "migration",
            SchemaChangeApplied(
                change="create_field",
                object_name="person",
                field_name="dentalExecId",
                metadata_id=DEST,
            ),
        ),
        ("migration", SampleApproved(run_id="r0", diff_hash="d" * 64, user="operator")),
        (
            "migration",
            DuplicateDecided(
                patient_key="10200", same_person_as="10100", decision="merge", keep_key="10100"
            ),
        ),
        ("run:r1", RunStarted(run_id="r1", command="run", entities=["patient"])),
        ("run:r1", RunPaused(until="2026-11-27T04:00:00.000000Z", why="rate_limited")),
        ("run:r1", RunResumed(why="wait_over")),
        ("run:r1", RunFinished(outcome="completed", counts={"verified": 1})),
        (
            "run:r1",
            ConflictDetected(
                stream_id="patient:1", destination_id=DEST, command="rollback", fields=["city"]
            ),
        ),
    ]
    lifecycle = [
        "RecordExtracted",
        "RecordTransformed",
        "RecordValidated",
        "LoadRequested",
        "LoadFailed",
        "LoadRequested",
        "RecordLoaded",
        "VerificationFailed",
        "RecordVerified",
        "RollbackRequested",
        "RecordRolledBack",
    ]
    records = [("patient:1", record_event(t)) for t in lifecycle]
    records += [
        ("patient:2", record_event("RecordExtracted", "2")),
        ("patient:2", record_event("RecordRejected")),
        ("patient:3", record_event("RecordExtracted", "3")),
        ("patient:3", record_event("RecordSkipped")),
    ]
    # A delta: re-extracted unchanged in Twenty, then removed in the source and soft-deleted.
    records += [
        ("patient:4", record_event(t, "4"))
        for t in ("RecordExtracted", "RecordTransformed", "RecordValidated", "RecordUpToDate")
    ]
    records += [
        ("patient:4", record_event("RecordRemovedInSource")),
        (
            "patient:4",
            LoadRequested(
                batch_id="b2",
                destination_id=DEST,
                target_object="person",
                operation="soft_delete",
                before_image={"id": DEST, "city": "Salem"},
            ),
        ),
        ("patient:4", record_event("RecordSoftDeleted")),
    ]
    # A rollback of a later run only: the record's later write undone, the record still ours.
    records += [
        ("patient:5", record_event(t, "5"))
        for t in (
            "RecordExtracted", "RecordTransformed", "RecordValidated", "LoadRequested",
            "RecordLoaded", "RollbackRequested", "RecordReverted",
        )
    ]  # fmt: skip
    # A rollback that found the record edited in Twenty and left it alone.
    records += [
        ("patient:6", record_event(t, "6"))
        for t in (
            "RecordExtracted", "RecordTransformed", "RecordValidated", "LoadRequested",
            "RecordLoaded", "RollbackRequested", "RollbackWithheld",
        )
    ]  # fmt: skip
    return migration + records

"""Removing the custom fields and objects we created (`ferry rollback --schema`).

The store knows every change we made to Twenty's data model (SchemaChangeApplied with the
id Twenty gave it). Undoing one is recorded as SchemaChangeApplied(`delete_field` /
`delete_object`, same metadata id), so a second rollback finds nothing left, and a crash
between the delete and its event is harmless: the next delete answers 404, which is
recorded as done. Fields of an object we created go with the object (Twenty drops them and
the relations pointing at it); fields we added to standard objects are deleted one by one,
newest first. Options we added to existing select fields (`update_field`) are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from core.errors import FerryError
from core.ports.destination import MetadataStore, RecordNotFoundError
from events.store import EventStore, NewEvent
from events.types import SchemaChangeApplied, decode

__all__ = ["SchemaStep", "SchemaUndo", "SchemaUndoBlockedError", "schema_steps", "undo_schema"]


class SchemaUndoBlockedError(FerryError):
    """Records we wrote are still in Twenty: removing their fields would destroy data."""


class SchemaStep(msgspec.Struct, frozen=True, kw_only=True):
    """One schema change to undo.

    Attributes:
        change: `delete_field` or `delete_object`.
        object_name: the object's `nameSingular`.
        field_name: the field's name (empty for an object).
        metadata_id: the id Twenty gave the field or object.
        with_fields: for an object, the fields we created on it (they go with it).
    """

    change: str
    object_name: str
    field_name: str = ""
    metadata_id: str
    with_fields: tuple[SchemaChangeApplied, ...] = ()


class SchemaUndo(msgspec.Struct, kw_only=True):
    """What the schema part of a rollback did."""

    fields_deleted: int = 0
    objects_deleted: int = 0
    already_done: int = 0
    options_left: int = 0


def _applied(store: EventStore) -> list[SchemaChangeApplied]:
    sql = "SELECT data FROM events WHERE stream_id = 'migration' AND type = 'SchemaChangeApplied'"
    found = []
    for (data,) in store.connection.execute(sql + " ORDER BY position"):
        event = decode(data)
        assert isinstance(event, SchemaChangeApplied)
        found.append(event)
    return found


def schema_steps(store: EventStore) -> tuple[list[SchemaStep], int]:
    """The schema changes still to undo, newest first, and how many option additions stay."""
    events = _applied(store)
    undone = {e.metadata_id for e in events if e.change in ("delete_field", "delete_object")}
    live = [
        e
        for e in events
        if e.change in ("create_field", "create_object") and e.metadata_id not in undone
    ]
    objects = {e.object_name for e in live if e.change == "create_object"}
    options = sum(1 for e in events if e.change == "update_field")
    steps = []
    for event in reversed(live):
        if event.change == "create_field" and event.object_name in objects:
            continue  # goes with its object
        if event.change == "create_field":
            steps.append(_step(event, "delete_field", ()))
        else:
            own = tuple(
                e for e in live if e.change == "create_field" and e.object_name == event.object_name
            )
            steps.append(_step(event, "delete_object", own))
    return steps, options


def _step(
    event: SchemaChangeApplied, change: str, fields: tuple[SchemaChangeApplied, ...]
) -> SchemaStep:
    return SchemaStep(
        change=change,
        object_name=event.object_name,
        field_name=event.field_name,
        metadata_id=event.metadata_id,
        with_fields=fields,
    )


async def undo_schema(
    store: EventStore,
    metadata: MetadataStore,
    rollback_id: str,
    records_left: int,
    *,
    force: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
) -> SchemaUndo:
    """Delete the fields and objects we created, newest first, recording each deletion.

    Raises:
        SchemaUndoBlockedError: records we wrote are still in Twenty (unless `force`).
    """
    if records_left and not force:
        raise SchemaUndoBlockedError(
            f"{records_left} record(s) we wrote are still in Twenty (conflicts left alone or "
            "outside the scope); roll them back first, or pass --force to remove the schema "
            "anyway (their values in our fields are lost)"
        )
    steps, options = schema_steps(store)
    result = SchemaUndo(options_left=options)
    for step in steps:
        if should_stop():
            break
        try:
            if step.change == "delete_field":
                await metadata.delete_field(step.metadata_id)
            else:
                await metadata.delete_object(step.metadata_id)
            gone = False
        except RecordNotFoundError:
            gone = True
        _record(store, rollback_id, step, gone)
        result.already_done += int(gone)
        if step.change == "delete_field":
            result.fields_deleted += 1
        else:
            result.objects_deleted += 1
            result.fields_deleted += len(step.with_fields)
    return result


def _record(store: EventStore, rollback_id: str, step: SchemaStep, gone: bool) -> None:
    undoes = step.change.replace("delete", "create")
    detail: dict[str, Any] = {"undoes": undoes, "rollback_id": rollback_id}
    if gone:
        detail["already_done"] = True
    events = [
        SchemaChangeApplied(
            change=step.change,
            object_name=step.object_name,
            field_name=step.field_name,
            metadata_id=step.metadata_id,
            detail=detail,
        )
    ]
    events += [
        SchemaChangeApplied(
            change="delete_field",
            object_name=f.object_name,
            field_name=f.field_name,
            metadata_id=f.metadata_id,
            detail={**detail, "with_object": step.metadata_id},
        )
        for f in step.with_fields
    ]
    store.append([NewEvent("migration", e) for e in events], run_id=rollback_id)

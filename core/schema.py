"""Schema setup: compare the desired model with the workspace, apply the difference, prove it.

`plan` is pure: spec + the workspace's metadata -> the changes still needed and the conflicts
that stop everything (`plan_workspace` reads the metadata first). `apply` re-reads the
metadata, so running it again (or after a crash halfway) only does what is still missing;
each change is reported to `on_change` as it lands, and `change_event` turns it into the
SchemaChangeApplied event the caller records. `probe` writes one record per object, reads it
back and removes it; `setup` is `apply` then `probe`. The same plan as a Markdown checklist
for an admin working in Settings → Data Model is core.schema_checklist's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

import msgspec

from core.errors import FatalForRunError, FerryError
from core.ports.destination import Destination, FieldInfo, MetadataStore, ObjectInfo
from core.schema_spec import FieldSpec, ObjectSpec, SchemaSpec, color_of, validate_spec
from events.types import SchemaChangeApplied

__all__ = [
    "ProbeResult",
    "SchemaChange",
    "SchemaConflict",
    "SchemaConflictError",
    "SchemaPlan",
    "SchemaSetup",
    "apply",
    "change_event",
    "plan",
    "plan_workspace",
    "probe",
    "setup",
]

ChangeKind = Literal["create_object", "create_field", "add_options"]
_ORDER = {"create_object": 0, "create_field": 1, "add_options": 2}
# Twenty types that a spec type may meet in a workspace without conflict.
_COMPATIBLE = {"RELATION": {"RELATION", "MORPH_RELATION"}, "TEXT": {"TEXT"}}


class SchemaChange(msgspec.Struct, frozen=True, kw_only=True):
    """One change to make: create an object or a field, or add select options."""

    kind: ChangeKind
    object_name: str
    field_name: str = ""
    detail: str = ""
    is_relation: bool = False


class SchemaConflict(msgspec.Struct, frozen=True, kw_only=True):
    """An existing field or object that cannot serve as specified."""

    object_name: str
    field_name: str
    expected: str
    actual: str

    def describe(self) -> str:
        """One line for the operator."""
        where = f"{self.object_name}.{self.field_name}" if self.field_name else self.object_name
        return f"{where}: Ferry needs {self.expected}, the workspace has {self.actual}"


class SchemaPlan(msgspec.Struct, frozen=True):
    """What is missing, what conflicts, and how many spec items are already in place."""

    changes: tuple[SchemaChange, ...]
    conflicts: tuple[SchemaConflict, ...]
    satisfied: int

    @property
    def is_complete(self) -> bool:
        """True when the workspace already matches the spec."""
        return not self.changes and not self.conflicts


class SchemaConflictError(FatalForRunError):
    """The workspace holds something incompatible with the spec; nothing was changed."""


class ProbeResult(msgspec.Struct, frozen=True):
    """One probe record: written, read back, removed; fields that did not come back."""

    object_name: str
    ok: bool
    missing_fields: tuple[str, ...] = ()
    error: str = ""


def _field_plan(obj: ObjectSpec, existing: ObjectInfo | None) -> tuple[list[Any], int]:
    found: list[Any] = []
    satisfied = 0
    for field in obj.fields:
        have = existing.field(field.name) if existing else None
        if have is None:
            found.append(_create_field(obj, field))
            continue
        allowed = _COMPATIBLE.get(field.type, {field.type})
        if have.type not in allowed:
            found.append(SchemaConflict(
                object_name=obj.name_singular, field_name=field.name,
                expected=field.type, actual=have.type,
            ))  # fmt: skip
            continue
        missing = [o.value for o in field.options if o.value not in have.options]
        if missing:
            found.append(SchemaChange(
                kind="add_options", object_name=obj.name_singular, field_name=field.name,
                detail=" ".join(missing),
            ))  # fmt: skip
        else:
            satisfied += 1
    return found, satisfied


def _create_field(obj: ObjectSpec, field: FieldSpec) -> SchemaChange:
    detail = f"{field.type} → {field.relation_to}" if field.relation_to else field.type
    return SchemaChange(
        kind="create_field",
        object_name=obj.name_singular,
        field_name=field.name,
        detail=detail + (" unique" if field.is_unique else ""),
        is_relation=field.type == "RELATION",
    )


def plan(spec: SchemaSpec, workspace: Sequence[ObjectInfo]) -> SchemaPlan:
    """The difference between the desired model and the workspace's metadata.

    Raises:
        SchemaConflictError: the spec itself breaks Twenty's naming rules.
    """
    problems = validate_spec(spec)
    if problems:
        raise SchemaConflictError("the schema spec is not valid: " + "; ".join(problems))
    by_name = {o.name_singular: o for o in workspace}
    items: list[Any] = []
    satisfied = 0
    for obj in spec.objects:
        existing = by_name.get(obj.name_singular)
        if existing is None and not obj.is_custom:
            items.append(SchemaConflict(
                object_name=obj.name_singular, field_name="",
                expected="the standard object", actual="no such object",
            ))  # fmt: skip
            continue
        if existing is None:
            items.append(SchemaChange(kind="create_object", object_name=obj.name_singular))
        else:
            satisfied += 1
        found, done = _field_plan(obj, existing)
        items.extend(found)
        satisfied += done
    changes = [i for i in items if isinstance(i, SchemaChange)]
    changes.sort(key=lambda c: (_ORDER[c.kind], c.is_relation))
    conflicts = tuple(i for i in items if isinstance(i, SchemaConflict))
    return SchemaPlan(tuple(changes), conflicts, satisfied)


def object_body(obj: ObjectSpec) -> dict[str, Any]:
    """The metadata body that creates a custom object."""
    return {
        "nameSingular": obj.name_singular,
        "namePlural": obj.name_plural,
        "labelSingular": obj.label_singular,
        "labelPlural": obj.label_plural,
        "icon": obj.icon,
        "description": "Created by Ferry (Dental-Exec migration)",
        "isLabelSyncedWithName": False,
    }


def field_body(field: FieldSpec, object_id: str, target_id: str = "") -> dict[str, Any]:
    """The metadata body that creates a field (with its relation payload, if any)."""
    body: dict[str, Any] = {
        "objectMetadataId": object_id,
        "type": field.type,
        "name": field.name,
        "label": field.label,
        "icon": "IconLink" if field.type == "RELATION" else "IconTag",
        "isNullable": True,
    }
    if field.is_unique:
        body["isUnique"] = True
    if field.options:
        body["options"] = [
            {"value": o.value, "label": o.label, "position": i, "color": color_of(i)}
            for i, o in enumerate(field.options)
        ]
    if field.type == "RELATION":
        body["relationCreationPayload"] = {
            "type": "MANY_TO_ONE",
            "targetObjectMetadataId": target_id,
            "targetFieldLabel": field.inverse_label,
            "targetFieldIcon": "IconLink",
        }
    return body


def _options_body(field: FieldSpec, have: FieldInfo) -> dict[str, Any]:
    """The options update adding the spec's missing options after the existing ones.

    Every existing option goes back as the workspace has it (id, label, colour, position):
    Twenty pairs options by id, and a stored value whose option id is missing is lost.

    Raises:
        FatalForRunError: the workspace's options came without ids (nothing is sent).
    """
    if len(have.option_details) != len(have.options) or not all(o.id for o in have.option_details):
        raise FatalForRunError(
            f"cannot add options to {have.name}: the workspace did not say which id each "
            "existing option has, and sending them without would erase the values stored; "
            "add the options in Settings → Data Model instead"
        )
    kept = [
        {"id": o.id, "value": o.value, "label": o.label, "position": o.position}
        | ({"color": o.color} if o.color else {})
        for o in have.option_details
    ]
    known = {o.value for o in have.option_details} | set(have.options)
    start = max((o.position for o in have.option_details), default=-1) + 1
    added = [o for o in field.options if o.value not in known]
    return {
        "options": kept + [
            {"value": o.value, "label": o.label, "position": start + i,
             "color": color_of(start + i)}
            for i, o in enumerate(added)
        ]
    }  # fmt: skip


async def apply(
    spec: SchemaSpec,
    metadata: MetadataStore,
    on_change: Callable[[SchemaChange, str], None] | None = None,
) -> SchemaPlan:
    """Create what is missing (objects, then fields, then relations); return what was done.

    Raises:
        SchemaConflictError: an existing field has another type (before any change).
        RecordRejectedError: Twenty refused a definition (earlier changes stay applied).
    """
    workspace = await metadata.list_objects()
    todo = plan(spec, workspace)
    if todo.conflicts:
        lines = "; ".join(c.describe() for c in todo.conflicts)
        raise SchemaConflictError(
            f"schema conflicts, nothing changed: {lines}. Rename or remove these fields in "
            "Settings → Data Model, or change the mapping"
        )
    objects = {o.name_singular: o for o in workspace}
    for change in todo.changes:
        metadata_id = await _apply_one(spec, change, objects, metadata)
        if on_change is not None:
            on_change(change, metadata_id)
    return todo


async def _apply_one(
    spec: SchemaSpec, change: SchemaChange, objects: dict[str, ObjectInfo], meta: MetadataStore
) -> str:
    obj = spec.object(change.object_name)
    assert obj is not None  # plan only names objects of the spec
    if change.kind == "create_object":
        created = await meta.create_object(object_body(obj))
        objects[obj.name_singular] = created
        return created.id
    field = next(f for f in obj.fields if f.name == change.field_name)
    owner = objects[obj.name_singular]
    if change.kind == "add_options":
        have = owner.field(field.name)
        assert have is not None
        return (await meta.update_field(have.id, _options_body(field, have))).id
    target_id = objects[field.relation_to].id if field.relation_to else ""
    return (await meta.create_field(field_body(field, owner.id, target_id))).id


_SAMPLES: dict[str, Any] = {
    "TEXT": "ferry probe",
    "NUMBER": 1,
    "BOOLEAN": True,
    "DATE": "2000-01-01",
    "DATE_TIME": "2000-01-01T00:00:00.000Z",
    "CURRENCY": {"amountMicros": 1_000_000, "currencyCode": "USD"},
    "ADDRESS": {"addressCity": "Probe"},
    "RICH_TEXT_V2": {"markdown": "ferry probe"},
}


def probe_record(obj: ObjectSpec) -> dict[str, Any]:
    """A record with one harmless value per non-relation field (and a fresh id)."""
    record: dict[str, Any] = {"id": str(uuid.uuid4())}
    for field in obj.fields:
        if field.name == "dentalExecId":
            record[field.name] = f"ferry-probe-{record['id']}"
        elif field.type in ("SELECT", "MULTI_SELECT"):
            first = field.options[0].value
            record[field.name] = first if field.type == "SELECT" else [first]
        elif field.type in _SAMPLES:
            record[field.name] = _SAMPLES[field.type]
    return record


async def probe(
    spec: SchemaSpec,
    destination: Destination,
    on_probe: Callable[[int], None] = lambda n: None,
) -> list[ProbeResult]:
    """Write one probe record per object, read it back, remove it; report what came back.

    `on_probe(1)` after each object (three requests each), for a progress bar."""
    results: list[ProbeResult] = []
    for obj in spec.objects:
        if results:
            on_probe(1)
        record = probe_record(obj)
        try:
            await destination.create_one(obj.name_plural, record)
            found = await destination.find_by_ids(obj.name_plural, [record["id"]])
            await destination.delete_one(obj.name_plural, record["id"], soft=False)
        except FatalForRunError:
            raise
        except FerryError as error:  # each object is probed independently; report, go on
            results.append(ProbeResult(obj.name_singular, False, error=str(error)))
            continue
        back = found[0] if found else {}
        missing = tuple(k for k in record if k != "id" and back.get(k) is None)
        results.append(ProbeResult(obj.name_singular, bool(found) and not missing, missing))
    if results:
        on_probe(1)
    return results


class SchemaSetup(msgspec.Struct, frozen=True):
    """What `setup` did: the changes applied and the probe of every object."""

    applied: SchemaPlan
    probes: tuple[ProbeResult, ...]


def change_event(change: SchemaChange, metadata_id: str) -> SchemaChangeApplied:
    """The SchemaChangeApplied event recording one applied change."""
    kind = "update_field" if change.kind == "add_options" else change.kind
    return SchemaChangeApplied(
        change=kind,
        object_name=change.object_name,
        field_name=change.field_name,
        metadata_id=metadata_id,
        detail={"detail": change.detail} if change.detail else {},
    )


async def plan_workspace(spec: SchemaSpec, metadata: MetadataStore) -> SchemaPlan:
    """Read the workspace's metadata and plan against it.

    Raises:
        SchemaConflictError: the spec breaks Twenty's naming rules.
    """
    return plan(spec, await metadata.list_objects())


async def setup(
    spec: SchemaSpec,
    metadata: MetadataStore,
    destination: Destination,
    on_change: Callable[[SchemaChange, str], None] | None = None,
    *,
    run_probe: bool = True,
    on_probe: Callable[[int], None] = lambda n: None,
) -> SchemaSetup:
    """Apply the spec, then probe every object (unless told not to).

    Raises:
        SchemaConflictError: an existing field has another type (nothing changed).
        RecordRejectedError: Twenty refused a definition (earlier changes stay applied).
    """
    applied = await apply(spec, metadata, on_change)
    probes = await probe(spec, destination, on_probe) if run_probe else []
    return SchemaSetup(applied, tuple(probes))

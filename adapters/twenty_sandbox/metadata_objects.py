"""Metadata writes for objects: create, update, delete (reference §6.1-6.2)."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

import msgspec

from adapters.twenty_sandbox.naming import (
    check_label,
    check_name,
)
from adapters.twenty_sandbox.problems import bad_request, not_found
from adapters.twenty_sandbox.schema import (
    UNIQUE_SUBFIELD,
    FieldMeta,
    ObjectMeta,
    Schema,
)
from adapters.twenty_sandbox.standard_model import (
    junction_relations,
    make_field,
    new_object,
    system_fields,
)
from adapters.twenty_sandbox.storage import Storage
from adapters.twenty_sandbox.values import format_instant, is_valid_uuid
from adapters.twenty_sandbox.writes import column_name
from core.clock import Clock

_OBJECT_KEYS = frozenset(
    {
        "nameSingular",
        "namePlural",
        "labelSingular",
        "labelPlural",
        "description",
        "icon",
        "isLabelSyncedWithName",
        "shortcut",
        "isRemote",
        "primaryKeyColumnType",
        "primaryKeyFieldMetadataSettings",
    }
)
_OBJECT_UPDATE_KEYS = _OBJECT_KEYS | {
    "isActive",
    "labelIdentifierFieldMetadataId",
    "imageIdentifierFieldMetadataId",
}


class MetadataState(Protocol):
    """What metadata writes need from the app."""

    storage: Storage
    clock: Clock

    def schema(self) -> Schema:
        """The current metadata snapshot."""
        ...

    def reload_schema(self) -> None:
        """Re-read metadata after a change."""
        ...


def read_body(body: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("Body must be a JSON object")
    for key in body:
        if key not in allowed:
            raise bad_request(f"property {key} should not exist")
    return body


def now_text(state: MetadataState) -> str:
    return format_instant(state.clock.now())


def get_object(schema: Schema, object_id: str) -> ObjectMeta:
    """An object by id.

    Raises:
        ApiProblem: 400 for a malformed id, 404 when unknown.
    """
    if not is_valid_uuid(object_id):
        raise bad_request(f"'{object_id}' is not a valid UUID")
    obj = schema.objects.get(object_id.lower())
    if obj is None:
        raise not_found("Object metadata not found")
    return obj


def create_object(state: MetadataState, body: Any) -> ObjectMeta:
    """Create a custom object with system fields, `name`, and junction relations.

    Raises:
        ApiProblem: 400 for bad names, labels, reserved words or duplicates.
    """
    data = read_body(body, _OBJECT_KEYS)
    schema = state.schema()
    singular = check_name(data.get("nameSingular"), "nameSingular")
    plural = check_name(data.get("namePlural"), "namePlural")
    label_singular = check_label(data.get("labelSingular"), "labelSingular")
    label_plural = check_label(data.get("labelPlural"), "labelPlural")
    if singular.lower() == plural.lower():
        raise bad_request("The singular and plural name cannot be the same for an object")
    if label_singular.lower() == label_plural.lower():
        raise bad_request("The singular and plural label cannot be the same for an object")
    taken = {n for o in schema.objects.values() for n in (o.name_singular, o.name_plural)}
    for name in (singular, plural):
        if name in taken:
            raise bad_request(f'Object already exists with name "{name}"')
    now = now_text(state)
    obj = new_object(
        singular,
        plural,
        now,
        id=str(uuid.uuid4()),
        is_custom=True,
        label_singular=label_singular,
        label_plural=label_plural,
        description=data.get("description"),
        icon=data.get("icon"),
    )
    junctions = {o.name_singular: o for o in schema.objects.values()}
    name_field = make_field(
        obj, "name", "TEXT", now, id=str(uuid.uuid4()), default_value="''", label="Name"
    )
    obj.label_identifier_field_id = name_field.id
    fields = [*system_fields(obj, now), name_field, *junction_relations(obj, junctions, now)]
    with state.storage.transaction():
        state.storage.save_object(obj)
        for field in fields:
            state.storage.save_field(field)
            if field.object_id != obj.id and field.relation and field.relation.join_column:
                state.storage.json_set_all(field.object_id, field.relation.join_column, None)
    state.reload_schema()
    return state.schema().objects[obj.id]


def update_object(state: MetadataState, object_id: str, body: Any) -> ObjectMeta:
    """Change labels, description, icon, names or `isActive` of an object.

    Raises:
        ApiProblem: 404 when unknown; 400 for invalid values.
    """
    data = read_body(body, _OBJECT_UPDATE_KEYS)
    obj = get_object(state.schema(), object_id)
    changes: dict[str, Any] = {}
    for key, attr in (("labelSingular", "label_singular"), ("labelPlural", "label_plural")):
        if key in data:
            changes[attr] = check_label(data[key], key)
    for key, attr in (("nameSingular", "name_singular"), ("namePlural", "name_plural")):
        if key in data and data[key] != getattr(obj, attr):
            if not obj.is_custom:
                raise bad_request("The name of a standard object cannot be changed")
            changes[attr] = check_name(data[key], key)
    for key, attr in (("description", "description"), ("icon", "icon"), ("isActive", "is_active")):
        if key in data:
            changes[attr] = data[key]
    updated = msgspec.structs.replace(obj, **changes, updated_at=now_text(state))
    with state.storage.transaction():
        state.storage.save_object(updated)
    state.reload_schema()
    return state.schema().objects[updated.id]


def delete_object(state: MetadataState, object_id: str) -> ObjectMeta:
    """Delete a deactivated custom object with its records and the relations pointing at it.

    Raises:
        ApiProblem: 404 when unknown; 400 for a standard or still active object.
    """
    schema = state.schema()
    obj = get_object(schema, object_id)
    if not obj.is_custom:
        raise bad_request("Standard objects cannot be deleted")
    if obj.is_active:
        raise bad_request("Object must be deactivated (isActive: false) before it is deleted")
    with state.storage.transaction():
        for field in schema.fields.values():
            relation = field.relation
            if field.object_id != obj.id and relation and relation.target_object_id == obj.id:
                drop_field(state.storage, field)
        state.storage.delete_object(obj.id)
    state.reload_schema()
    return obj


def drop_field(storage: Storage, field: FieldMeta) -> None:
    """Remove a field's metadata, its stored values and its unique values."""
    storage.delete_field(field.id)
    key = field.relation.join_column if field.relation else field.name
    if key:
        storage.json_remove_all(field.object_id, key)
    storage.drop_unique_key(field.object_id, unique_key(field))


def unique_key(field: FieldMeta) -> str:
    """The key under which a unique field's values are indexed."""
    return column_name(field.name, UNIQUE_SUBFIELD.get(field.type))

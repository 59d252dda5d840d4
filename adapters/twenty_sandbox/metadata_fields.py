"""Metadata writes for fields: types, options, uniqueness, relations (reference §5.1, §6.3-6.4)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from adapters.twenty_sandbox.metadata_objects import (
    MetadataState,
    drop_field,
    get_object,
    now_text,
    read_body,
    unique_key,
)
from adapters.twenty_sandbox.naming import (
    camel_case,
    check_label,
    check_name,
    check_options,
    check_select_default,
)
from adapters.twenty_sandbox.option_values import migrate_values
from adapters.twenty_sandbox.problems import bad_request, not_found
from adapters.twenty_sandbox.schema import (
    FieldMeta,
    ObjectMeta,
    RelationInfo,
    Schema,
)
from adapters.twenty_sandbox.standard_model import (
    make_field,
)
from adapters.twenty_sandbox.storage import Storage
from adapters.twenty_sandbox.values import is_valid_uuid
from adapters.twenty_sandbox.writes import default_for, unique_values

FIELD_TYPES = frozenset(
    [
        "TEXT",
        "NUMBER",
        "NUMERIC",
        "BOOLEAN",
        "DATE",
        "DATE_TIME",
        "SELECT",
        "MULTI_SELECT",
        "CURRENCY",
        "EMAILS",
        "PHONES",
        "LINKS",
        "ADDRESS",
        "FULL_NAME",
        "RICH_TEXT_V2",
        "ARRAY",
        "RAW_JSON",
        "RELATION",
        "UUID",
        "RATING",
    ]
)
_UNIQUE_ALLOWED = frozenset(
    {"TEXT", "NUMBER", "NUMERIC", "UUID", "DATE", "DATE_TIME", "EMAILS", "LINKS", "PHONES"}
)
_FIELD_KEYS = frozenset(
    {
        "objectMetadataId",
        "type",
        "name",
        "label",
        "description",
        "icon",
        "isNullable",
        "isUnique",
        "defaultValue",
        "options",
        "settings",
        "isLabelSyncedWithName",
        "relationCreationPayload",
        "isActive",
    }
)
_FIELD_UPDATE_KEYS = frozenset(
    {
        "label",
        "description",
        "icon",
        "isActive",
        "isNullable",
        "isUnique",
        "defaultValue",
        "options",
        "settings",
        "isLabelSyncedWithName",
    }
)


def get_field(schema: Schema, field_id: str, *, unknown_status: int = 404) -> FieldMeta:
    """A field by id.

    Raises:
        ApiProblem: 400 for a malformed id; `unknown_status` when unknown.
    """
    if not is_valid_uuid(field_id):
        raise bad_request(f"'{field_id}' is not a valid UUID")
    field = schema.fields.get(field_id.lower())
    if field is None:
        raise (
            bad_request("Field metadata not found")
            if unknown_status == 400
            else not_found("Field metadata not found")
        )
    return field


def create_field(state: MetadataState, body: Any) -> FieldMeta:
    """Create a field (a relation pair for RELATION) and back-fill existing records.

    Raises:
        ApiProblem: 400 for invalid input, name clashes, or unique values already duplicated.
    """
    data = read_body(body, _FIELD_KEYS)
    schema = state.schema()
    object_id = data.get("objectMetadataId")
    if not isinstance(object_id, str):
        raise bad_request("objectMetadataId is required")
    obj = get_object(schema, object_id)
    type_ = data.get("type")
    if type_ not in FIELD_TYPES:
        raise bad_request(f'Invalid field type "{type_}"')
    name = check_name(data.get("name"), "name")
    _check_free(schema, obj, name)
    now = now_text(state)
    if type_ == "RELATION":
        fields = _relation_fields(schema, obj, data, name, now)
    else:
        fields = [_plain_field(obj, data, name, str(type_), now)]
    created = fields[0]
    with state.storage.transaction():
        for field in fields:
            state.storage.save_field(field)
            _backfill(state.storage, field, now)
        if created.is_unique:
            state.reload_schema()
            _index_uniques(state, obj)
    state.reload_schema()
    return state.schema().fields[created.id]


def _check_free(schema: Schema, obj: ObjectMeta, name: str) -> None:
    taken = set(schema.write_keys(obj.id)) | {
        f.name for f in schema.fields_of(obj.id, include_inactive=True)
    }
    if name in taken:
        raise bad_request(f'Name "{name}" is not available, it is already used by a field')


def _plain_field(
    obj: ObjectMeta, data: dict[str, Any], name: str, type_: str, now: str
) -> FieldMeta:
    options = None
    default = data.get("defaultValue")
    if type_ in ("SELECT", "MULTI_SELECT"):
        options = check_options(data.get("options"))
        default = check_select_default(default, options, type_ == "MULTI_SELECT")
    is_unique = bool(data.get("isUnique", False))
    if is_unique and type_ not in _UNIQUE_ALLOWED:
        raise bad_request(f"A {type_} field cannot be unique")
    return make_field(
        obj,
        name,
        type_,
        now,
        id=str(uuid.uuid4()),
        label=check_label(data.get("label"), "label"),
        description=data.get("description"),
        icon=data.get("icon"),
        is_custom=True,
        is_nullable=bool(data.get("isNullable", True)),
        is_unique=is_unique,
        default_value=default,
        options=options,
        settings=data.get("settings"),
    )


def _relation_fields(
    schema: Schema, obj: ObjectMeta, data: dict[str, Any], name: str, now: str
) -> list[FieldMeta]:
    payload = data.get("relationCreationPayload")
    required = ("type", "targetObjectMetadataId", "targetFieldLabel", "targetFieldIcon")
    if not isinstance(payload, dict) or any(not isinstance(payload.get(k), str) for k in required):
        raise bad_request(
            "Relation creation payload is invalid: type, targetObjectMetadataId, "
            "targetFieldLabel and targetFieldIcon are required"
        )
    if payload["type"] not in ("MANY_TO_ONE", "ONE_TO_MANY"):
        raise bad_request(
            "Relation creation payload is invalid: type must be MANY_TO_ONE or ONE_TO_MANY"
        )
    target_id = payload["targetObjectMetadataId"].lower()
    target = schema.objects.get(target_id)
    if target is None:
        raise bad_request("Object targeted by field to create not found")
    inverse_name = check_name(camel_case(payload["targetFieldLabel"]), "targetFieldLabel")
    _check_free(schema, target, inverse_name)
    label = check_label(data.get("label"), "label")
    source_field = make_field(
        obj,
        name,
        "RELATION",
        now,
        id=str(uuid.uuid4()),
        label=label,
        icon=data.get("icon"),
        description=data.get("description"),
        is_custom=True,
    )
    target_field = make_field(
        target,
        inverse_name,
        "RELATION",
        now,
        id=str(uuid.uuid4()),
        label=payload["targetFieldLabel"],
        icon=payload["targetFieldIcon"],
        is_custom=True,
    )
    many, one = (
        (source_field, target_field)
        if payload["type"] == "MANY_TO_ONE"
        else (target_field, source_field)
    )
    if many is target_field:
        _check_free(schema, target, f"{many.name}Id")
    else:
        _check_free(schema, obj, f"{many.name}Id")
    many.relation = RelationInfo(
        relation_type="MANY_TO_ONE",
        target_object_id=one.object_id,
        target_field_id=one.id,
        join_column=f"{many.name}Id",
    )
    one.relation = RelationInfo(
        relation_type="ONE_TO_MANY", target_object_id=many.object_id, target_field_id=many.id
    )
    return [source_field, target_field]


def _backfill(storage: Storage, field: FieldMeta, now: str) -> None:
    if field.relation is not None:
        if field.relation.join_column:
            storage.json_set_all(field.object_id, field.relation.join_column, None)
        return
    storage.json_set_all(field.object_id, field.name, default_for(field, now))


def _index_uniques(state: MetadataState, obj: ObjectMeta) -> None:
    """Rebuild the unique values of an object; duplicates already stored refuse the change."""
    schema = state.schema()
    seen: dict[tuple[str, str], str] = {}
    rows = state.storage.select(obj.id, "1", [], "id", None)
    for record in rows:
        for key, value in unique_values(schema, obj, record).items():
            if (key, value) in seen:
                raise bad_request(f"Cannot make the field unique: duplicate values exist for {key}")
            seen[(key, value)] = record["id"]
    for record in rows:
        state.storage.set_uniques(obj.id, record["id"], unique_values(schema, obj, record))


def update_field(state: MetadataState, field_id: str, body: Any) -> FieldMeta:
    """Change a field's label, options, default, nullability, uniqueness or activity.

    Raises:
        ApiProblem: 400 for an unknown id (as Twenty answers) or invalid values.
    """
    data = read_body(body, _FIELD_UPDATE_KEYS)
    schema = state.schema()
    field = get_field(schema, field_id, unknown_status=400)
    changes: dict[str, Any] = {}
    if "label" in data:
        changes["label"] = check_label(data["label"], "label")
    options = field.options
    if "options" in data:
        options = changes["options"] = check_options(data["options"])
    if "defaultValue" in data:
        default = data["defaultValue"]
        if field.type in ("SELECT", "MULTI_SELECT"):
            default = check_select_default(default, options or [], field.type == "MULTI_SELECT")
        changes["default_value"] = default
    for key, attr in (
        ("description", "description"),
        ("icon", "icon"),
        ("isActive", "is_active"),
        ("isNullable", "is_nullable"),
        ("settings", "settings"),
    ):
        if key in data:
            changes[attr] = data[key]
    if "isUnique" in data:
        if data["isUnique"] and field.type not in _UNIQUE_ALLOWED:
            raise bad_request(f"A {field.type} field cannot be unique")
        changes["is_unique"] = bool(data["isUnique"])
    updated = msgspec.structs.replace(field, **changes, updated_at=now_text(state))
    with state.storage.transaction():
        if "options" in changes and field.type in ("SELECT", "MULTI_SELECT"):
            migrate_values(state.storage, field, changes["options"], updated.default_value)
        state.storage.save_field(updated)
        if updated.is_unique != field.is_unique:
            state.reload_schema()
            state.storage.drop_unique_key(field.object_id, unique_key(field))
            _index_uniques(state, state.schema().objects[field.object_id])
    state.reload_schema()
    return state.schema().fields[updated.id]


def delete_field(state: MetadataState, field_id: str) -> FieldMeta:
    """Delete a custom field (both sides of a relation) and its values.

    Raises:
        ApiProblem: 404 when unknown; 400 for a standard field.
    """
    schema = state.schema()
    field = get_field(schema, field_id)
    if not field.is_custom:
        raise bad_request("Standard fields cannot be deleted")
    with state.storage.transaction():
        drop_field(state.storage, field)
        if field.relation and field.relation.target_field_id in schema.fields:
            drop_field(state.storage, schema.fields[field.relation.target_field_id])
    state.reload_schema()
    return field

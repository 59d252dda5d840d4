"""Turning a request body into stored values: keys, relations, defaults, unique values.

Implements the data processor's rules of reference §2.2: unknown keys, one-to-many writes,
the morph `targetPerson` keys (refused since Twenty PR #18335: write `targetPersonId`),
`connect`/`disconnect` on a relation name, null on non-nullable fields, and createdBy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from adapters.twenty_sandbox.problems import bad_request
from adapters.twenty_sandbox.schema import (
    COMPOSITES,
    RELATION_TYPES,
    UNIQUE_SUBFIELD,
    FieldMeta,
    ObjectMeta,
    Schema,
    capitalize,
)
from adapters.twenty_sandbox.storage import Storage
from adapters.twenty_sandbox.values import check_value, composite_default, is_valid_uuid

_DEFAULT_ACTOR_KEYS = ("source", "workspaceMemberId", "name", "context")


@dataclass
class WriteContext:
    """What a write needs besides the body: model, storage, object, acting key and time."""

    schema: Schema
    storage: Storage
    obj: ObjectMeta
    actor: dict[str, Any]
    now: str


def prepare(ctx: WriteContext, body: Any, current: dict[str, Any] | None) -> dict[str, Any]:
    """The checked values a body sets; `current` is the stored record on update.

    Raises:
        ApiProblem: 400 for a non-object body, unknown keys, bad values or relations.
    """
    if not isinstance(body, dict):
        raise bad_request("Body must be a JSON object")
    keys = ctx.schema.write_keys(ctx.obj.id)
    changes: dict[str, Any] = {}
    for key, value in body.items():
        write_key = keys.get(key)
        if write_key is None:
            raise bad_request(f'Object {ctx.obj.name_singular} doesn\'t have any "{key}" field.')
        field = write_key.field
        if write_key.is_join_column:
            changes[key] = _check_join(ctx, field, key, value)
        elif field.type in RELATION_TYPES:
            changes.update(_relation_operation(ctx, field, value))
        elif field.name == "id":
            if not is_valid_uuid(value):
                raise bad_request(f"'{value}' is not a valid UUID")
            changes["id"] = str(value).lower()
        elif field.name in ("createdBy", "updatedBy"):
            changes[field.name] = _actor(ctx, field, value)
        else:
            existing = current.get(field.name) if current else None
            changes[field.name] = _checked(field, value, existing)
    return changes


def _checked(field: FieldMeta, value: Any, existing: Any) -> Any:
    if value is None and not field.is_nullable:
        if field.default_value is None:
            raise bad_request(f"Field {field.name} is not nullable and has no default value.")
        return default_for(field, "")
    return check_value(field, value, existing)


def _check_join(ctx: WriteContext, field: FieldMeta, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not is_valid_uuid(value):
        raise bad_request(f"Invalid UUID value '{value}' for field \"{key}\"")
    assert field.relation is not None
    target_id = field.relation.target_object_id
    if ctx.storage.get(target_id, str(value).lower(), with_deleted=True) is None:
        target = ctx.schema.objects[target_id].name_singular
        raise bad_request(f"Related {target} record '{value}' for field \"{key}\" does not exist")
    return str(value).lower()


def _relation_operation(ctx: WriteContext, field: FieldMeta, value: Any) -> dict[str, Any]:
    relation = field.relation
    assert relation is not None
    if relation.relation_type == "ONE_TO_MANY":
        raise bad_request(
            f"One-to-many relation {field.name} field does not support write operations."
        )
    join = relation.join_column or f"{field.name}Id"
    if field.type == "MORPH_RELATION":
        raise bad_request(
            f'Field "{field.name}" is a morph relation and cannot be written directly; '
            f'write its join column "{join}" instead.'
        )
    if value is None or (isinstance(value, dict) and value.get("disconnect") is True):
        return {join: None}
    where = value.get("connect", {}).get("where") if isinstance(value, dict) else None
    if not isinstance(where, dict):
        raise bad_request(f'Relation "{field.name}" requires connect or disconnect operation')
    return {join: _connect(ctx, relation.target_object_id, where)}


def _connect(ctx: WriteContext, target_id: str, where: dict[str, Any]) -> str:
    target = ctx.schema.objects[target_id]
    if isinstance(where.get("id"), str):
        found = ctx.storage.get(target_id, where["id"].lower(), with_deleted=False)
        if found:
            return str(found["id"])
    probe = {"id": "", **where}
    for key, value in unique_values(ctx.schema, target, probe).items():
        owner = ctx.storage.unique_owner(target_id, key, value)
        if owner:
            return owner
    raise bad_request(
        f"Record to connect not found in {target.name_singular}", code="CONNECT_RECORD_NOT_FOUND"
    )


def _actor(ctx: WriteContext, field: FieldMeta, value: Any) -> dict[str, Any]:
    checked = check_value(field, value, dict(ctx.actor)) if value is not None else dict(ctx.actor)
    checked["workspaceMemberId"] = None
    return {key: checked.get(key) for key in _DEFAULT_ACTOR_KEYS}


def default_for(field: FieldMeta, now: str) -> Any:
    """A new record's value for a field it was not given (Twenty's typed default values)."""
    if field.type in COMPOSITES:
        return composite_default(field.type)
    default = field.default_value
    if isinstance(default, str):
        if default == "now":
            return now
        if default == "uuid":
            return str(uuid.uuid4())
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
    if isinstance(default, list):
        return [item.strip("'") if isinstance(item, str) else item for item in default]
    return default


def record_template(schema: Schema, obj: ObjectMeta) -> bytes:
    """Every stored field of a new record at its default, as JSON (decoded afresh per record)."""
    record: dict[str, Any] = {}
    for field in schema.fields_of(obj.id):
        if field.relation is not None:
            if field.relation.join_column:
                record[field.relation.join_column] = None
            continue
        record[field.name] = default_for(field, "")
    return msgspec.json.encode(record)


def build_new(
    ctx: WriteContext, changes: dict[str, Any], position: float, template: bytes
) -> dict[str, Any]:
    """A complete record: the object's defaults, fresh id and timestamps, then the values given."""
    record: dict[str, Any] = msgspec.json.decode(template)
    record.update(
        {
            "id": str(uuid.uuid4()),
            "createdAt": ctx.now,
            "updatedAt": ctx.now,
            "deletedAt": None,
            "position": position,
        }
    )
    record["createdBy"] = dict(ctx.actor)
    record["updatedBy"] = dict(ctx.actor)
    record.update(changes)
    return record


def unique_values(schema: Schema, obj: ObjectMeta, record: dict[str, Any]) -> dict[str, str]:
    """The values a record holds under the object's unique constraints (empty ones skipped)."""
    values: dict[str, str] = {}
    for field in schema.unique_fields(obj.id):
        sub = UNIQUE_SUBFIELD.get(field.type)
        value = record.get(field.name)
        if sub is not None:
            value = value.get(sub) if isinstance(value, dict) else None
        if value is None or value == "":
            continue
        values[column_name(field.name, sub)] = (
            str(value).lower() if sub == "primaryEmail" else str(value)
        )
    return values


def column_name(field_name: str, sub: str | None) -> str:
    """Twenty's column name: `emails` + `primaryEmail` -> `emailsPrimaryEmail`."""
    return f"{field_name}{capitalize(sub)}" if sub else field_name


def duplicate_error() -> Exception:
    """Twenty's 400 for a unique violation: its REST body names neither the column nor a code."""
    return bad_request("A duplicate entry was detected")

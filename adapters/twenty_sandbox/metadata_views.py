"""The metadata API's JSON shapes for objects and fields (legacy `data.objects` format, §6.1)."""

from __future__ import annotations

from typing import Any

from adapters.twenty_sandbox.schema import FieldMeta, ObjectMeta, Schema


def object_json(schema: Schema, obj: ObjectMeta, *, with_fields: bool = True) -> dict[str, Any]:
    """An object as `GET /rest/metadata/objects` returns it, fields inlined."""
    body: dict[str, Any] = {
        "id": obj.id,
        "dataSourceId": "00000000-0000-4000-8000-000000000000",
        "nameSingular": obj.name_singular,
        "namePlural": obj.name_plural,
        "labelSingular": obj.label_singular,
        "labelPlural": obj.label_plural,
        "description": obj.description,
        "icon": obj.icon,
        "isCustom": obj.is_custom,
        "isRemote": False,
        "isActive": obj.is_active,
        "isSystem": obj.is_system,
        "createdAt": obj.created_at,
        "updatedAt": obj.updated_at,
        "labelIdentifierFieldMetadataId": obj.label_identifier_field_id,
        "imageIdentifierFieldMetadataId": None,
    }
    if with_fields:
        fields = schema.fields_of(obj.id, include_inactive=True)
        body["fields"] = [field_json(schema, f) for f in fields]
    return body


def field_json(schema: Schema, field: FieldMeta) -> dict[str, Any]:
    """A field as the metadata API returns it, with its relation when it has one."""
    settings = field.settings
    relation = None
    if field.relation is not None:
        relation = _relation_json(schema, field)
        if field.relation.join_column:
            settings = {
                **(settings or {}),
                "relationType": field.relation.relation_type,
                "onDelete": field.relation.on_delete,
                "joinColumnName": field.relation.join_column,
            }
        else:
            settings = {**(settings or {}), "relationType": field.relation.relation_type}
    return {
        "id": field.id,
        "type": field.type,
        "name": field.name,
        "label": field.label,
        "description": field.description,
        "icon": field.icon,
        "isCustom": field.is_custom,
        "isActive": field.is_active,
        "isSystem": field.is_system,
        "isNullable": field.is_nullable,
        "isUnique": field.is_unique,
        "createdAt": field.created_at,
        "updatedAt": field.updated_at,
        "defaultValue": field.default_value,
        "options": field.options,
        "settings": settings,
        "objectMetadataId": field.object_id,
        "relation": relation,
    }


def _relation_json(schema: Schema, field: FieldMeta) -> dict[str, Any]:
    assert field.relation is not None
    source = schema.objects[field.object_id]
    target = schema.objects.get(field.relation.target_object_id)
    target_field = schema.fields.get(field.relation.target_field_id or "")

    def brief(obj: ObjectMeta | None) -> dict[str, Any] | None:
        if obj is None:
            return None
        return {"id": obj.id, "nameSingular": obj.name_singular, "namePlural": obj.name_plural}

    return {
        "type": field.relation.relation_type,
        "sourceObjectMetadata": brief(source),
        "targetObjectMetadata": brief(target),
        "sourceFieldMetadata": {"id": field.id, "name": field.name},
        "targetFieldMetadata": (
            {"id": target_field.id, "name": target_field.name} if target_field else None
        ),
    }

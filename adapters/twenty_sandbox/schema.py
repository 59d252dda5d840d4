"""The workspace's data model as metadata: objects, fields, relations, composite shapes.

`Schema` is an immutable snapshot rebuilt whenever the metadata API changes something; the
record routes read it to learn which keys a body may carry and how each value is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

# Composite field types: sub-field -> (kind, default). Kinds drive validation in values.py.
COMPOSITES: dict[str, dict[str, tuple[str, Any]]] = {
    "FULL_NAME": {"firstName": ("text", ""), "lastName": ("text", "")},
    "EMAILS": {"primaryEmail": ("email", ""), "additionalEmails": ("email_list", [])},
    "PHONES": {
        "primaryPhoneNumber": ("text", ""),
        "primaryPhoneCountryCode": ("text", ""),
        "primaryPhoneCallingCode": ("text", ""),
        "additionalPhones": ("object_list", []),
    },
    "LINKS": {
        "primaryLinkUrl": ("text", ""),
        "primaryLinkLabel": ("text", ""),
        "secondaryLinks": ("object_list", []),
    },
    "ADDRESS": {
        "addressStreet1": ("text", ""),
        "addressStreet2": ("text", ""),
        "addressCity": ("text", ""),
        "addressState": ("text", ""),
        "addressPostcode": ("text", ""),
        "addressCountry": ("text", ""),
        "addressLat": ("number", None),
        "addressLng": ("number", None),
    },
    "CURRENCY": {"amountMicros": ("number", None), "currencyCode": ("text", "")},
    "RICH_TEXT_V2": {"blocknote": ("text", None), "markdown": ("text", None)},
    "ACTOR": {
        "source": ("actor_source", "MANUAL"),
        "workspaceMemberId": ("uuid", None),
        "name": ("text", ""),
        "context": ("json", {}),
    },
}
# The sub-field a unique composite field is unique on (Twenty: `isIncludedInUniqueConstraint`).
UNIQUE_SUBFIELD = {
    "EMAILS": "primaryEmail",
    "LINKS": "primaryLinkUrl",
    "PHONES": "primaryPhoneNumber",
}
RELATION_TYPES = frozenset({"RELATION", "MORPH_RELATION"})
SYSTEM_FIELD_NAMES = ("id", "createdAt", "updatedAt", "deletedAt", "createdBy", "updatedBy")


class RelationInfo(msgspec.Struct, kw_only=True):
    """One side of a relation: its kind, where it points and (MANY_TO_ONE) its join column."""

    relation_type: str  # MANY_TO_ONE or ONE_TO_MANY
    target_object_id: str
    target_field_id: str | None = None
    join_column: str | None = None
    on_delete: str = "SET_NULL"


class FieldMeta(msgspec.Struct, kw_only=True):
    """A field of an object as the metadata API describes it."""

    id: str
    object_id: str
    name: str
    label: str
    type: str
    description: str | None = None
    icon: str | None = None
    is_custom: bool = False
    is_active: bool = True
    is_system: bool = False
    is_nullable: bool = True
    is_unique: bool = False
    default_value: Any = None
    options: list[dict[str, Any]] | None = None
    settings: dict[str, Any] | None = None
    relation: RelationInfo | None = None
    created_at: str = ""
    updated_at: str = ""


class ObjectMeta(msgspec.Struct, kw_only=True):
    """An object (standard or custom) as the metadata API describes it."""

    id: str
    name_singular: str
    name_plural: str
    label_singular: str
    label_plural: str
    description: str | None = None
    icon: str | None = None
    is_custom: bool = False
    is_active: bool = True
    is_system: bool = False
    label_identifier_field_id: str | None = None
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class WriteKey:
    """What a body key of a record write means: a field value or a relation's join column."""

    field: FieldMeta
    is_join_column: bool


class Schema:
    """A read-only snapshot of all objects and fields, indexed the ways the routes need."""

    def __init__(self, objects: list[ObjectMeta], fields: list[FieldMeta]) -> None:
        self.objects = {o.id: o for o in objects}
        self.fields = {f.id: f for f in fields}
        self.by_plural = {o.name_plural: o for o in objects if o.is_active}
        self.by_singular = {o.name_singular: o for o in objects}
        self._object_fields: dict[str, list[FieldMeta]] = {o.id: [] for o in objects}
        for f in fields:
            self._object_fields.setdefault(f.object_id, []).append(f)
        self._write_keys = {o.id: self._compute_write_keys(o.id) for o in objects}

    def fields_of(self, object_id: str, *, include_inactive: bool = False) -> list[FieldMeta]:
        """The object's fields in creation order."""
        found = self._object_fields.get(object_id, [])
        return found if include_inactive else [f for f in found if f.is_active]

    def field_named(self, object_id: str, name: str) -> FieldMeta | None:
        """The active field of that name on the object, if any."""
        return next((f for f in self.fields_of(object_id) if f.name == name), None)

    def write_keys(self, object_id: str) -> dict[str, WriteKey]:
        """Every key a record body may carry, mapped to its field."""
        return self._write_keys[object_id]

    def unique_fields(self, object_id: str) -> list[FieldMeta]:
        """The fields with a unique constraint (besides `id`)."""
        return [f for f in self.fields_of(object_id) if f.is_unique]

    def _compute_write_keys(self, object_id: str) -> dict[str, WriteKey]:
        keys: dict[str, WriteKey] = {}
        for f in self.fields_of(object_id):
            keys[f.name] = WriteKey(f, is_join_column=False)
            if f.relation is not None and f.relation.join_column:
                keys[f.relation.join_column] = WriteKey(f, is_join_column=True)
        return keys


def capitalize(name: str) -> str:
    """`person` -> `Person`: Twenty's envelope keys upper-case the first letter only."""
    return name[:1].upper() + name[1:]

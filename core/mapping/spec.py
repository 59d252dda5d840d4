"""`schema_spec_from_mapping`: the Twenty data model the confirmed mapping writes into.

Starts from core.schema_spec.default_spec() and adapts it to the mapping: a TEXT field for
every target the default lacks (typed by its transform), select options grown by the value
maps' options, and the fields the transforms add: `dentalExecExtra` (every object),
`providerCode` (person) and `category` (procedure).
"""

from __future__ import annotations

from core.mapping.model import Mapping
from core.schema_spec import FieldSpec, FieldType, ObjectSpec, OptionSpec, SchemaSpec, default_spec

__all__ = ["STANDARD_FIELDS", "schema_spec_from_mapping"]

# Fields Twenty has already (standard objects) or creates itself (custom objects: `name`).
# A current Twenty's person has no `city` (nor `xLink`): a map targeting it creates the field.
_COMMON = {"id", "createdAt", "position", "name"}
STANDARD_FIELDS: dict[str, set[str]] = {
    "person": _COMMON | {"emails", "phones", "jobTitle", "companyId", "linkedinLink"},
    "company": _COMMON | {"domainName", "address", "employees", "accountOwnerId"},
    "task": _COMMON | {"title", "bodyV2", "dueAt", "status", "assigneeId"},
    "note": _COMMON | {"title", "bodyV2"},
    "taskTarget": {"id", "taskId", "targetPersonId"},
    "noteTarget": {"id", "noteId", "targetPersonId"},
}
_TYPE_OF: dict[str, FieldType] = {
    "text": "TEXT",
    "list": "TEXT",
    "provider_code": "TEXT",
    "phone_text": "TEXT",
    "zip": "TEXT",
    "cdt": "TEXT",
    "tooth": "TEXT",
    "surfaces": "TEXT",
    "int": "NUMBER",
    "date": "DATE",
    "date_as_datetime": "DATE_TIME",
    "datetime_local": "DATE_TIME",
    "money": "CURRENCY",
    "bool": "BOOLEAN",
    "file_size": "BOOLEAN",
    "select": "SELECT",
    "rich_text": "RICH_TEXT_V2",
}
_EXTRA = FieldSpec(name="dentalExecExtra", label="Other Dental-Exec data", type="TEXT")


def _label(name: str) -> str:
    words = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in name)
    return words.strip().capitalize()


def _options(
    mapping: Mapping, target: str, current: tuple[OptionSpec, ...]
) -> tuple[OptionSpec, ...]:
    wanted: list[str] = []
    for value_map in mapping.value_maps.values():
        if value_map.target == target:
            wanted.extend(value_map.values.values())
            if value_map.fallback:
                wanted.append(value_map.fallback)
    known = [option.value for option in current]
    added = [OptionSpec(v, v.replace("_", " ").capitalize()) for v in dict.fromkeys(wanted)]
    return current + tuple(option for option in added if option.value not in known)


def _wanted_fields(mapping: Mapping, object_name: str) -> dict[str, FieldSpec]:
    """Fields the mapping's columns write to one object, typed by their transforms."""
    fields: dict[str, FieldSpec] = {}
    for file in mapping.files.values():
        if file.target != object_name:
            continue
        for column in file.columns:
            kind = _TYPE_OF.get(column.transform)
            name = column.target.partition(".")[0]
            if kind is None or not name or "." in column.target:
                continue
            fields.setdefault(name, FieldSpec(name=name, label=_label(name), type=kind))
    return fields


def _adapt(obj: ObjectSpec, mapping: Mapping, extra: tuple[FieldSpec, ...]) -> ObjectSpec:
    have = {field.name for field in obj.fields} | STANDARD_FIELDS.get(obj.name_singular, _COMMON)
    fields = list(obj.fields)
    for field in (*extra, _EXTRA, *_wanted_fields(mapping, obj.name_singular).values()):
        if field.name not in have:
            fields.append(field)
            have.add(field.name)
    grown = []
    for field in fields:
        if field.type in ("SELECT", "MULTI_SELECT"):
            target = f"{obj.name_singular}.{field.name}"
            field = FieldSpec(
                name=field.name,
                label=field.label,
                type=field.type,
                options=_options(mapping, target, field.options),
                is_unique=field.is_unique,
                description=field.description,
            )
        grown.append(field)
    return ObjectSpec(
        name_singular=obj.name_singular,
        name_plural=obj.name_plural,
        label_singular=obj.label_singular,
        label_plural=obj.label_plural,
        is_custom=obj.is_custom,
        icon=obj.icon,
        fields=tuple(grown),
    )


_ADDED: dict[str, tuple[FieldSpec, ...]] = {
    "person": (FieldSpec(name="providerCode", label="Primary provider code", type="TEXT"),),
    "procedure": (FieldSpec(name="category", label="CDT category", type="SELECT"),),
}


def schema_spec_from_mapping(mapping: Mapping) -> SchemaSpec:
    """The data model for this mapping: default_spec() grown by what the mapping writes."""
    objects = [
        _adapt(obj, mapping, _ADDED.get(obj.name_singular, ())) for obj in default_spec().objects
    ]
    return SchemaSpec(tuple(objects))

"""The standard objects a fresh Twenty workspace has, as metadata (reference §4).

Ids are derived with uuid5 from the names, so a database seeded twice gets the same ids.
The builders here also serve the metadata API: a custom object gets the same system fields
and the same junction relations (taskTargets, noteTargets, attachments) as a standard one.
"""

from __future__ import annotations

import uuid
from typing import Any

from adapters.twenty_sandbox.schema import FieldMeta, ObjectMeta, RelationInfo, capitalize

_NAMESPACE = uuid.UUID("6f1d7a52-3b8e-4c1a-9d0e-2a5b7c9e1f30")
# Junction objects that gain a `target<Object>` morph relation for every targetable object.
JUNCTIONS = (
    ("taskTarget", "taskTargets"),
    ("noteTarget", "noteTargets"),
    ("attachment", "attachments"),
)
_TARGETABLE = ("person", "company", "opportunity")
_DATE_FORMATS = ("SYSTEM", "MONTH_FIRST", "DAY_FIRST", "YEAR_FIRST")
_TIME_FORMATS = ("SYSTEM", "HOUR_24", "HOUR_12")
_NUMBER_FORMATS = (
    "SYSTEM",
    "COMMAS_AND_DOT",
    "SPACES_AND_COMMA",
    "DOTS_AND_COMMA",
    "APOSTROPHE_AND_DOT",
)
_FILE_CATEGORIES = (
    "ARCHIVE",
    "AUDIO",
    "IMAGE",
    "PRESENTATION",
    "SPREADSHEET",
    "TEXT_DOCUMENT",
    "VIDEO",
    "OTHER",
)


def stable_id(*parts: str) -> str:
    """A uuid5 from names: the same model seeds the same ids on every machine."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def select_options(values: tuple[str, ...]) -> list[dict[str, Any]]:
    """Options in Twenty's shape, labels derived from the values."""
    return [
        {
            "id": stable_id("option", value),
            "value": value,
            "label": value.replace("_", " ").capitalize(),
            "position": index,
            "color": "gray",
        }
        for index, value in enumerate(values)
    ]


def make_field(obj: ObjectMeta, name: str, type_: str, now: str, **extra: Any) -> FieldMeta:
    """A field of `obj` with a stable id and Twenty's defaults."""
    return FieldMeta(
        id=extra.pop("id", None) or stable_id(obj.name_singular, name),
        object_id=obj.id,
        name=name,
        label=extra.pop("label", None) or capitalize(name),
        type=type_,
        created_at=now,
        updated_at=now,
        **extra,
    )


def system_fields(obj: ObjectMeta, now: str) -> list[FieldMeta]:
    """The fields every object has: id, timestamps, actors, position."""
    return [
        make_field(obj, "id", "UUID", now, is_system=True, is_nullable=False, default_value="uuid"),
        make_field(obj, "createdAt", "DATE_TIME", now, is_nullable=False, default_value="now"),
        make_field(obj, "updatedAt", "DATE_TIME", now, is_nullable=False, default_value="now"),
        make_field(obj, "deletedAt", "DATE_TIME", now),
        make_field(obj, "createdBy", "ACTOR", now, is_nullable=False),
        make_field(obj, "updatedBy", "ACTOR", now, is_nullable=False),
        make_field(obj, "position", "POSITION", now, is_system=True, is_nullable=False),
    ]


def relation_pair(
    source: ObjectMeta,
    name: str,
    target: ObjectMeta,
    inverse: str,
    now: str,
    **options: Any,
) -> list[FieldMeta]:
    """A MANY_TO_ONE field `name` on source (join column `<name>Id`) and its inverse on target."""
    on_delete = options.get("on_delete", "SET_NULL")
    is_morph = options.get("is_morph", False)
    many = make_field(source, name, "MORPH_RELATION" if is_morph else "RELATION", now)
    one = make_field(target, inverse, "MORPH_RELATION" if is_morph else "RELATION", now)
    many.relation = RelationInfo(
        relation_type="MANY_TO_ONE",
        target_object_id=target.id,
        target_field_id=one.id,
        join_column=f"{name}Id",
        on_delete=on_delete,
    )
    one.relation = RelationInfo(
        relation_type="ONE_TO_MANY", target_object_id=source.id, target_field_id=many.id
    )
    return [many, one]


def junction_relations(
    obj: ObjectMeta, junctions: dict[str, ObjectMeta], now: str
) -> list[FieldMeta]:
    """The morph relations linking a targetable object to taskTarget, noteTarget, attachment."""
    built: list[FieldMeta] = []
    for junction_name, inverse in JUNCTIONS:
        junction = junctions[junction_name]
        field_name = f"target{capitalize(obj.name_singular)}"
        built += relation_pair(
            junction, field_name, obj, inverse, now, on_delete="CASCADE", is_morph=True
        )
    return built


def new_object(singular: str, plural: str, now: str, **extra: Any) -> ObjectMeta:
    """An object with Twenty's label conventions and a stable id."""
    return ObjectMeta(
        id=extra.pop("id", None) or stable_id("object", singular),
        name_singular=singular,
        name_plural=plural,
        label_singular=extra.pop("label_singular", None) or capitalize(singular),
        label_plural=extra.pop("label_plural", None) or capitalize(plural),
        created_at=now,
        updated_at=now,
        **extra,
    )


def build_standard_model(now: str) -> tuple[list[ObjectMeta], list[FieldMeta]]:
    """All standard objects and their fields, relations included."""
    names = [
        ("person", "people"),
        ("company", "companies"),
        ("opportunity", "opportunities"),
        ("task", "tasks"),
        ("note", "notes"),
        ("taskTarget", "taskTargets"),
        ("noteTarget", "noteTargets"),
        ("attachment", "attachments"),
        ("workspaceMember", "workspaceMembers"),
    ]
    objs = {singular: new_object(singular, plural, now) for singular, plural in names}
    fields: list[FieldMeta] = []
    for obj in objs.values():
        fields += system_fields(obj, now)
    fields += _business_fields(objs, now)
    fields += _relations(objs, now)
    for singular in _TARGETABLE:
        fields += junction_relations(objs[singular], objs, now)
    for obj in objs.values():
        label = next((f for f in fields if f.object_id == obj.id and f.name == "name"), None)
        obj.label_identifier_field_id = label.id if label else None
    return list(objs.values()), fields


def _business_fields(objs: dict[str, ObjectMeta], now: str) -> list[FieldMeta]:
    p, c, o = objs["person"], objs["company"], objs["opportunity"]
    t, n, a, w = objs["task"], objs["note"], objs["attachment"], objs["workspaceMember"]
    text = "TEXT"
    return [
        make_field(p, "name", "FULL_NAME", now),
        make_field(p, "emails", "EMAILS", now, is_unique=True, settings={"maxNumberOfValues": 1}),
        make_field(p, "phones", "PHONES", now, settings={"maxNumberOfValues": 1}),
        make_field(p, "linkedinLink", "LINKS", now, label="Linkedin"),
        make_field(p, "jobTitle", text, now, default_value="''"),
        make_field(p, "avatarUrl", text, now, default_value="''"),
        make_field(c, "name", text, now, default_value="''"),
        make_field(
            c, "domainName", "LINKS", now, is_unique=True, settings={"maxNumberOfValues": 1}
        ),
        make_field(c, "address", "ADDRESS", now),
        make_field(c, "employees", "NUMBER", now),
        make_field(c, "linkedinLink", "LINKS", now, label="Linkedin"),
        make_field(c, "xLink", "LINKS", now, label="X"),
        make_field(c, "annualRecurringRevenue", "CURRENCY", now, label="ARR"),
        make_field(
            c, "idealCustomerProfile", "BOOLEAN", now, is_nullable=False, default_value=False
        ),
        make_field(o, "name", text, now, default_value="''"),
        make_field(o, "amount", "CURRENCY", now),
        make_field(o, "closeDate", "DATE_TIME", now),
        make_field(
            o,
            "stage",
            "SELECT",
            now,
            options=select_options(("NEW", "SCREENING", "MEETING", "PROPOSAL", "CUSTOMER")),
            default_value="'NEW'",
        ),
        make_field(t, "title", text, now, default_value="''"),
        make_field(t, "bodyV2", "RICH_TEXT_V2", now, label="Body"),
        make_field(t, "dueAt", "DATE_TIME", now),
        make_field(
            t,
            "status",
            "SELECT",
            now,
            options=select_options(("TODO", "IN_PROGRESS", "DONE")),
            default_value="'TODO'",
        ),
        make_field(n, "title", text, now, default_value="''"),
        make_field(n, "bodyV2", "RICH_TEXT_V2", now, label="Body"),
        make_field(a, "name", text, now, default_value="''"),
        make_field(a, "fullPath", text, now, default_value="''"),
        make_field(
            a,
            "fileCategory",
            "SELECT",
            now,
            is_nullable=False,
            options=select_options(_FILE_CATEGORIES),
            default_value="'OTHER'",
        ),
        *_member_fields(w, now),
    ]


def _member_fields(w: ObjectMeta, now: str) -> list[FieldMeta]:
    return [
        make_field(w, "name", "FULL_NAME", now),
        make_field(w, "userEmail", "TEXT", now, default_value="''"),
        make_field(w, "userId", "UUID", now),
        make_field(w, "colorScheme", "TEXT", now, default_value="'System'"),
        make_field(w, "locale", "TEXT", now, default_value="'en'"),
        make_field(w, "avatarUrl", "TEXT", now, default_value="''"),
        make_field(w, "timeZone", "TEXT", now, default_value="'system'"),
        make_field(w, "calendarStartDay", "NUMBER", now, default_value=0),
        make_field(
            w,
            "dateFormat",
            "SELECT",
            now,
            options=select_options(_DATE_FORMATS),
            default_value="'SYSTEM'",
        ),
        make_field(
            w,
            "timeFormat",
            "SELECT",
            now,
            options=select_options(_TIME_FORMATS),
            default_value="'SYSTEM'",
        ),
        make_field(
            w,
            "numberFormat",
            "SELECT",
            now,
            options=select_options(_NUMBER_FORMATS),
            default_value="'SYSTEM'",
        ),
    ]


def _relations(objs: dict[str, ObjectMeta], now: str) -> list[FieldMeta]:
    p, c, o = objs["person"], objs["company"], objs["opportunity"]
    t, n, w = objs["task"], objs["note"], objs["workspaceMember"]
    tt, nt = objs["taskTarget"], objs["noteTarget"]
    return [
        *relation_pair(p, "company", c, "people", now),
        *relation_pair(c, "accountOwner", w, "accountOwnerForCompanies", now),
        *relation_pair(o, "company", c, "opportunities", now),
        *relation_pair(o, "pointOfContact", p, "pointOfContactForOpportunities", now),
        *relation_pair(o, "owner", w, "ownedOpportunities", now),
        *relation_pair(t, "assignee", w, "assignedTasks", now),
        *relation_pair(tt, "task", t, "taskTargets", now, on_delete="CASCADE"),
        *relation_pair(nt, "note", n, "noteTargets", now, on_delete="CASCADE"),
        *relation_pair(objs["attachment"], "task", t, "attachments", now, on_delete="CASCADE"),
        *relation_pair(objs["attachment"], "note", n, "attachments", now, on_delete="CASCADE"),
    ]

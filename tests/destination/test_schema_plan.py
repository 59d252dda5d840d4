"""Schema planning and the admin checklist: pure functions over metadata snapshots."""

from __future__ import annotations

import pytest

from core.ports.destination import FieldInfo, ObjectInfo
from core.schema import SchemaConflictError, plan
from core.schema_checklist import checklist
from core.schema_spec import FieldSpec, ObjectSpec, SchemaSpec, default_spec, validate_spec


def _standard_workspace(*extra_person_fields: FieldInfo) -> list[ObjectInfo]:
    def obj(singular: str, plural: str, *fields: FieldInfo) -> ObjectInfo:
        base = (FieldInfo(id=f"{singular}-id", name="id", type="UUID"),)
        return ObjectInfo(
            id=f"obj-{singular}", name_singular=singular, name_plural=plural,
            fields=base + fields,
        )  # fmt: skip

    return [
        obj("person", "people", *extra_person_fields),
        obj("company", "companies"),
        obj("task", "tasks"),
        obj("note", "notes"),
    ]


def test_default_spec_follows_twenty_naming_rules() -> None:
    spec = default_spec()
    assert validate_spec(spec) == []
    custom = {o.name_singular for o in spec.objects if o.is_custom}
    assert custom == {"treatment", "procedure", "insurance", "claim", "payment", "communication"}
    assert all(o.fields[0].name == "dentalExecId" and o.fields[0].is_unique for o in spec.objects)


def test_plan_on_a_fresh_workspace_creates_objects_then_fields_then_relations() -> None:
    result = plan(default_spec(), _standard_workspace())
    kinds = [(c.kind, c.is_relation) for c in result.changes]
    assert kinds == sorted(
        kinds, key=lambda k: ({"create_object": 0, "create_field": 1}[k[0]], k[1])
    )
    assert sum(c.kind == "create_object" for c in result.changes) == 6
    assert not result.conflicts and not result.is_complete


def test_a_field_of_another_type_is_a_conflict() -> None:
    taken = FieldInfo(id="f1", name="dentalExecId", type="NUMBER")
    result = plan(default_spec(), _standard_workspace(taken))
    assert [c.describe() for c in result.conflicts] == [
        "person.dentalExecId: Ferry needs TEXT, the workspace has NUMBER"
    ]


def test_missing_select_options_are_added_not_recreated() -> None:
    gender = FieldInfo(id="f2", name="gender", type="SELECT", options=("MALE", "FEMALE"))
    result = plan(default_spec(), _standard_workspace(gender))
    change = next(c for c in result.changes if c.field_name == "gender")
    assert (change.kind, change.detail) == ("add_options", "UNKNOWN OTHER")


def test_an_invalid_spec_is_refused() -> None:
    bad = SchemaSpec((ObjectSpec(
        name_singular="event", name_plural="events", label_singular="Event",
        label_plural="Events",
        fields=(FieldSpec(name="Kind", label="Kind", type="SELECT"),),
    ),))  # fmt: skip
    with pytest.raises(SchemaConflictError, match="naming rules"):
        plan(bad, [])


def test_checklist_names_api_names_and_ticks_what_exists() -> None:
    spec = default_spec()
    text = checklist(spec, plan(spec, _standard_workspace()))
    assert "API names `treatment` / `treatments`" in text
    assert "- [ ] **Dental-Exec ID** — type Text, API name `dentalExecId`, *unique*" in text
    assert "options (API value and label, in this order): `MALE` (Male)" in text
    assert "relates to **person**" in text and "[x]" not in text
    blank = checklist(spec)
    assert blank.count("- [ ]") == text.count("- [ ]")

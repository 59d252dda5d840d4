"""The Markdown checklist an admin follows in Settings → Data Model to build the model by hand."""

from __future__ import annotations

from core.schema import SchemaPlan
from core.schema_spec import FieldSpec, ObjectSpec, SchemaSpec

__all__ = ["checklist"]

_TYPE_LABELS = {
    "TEXT": "Text",
    "NUMBER": "Number",
    "BOOLEAN": "True/False",
    "DATE": "Date",
    "DATE_TIME": "Date and Time",
    "SELECT": "Select",
    "MULTI_SELECT": "Multi-select",
    "CURRENCY": "Currency",
    "ADDRESS": "Address",
    "RICH_TEXT_V2": "Rich Text",
    "RELATION": "Relation",
}


def _pending(plan: SchemaPlan | None) -> set[tuple[str, str]]:
    if plan is None:
        return set()
    return {(c.object_name, c.field_name) for c in plan.changes}


def _box(is_done: bool) -> str:
    return "[x]" if is_done else "[ ]"


def _field_line(obj: ObjectSpec, field: FieldSpec, is_done: bool) -> str:
    kind = _TYPE_LABELS[field.type]
    line = f"- {_box(is_done)} **{field.label}** — type {kind}, API name `{field.name}`"
    if field.is_unique:
        line += ", *unique* (Advanced → Unique)"
    if field.type == "RELATION":
        line += (
            f"; relates to **{field.relation_to}**, many {obj.label_plural} to one; "
            f"field on the other side labelled *{field.inverse_label}*"
        )
    if field.options:
        values = ", ".join(f"`{o.value}` ({o.label})" for o in field.options)
        line += f"; options (API value and label, in this order): {values}"
    return line


def checklist(spec: SchemaSpec, plan: SchemaPlan | None = None) -> str:
    """Markdown steps for every object and field; items the plan finds in place are ticked."""
    pending = _pending(plan)
    lines = [
        "# Twenty data model for the Dental-Exec migration",
        "",
        "Work in Settings → Data Model. Create the objects first, then their fields, then the",
        "relations. API names must match exactly (Advanced settings → API name); labels may be",
        "translated. Tick each box as you go, then run `ferry schema plan` to confirm.",
        "",
    ]
    for obj in spec.objects:
        new = obj.is_custom and (plan is None or (obj.name_singular, "") in pending)
        heading = "New object" if obj.is_custom else "Existing object"
        lines.append(f"## {heading}: {obj.label_plural} (`{obj.name_singular}`)")
        lines.append("")
        if obj.is_custom:
            lines.append(
                f"- {_box(not new)} Create object: singular *{obj.label_singular}*, plural "
                f"*{obj.label_plural}*, API names `{obj.name_singular}` / `{obj.name_plural}`"
            )
        for field in obj.fields:
            is_done = plan is not None and (obj.name_singular, field.name) not in pending
            lines.append(_field_line(obj, field, is_done))
        lines.append("")
    if plan is not None and plan.conflicts:
        lines.append("## Conflicts to resolve first")
        lines.append("")
        lines.extend(f"- [ ] {c.describe()}" for c in plan.conflicts)
        lines.append("")
    return "\n".join(lines)

"""Columns of Twenty's import screen: headers as it labels them, cells as it reads them.

The import screen (twenty-front `spreadsheet-import`) matches a column by its header against
the label of each importable field. A composite field offers one column per importable
sub-field, labelled `<field label> / <sub-field label>` (`Emails / Primary Email`); a
many-to-one relation offers one column per unique field of the target object, labelled
`<relation label> / <unique field label>`, and every object's `id` is unique, so a parent is
set by its id in `<relation label> / Id`. Rich text is not importable there. Select values
are the API values, multi-selects and lists a JSON array, booleans `TRUE`/`FALSE`, currency
amounts in units (the importer turns them into micros).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec

from core.schema_spec import SchemaSpec

__all__ = ["Column", "columns_for", "render"]

Cell = Callable[[Any], str]

# Labels of the standard fields Ferry writes (Twenty's standard model).
_STANDARD: dict[str, dict[str, tuple[str, str]]] = {
    "person": {
        "name": ("Name", "FULL_NAME"),
        "emails": ("Emails", "EMAILS"),
        "phones": ("Phones", "PHONES"),
        "jobTitle": ("Job Title", "TEXT"),
        "city": ("City", "TEXT"),
        "linkedinLink": ("Linkedin", "LINKS"),
        "companyId": ("Company", "RELATION"),
    },
    "company": {
        "name": ("Name", "TEXT"),
        "domainName": ("Domain", "LINKS"),
        "address": ("Address", "ADDRESS"),
        "employees": ("Employees", "NUMBER"),
        "accountOwnerId": ("Account Owner", "RELATION"),
    },
    "task": {
        "title": ("Title", "TEXT"),
        "bodyV2": ("Body", "RICH_TEXT_V2"),
        "dueAt": ("Due Date", "DATE_TIME"),
        "status": ("Status", "SELECT"),
        "assigneeId": ("Assignee", "RELATION"),
    },
    "note": {"title": ("Title", "TEXT"), "bodyV2": ("Body", "RICH_TEXT_V2")},
}
_COMMON = {"name": ("Name", "TEXT"), "createdAt": ("Creation date", "DATE_TIME")}

# Importable sub-fields in the import screen's order, with their labels.
_SUB_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "FULL_NAME": (("firstName", "First Name"), ("lastName", "Last Name")),
    "EMAILS": (("primaryEmail", "Primary Email"), ("additionalEmails", "Additional Emails")),
    "PHONES": (
        ("primaryPhoneCallingCode", "Primary Phone Calling Code"),
        ("primaryPhoneCountryCode", "Primary Phone Country Code"),
        ("primaryPhoneNumber", "Primary Phone Number"),
        ("additionalPhones", "Additional Phones"),
    ),
    "ADDRESS": (
        ("addressStreet1", "Address 1"),
        ("addressStreet2", "Address 2"),
        ("addressCity", "City"),
        ("addressState", "State"),
        ("addressCountry", "Country"),
        ("addressPostcode", "Post Code"),
    ),
    "LINKS": (
        ("primaryLinkUrl", "Link URL"),
        ("primaryLinkLabel", "Link Label"),
        ("secondaryLinks", "Secondary Links"),
    ),
    "CURRENCY": (("amountMicros", "Amount"), ("currencyCode", "Currency")),
}
_NOT_IMPORTABLE = {"RICH_TEXT_V2", "RICH_TEXT", "ACTOR"}


class Column(msgspec.Struct, frozen=True):
    """One CSV column: its header, the payload field it reads and how it renders a value."""

    header: str
    field: str
    sub_field: str
    kind: str


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _amount(micros: Any) -> str:
    if micros is None or micros == "":
        return ""
    cents = round(int(micros) / 10_000)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def render(column: Column, value: Any) -> str:
    """The text of one cell (not yet defused) for the payload value of its field."""
    if column.sub_field:
        if not isinstance(value, dict):
            return ""
        value = value.get(column.sub_field)
        if column.kind == "CURRENCY" and column.sub_field == "amountMicros":
            return _amount(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, list | dict):
        return "" if not value else json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return _number(value)
    return str(value)


def _field_facts(spec: SchemaSpec, object_name: str, field: str) -> tuple[str, str]:
    """(label, type) of one payload key of an object; `xId` keys are relations."""
    obj = spec.object(object_name)
    if obj is not None:
        for candidate in obj.fields:
            if candidate.name == field:
                return candidate.label, candidate.type
            if candidate.type == "RELATION" and f"{candidate.name}Id" == field:
                return candidate.label, "RELATION"
    standard = _STANDARD.get(object_name, {}).get(field) or _COMMON.get(field)
    if standard is not None:
        return standard
    words = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in field).strip()
    if field.endswith("Id") and len(field) > 2:
        return words[:-3].capitalize(), "RELATION"
    return words.capitalize(), "TEXT"


def columns_for(
    spec: SchemaSpec, object_name: str, fields: set[str]
) -> tuple[list[Column], list[str]]:
    """The import columns of an object's payload fields (Id first, then by field name, as the
    import screen lists them), and the fields it cannot import."""
    columns = [Column("Id", "id", "", "UUID")]
    skipped: list[str] = []
    for field in sorted(fields - {"id"}):
        label, kind = _field_facts(spec, object_name, field)
        if kind in _NOT_IMPORTABLE:
            skipped.append(f"{field} ({label})")
        elif kind == "RELATION":
            columns.append(Column(f"{label} / Id", field, "", kind))
        elif kind in _SUB_FIELDS:
            columns += [
                Column(f"{label} / {sub_label}", field, sub, kind)
                for sub, sub_label in _SUB_FIELDS[kind]
            ]
        else:
            columns.append(Column(label, field, "", kind))
    return columns, skipped

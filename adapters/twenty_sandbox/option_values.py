"""What a SELECT / MULTI_SELECT options update does to stored values, as Twenty does it.

Twenty's field update (`update-field-action-handler.service.ts`, `handleFieldOptionsUpdate`,
then `workspace-schema-enum-manager.service.ts`, `alterEnumValues`) pairs the old and new
options by **id** only: it builds a map old value -> new value from the options whose id is
in both lists, creates a fresh enum column (holding the field's default, or null) and copies
across only the rows whose value is in that map. So an option resent without its id is a new
option, and a stored value whose option id is not resent is lost (default or null), even when
an option with the same value is sent back. A MULTI_SELECT row none of whose values is mapped
gets the default too; one with a mapped value has each value renamed through the map, and a
value that is neither mapped nor among the new values makes Postgres refuse the cast, failing
the whole update (here: a 400, nothing changed; Twenty's status for it is UNCONFIRMED).
"""

from __future__ import annotations

from typing import Any

from adapters.twenty_sandbox.problems import bad_request
from adapters.twenty_sandbox.schema import FieldMeta
from adapters.twenty_sandbox.storage import Storage


def value_mapping(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, str]:
    """Old value -> new value for the options whose id is in both lists."""
    old_by_id = {option["id"]: option for option in old}
    return {
        old_by_id[option["id"]]["value"]: option["value"]
        for option in new
        if option["id"] in old_by_id
    }


def migrate_values(
    storage: Storage, field: FieldMeta, new_options: list[dict[str, Any]], default: Any
) -> None:
    """Rewrite every stored value of `field` after its options became `new_options`."""
    mapping = value_mapping(field.options or [], new_options)
    fallback = _unquote(default)
    new_values = {option["value"] for option in new_options}
    changed = []
    for record in storage.select(field.object_id, "1", [], "id", None):
        value = record.get(field.name)
        if field.type == "MULTI_SELECT":
            migrated = _migrate_list(value, mapping, fallback, new_values)
        else:
            migrated = fallback if value is None else mapping.get(value, fallback)
        if migrated != value:
            changed.append({**record, field.name: migrated})
    if changed:
        storage.put_many(field.object_id, changed)


def _migrate_list(
    value: list[str] | None, mapping: dict[str, str], fallback: Any, new_values: set[str]
) -> Any:
    if not value or not any(item in mapping for item in value):
        return fallback
    renamed = [mapping.get(item, item) for item in value]
    if any(item not in new_values for item in renamed):
        raise bad_request("Cannot alter the options: stored values would not fit the new options")
    return renamed


def _unquote(default: Any) -> Any:
    """A stored default (`"'A'"` or a list of them) as the values a record holds."""
    if default is None:
        return None
    if isinstance(default, list):
        return [_unquote(item) for item in default]
    text = str(default)
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == "'" else text

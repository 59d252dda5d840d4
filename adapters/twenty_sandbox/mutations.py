"""Updates, deletes (destroy or soft) and restores, one record or many by filter (reference §9).

Bulk operations follow Twenty's mutation query builders (docs/destination.md, "Bulk writes"):
unlike reads they reach soft-deleted rows whatever the filter says; update- and destroy-many
refuse to touch more than the cap (Twenty: QUERY_MAX_RECORDS, 200) and write nothing then;
soft delete- and restore-many have no cap.
"""

from __future__ import annotations

from typing import Any

from adapters.twenty_sandbox.problems import bad_request, not_found
from adapters.twenty_sandbox.records import Records, require_filter, within_cap
from adapters.twenty_sandbox.schema import ObjectMeta
from adapters.twenty_sandbox.writes import WriteContext, prepare, unique_values


def update_one(records: Records, obj: ObjectMeta, record_id: str, body: Any) -> dict[str, Any]:
    """Apply a partial update to one live record.

    Raises:
        ApiProblem: 404 when absent; 400 for invalid values or duplicates.
    """
    ctx = records.context(obj)
    with records.storage.transaction():
        current = records.storage.get(obj.id, record_id, with_deleted=False)
        if current is None:
            raise not_found()
        return _apply(records, ctx, [current], body)[0]


def update_many(
    records: Records, obj: ObjectMeta, filter_text: str | None, body: Any, *, cap: int
) -> list[dict[str, Any]]:
    """Apply the same partial update to every record the filter selects (soft-deleted too).

    Raises:
        ApiProblem: 400 without a filter, above the cap, for invalid values or duplicates.
    """
    text = require_filter(filter_text, "update")
    ctx = records.context(obj)
    with records.storage.transaction():
        targets = within_cap(records.matching(obj, text), cap, "update")
        return _apply(records, ctx, targets, body)


def _apply(
    records: Records, ctx: WriteContext, targets: list[dict[str, Any]], body: Any
) -> list[dict[str, Any]]:
    claimed: dict[tuple[str, str], str] = {}
    updated = []
    for current in targets:
        changes = prepare(ctx, body, current)
        if changes.get("id", current["id"]) != current["id"]:
            raise bad_request("The id of a record cannot be changed")
        record = {**current, **changes, "updatedAt": ctx.now}
        if "updatedBy" not in changes:
            record["updatedBy"] = dict(ctx.actor)
        records.claim(ctx, record, claimed)
        updated.append(record)
    records.storage.put_many(ctx.obj.id, updated)
    for record in updated:
        values = unique_values(ctx.schema, ctx.obj, record)
        records.storage.set_uniques(ctx.obj.id, record["id"], values)
    return updated


def delete_one(records: Records, obj: ObjectMeta, record_id: str, *, soft: bool) -> dict[str, Any]:
    """Destroy a record (answering `{id}`) or, with soft, stamp `deletedAt` (answering it whole).

    Raises:
        ApiProblem: 404 when absent (a soft delete also when already soft-deleted).
    """
    ctx = records.context(obj)
    with records.storage.transaction():
        current = records.storage.get(obj.id, record_id, with_deleted=not soft)
        if current is None:
            raise not_found()
        return _delete(records, ctx, current, soft=soft)


def delete_many(
    records: Records, obj: ObjectMeta, filter_text: str | None, *, soft: bool, cap: int
) -> list[dict[str, Any]]:
    """Delete every record the filter selects, soft-deleted ones too; answer their `{id}`.

    A soft delete stamps `deletedAt` again on rows already soft-deleted, as Twenty's does.

    Raises:
        ApiProblem: 400 without a filter; a destroy above the cap.
    """
    text = require_filter(filter_text, "delete" if soft else "destroy")
    ctx = records.context(obj)
    with records.storage.transaction():
        targets = records.matching(obj, text)
        if not soft:
            within_cap(targets, cap, "destroy")
        return [{"id": _delete(records, ctx, current, soft=soft)["id"]} for current in targets]


def _delete(
    records: Records, ctx: WriteContext, current: dict[str, Any], *, soft: bool
) -> dict[str, Any]:
    if soft:
        record = {**current, "deletedAt": ctx.now, "updatedAt": ctx.now}
        records.storage.put(ctx.obj.id, record)
        return record
    _destroy(records, ctx.obj, current["id"])
    return {"id": current["id"]}


def _destroy(records: Records, obj: ObjectMeta, record_id: str) -> None:
    """Remove a record, then apply each relation's onDelete (CASCADE or SET_NULL)."""
    storage = records.storage
    storage.remove(obj.id, record_id)
    schema = records.schema()
    for field in schema.fields.values():
        relation = field.relation
        if relation is None or relation.target_object_id != obj.id or not relation.join_column:
            continue
        source = schema.objects[field.object_id]
        for row in storage.referencing(source.id, relation.join_column, record_id):
            if relation.on_delete == "CASCADE":
                _destroy(records, source, row["id"])
            else:
                storage.put(source.id, {**row, relation.join_column: None})


def restore_one(records: Records, obj: ObjectMeta, record_id: str) -> dict[str, Any]:
    """Clear `deletedAt` of one record.

    Raises:
        ApiProblem: 404 when the record does not exist at all.
    """
    ctx = records.context(obj)
    with records.storage.transaction():
        current = records.storage.get(obj.id, record_id, with_deleted=True)
        if current is None:
            raise not_found()
        return _restore(records, ctx, current)


def restore_many(
    records: Records, obj: ObjectMeta, filter_text: str | None
) -> list[dict[str, Any]]:
    """Clear `deletedAt` of every record the filter selects, soft-deleted ones included.

    Raises:
        ApiProblem: 400 without a filter.
    """
    text = require_filter(filter_text, "restore")
    ctx = records.context(obj)
    with records.storage.transaction():
        targets = records.matching(obj, text)
        return [_restore(records, ctx, current) for current in targets]


def _restore(records: Records, ctx: WriteContext, current: dict[str, Any]) -> dict[str, Any]:
    record = {**current, "deletedAt": None, "updatedAt": ctx.now}
    records.storage.put(ctx.obj.id, record)
    return record

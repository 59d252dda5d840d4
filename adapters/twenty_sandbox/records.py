"""Record operations with Twenty's semantics: create/upsert, find, update, delete, restore.

Each method runs in one SQLite transaction, so a rejected batch writes nothing, as a single
INSERT statement in Twenty's Postgres would (reference §2, §9).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from adapters.twenty_sandbox.filters import compile_filter
from adapters.twenty_sandbox.paging import (
    SortKey,
    decode_cursor,
    encode_cursor,
    keyset_after,
    parse_order_by,
)
from adapters.twenty_sandbox.problems import bad_request, not_found
from adapters.twenty_sandbox.schema import ObjectMeta, Schema
from adapters.twenty_sandbox.storage import Storage
from adapters.twenty_sandbox.values import format_instant
from adapters.twenty_sandbox.writes import (
    WriteContext,
    build_new,
    duplicate_error,
    prepare,
    record_template,
    unique_values,
)
from core.clock import Clock


@dataclass(frozen=True)
class ListQuery:
    """The query parameters of a list request, already parsed."""

    filter: str | None = None
    order_by: str | None = None
    limit: int = 60
    starting_after: str | None = None
    ending_before: str | None = None


@dataclass
class Page:
    """One page of a list: records, the total matching the filter, and pageInfo."""

    records: list[dict[str, Any]]
    total: int
    page_info: dict[str, Any] = field(default_factory=dict)


class Records:
    """The data API's behaviour over Storage; the routes only parse and wrap."""

    def __init__(
        self, storage: Storage, schema: Callable[[], Schema], actor_name: str, clock: Clock
    ) -> None:
        self.storage = storage
        self._schema = schema
        self._actor: dict[str, Any] = {
            "source": "API",
            "workspaceMemberId": None,
            "name": actor_name,
            "context": {},
        }
        self._clock = clock
        self._last_now = ""
        self._positions: dict[str, float] = {}
        self._templates: dict[str, tuple[Schema, bytes]] = {}

    def schema(self) -> Schema:
        """The current metadata snapshot."""
        return self._schema()

    def context(self, obj: ObjectMeta) -> WriteContext:
        """A write context stamped with a time later than any earlier write's."""
        now = format_instant(self._clock.now())
        if now <= self._last_now:  # updatedAt must move on every write, even within 1 ms
            later = datetime.fromisoformat(self._last_now) + timedelta(milliseconds=1)
            now = format_instant(later)
        self._last_now = now
        return WriteContext(self._schema(), self.storage, obj, dict(self._actor), now)

    def _next_position(self, obj: ObjectMeta) -> float:
        if obj.id not in self._positions:
            row = self.storage.connection.execute(
                "SELECT MAX(json_extract(data, '$.position')) FROM records WHERE object_id=?",
                (obj.id,),
            ).fetchone()
            self._positions[obj.id] = float(row[0] or 0)
        self._positions[obj.id] += 1
        return self._positions[obj.id]

    # --- create / upsert --------------------------------------------------------------------

    def create(self, obj: ObjectMeta, bodies: list[Any], *, upsert: bool) -> list[dict[str, Any]]:
        """Create records (or, with upsert, update those matching id or a unique value).

        Raises:
            ApiProblem: 400 for invalid bodies, duplicates, or an upsert matching two records.
        """
        ctx = self.context(obj)
        with self.storage.transaction():
            prepared = [prepare(ctx, body, None) for body in bodies]
            matches = [self._match(ctx, changes) if upsert else None for changes in prepared]
            claimed: dict[tuple[str, str], str] = {}
            results = []
            for body, changes, match in zip(bodies, prepared, matches, strict=True):
                if match is None:
                    record = self._insertable(ctx, changes)
                else:
                    record = self._upserted(ctx, match, body)
                self.claim(ctx, record, claimed)
                results.append(record)
            self.storage.put_many(obj.id, results)
            self.storage.add_uniques(obj.id, [r["id"] for r in results], claimed)
        # Twenty re-reads a batch with `WHERE id IN (...)`: the answer's order is not the
        # input's, so the sandbox answers sorted by id and nothing may rely on input order.
        return sorted(results, key=lambda record: str(record["id"]))

    def _template(self, ctx: WriteContext) -> bytes:
        cached = self._templates.get(ctx.obj.id)
        if cached is None or cached[0] is not ctx.schema:
            cached = self._templates[ctx.obj.id] = (
                ctx.schema,
                record_template(ctx.schema, ctx.obj),
            )
        return cached[1]

    def _insertable(self, ctx: WriteContext, changes: dict[str, Any]) -> dict[str, Any]:
        record = build_new(ctx, changes, self._next_position(ctx.obj), self._template(ctx))
        if "id" in changes and self.storage.get(ctx.obj.id, record["id"], with_deleted=True):
            raise duplicate_error()
        return record

    def _match(self, ctx: WriteContext, changes: dict[str, Any]) -> dict[str, Any] | None:
        """The one existing record (soft-deleted included) an upsert payload designates."""
        owners: set[str] = set()
        if "id" in changes and self.storage.get(ctx.obj.id, changes["id"], with_deleted=True):
            owners.add(changes["id"])
        for key, value in unique_values(ctx.schema, ctx.obj, changes).items():
            owner = self.storage.unique_owner(ctx.obj.id, key, value)
            if owner:
                owners.add(owner)
        if len(owners) > 1:
            raise bad_request(
                "Multiple records found with the same unique field values",
                code="UPSERT_MULTIPLE_MATCHING_RECORDS_CONFLICT",
            )
        if not owners:
            return None
        return self.storage.get(ctx.obj.id, owners.pop(), with_deleted=True)

    def _upserted(self, ctx: WriteContext, current: dict[str, Any], body: Any) -> dict[str, Any]:
        changes = prepare(ctx, body, current)
        changes.pop("createdBy", None)  # an upsert never overwrites createdBy
        changes.pop("id", None)
        return {
            **current,
            **changes,
            "deletedAt": None,
            "updatedAt": ctx.now,
            "updatedBy": dict(ctx.actor),
        }

    def claim(
        self, ctx: WriteContext, record: dict[str, Any], claimed: dict[tuple[str, str], str]
    ) -> None:
        """Check a record's unique values against stored ones and the batch so far.

        Raises:
            ApiProblem: 400 duplicate entry.
        """
        for key, value in unique_values(ctx.schema, ctx.obj, record).items():
            owner = claimed.get((key, value)) or self.storage.unique_owner(ctx.obj.id, key, value)
            if owner is not None and owner != record["id"]:
                raise duplicate_error()
            claimed[(key, value)] = record["id"]

    # --- read -------------------------------------------------------------------------------

    def find_one(self, obj: ObjectMeta, record_id: str, depth: int) -> dict[str, Any]:
        """One live record.

        Raises:
            ApiProblem: 404 when absent or soft-deleted.
        """
        record = self.storage.get(obj.id, record_id, with_deleted=False)
        if record is None:
            raise not_found()
        return self.embed(obj, [record], depth)[0]

    def find_many(self, obj: ObjectMeta, query: ListQuery, depth: int) -> Page:
        """A page of records matching the filter, in order, with cursors.

        Raises:
            ApiProblem: 400 for bad filters, orderings or cursors.
        """
        if query.starting_after and query.ending_before:
            raise bad_request("starting_after and ending_before cannot be used together")
        schema = self._schema()
        where, params = self._where(schema, obj, query.filter)
        total = self.storage.count(obj.id, where, params)
        keys = parse_order_by(schema, obj, query.order_by)
        backwards = query.ending_before is not None
        cursor = query.ending_before or query.starting_after
        walk = [key.flipped() for key in keys] if backwards else keys
        if cursor is not None:
            extra, extra_params = keyset_after(walk, decode_cursor(cursor, keys))
            where, params = f"({where}) AND {extra}", [*params, *extra_params]
        order = ", ".join(key.order_sql() for key in walk)
        rows = self.storage.select(obj.id, where, params, order, query.limit + 1)
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        if backwards:
            rows.reverse()
        page = Page(self.embed(obj, rows, depth), total)
        page.page_info = _page_info(rows, keys, has_more, backwards, cursor is not None)
        return page

    def _where(self, schema: Schema, obj: ObjectMeta, text: str | None) -> tuple[str, list[Any]]:
        if not text:
            return "deleted_at IS NULL", []
        condition = compile_filter(schema, obj, text)
        if condition.mentions_deleted_at:
            return condition.sql, condition.params
        return f"({condition.sql}) AND deleted_at IS NULL", condition.params

    def matching(self, obj: ObjectMeta, text: str) -> list[dict[str, Any]]:
        """Every record a bulk mutation's filter selects, soft-deleted ones included.

        Twenty's mutations (update, soft delete, destroy, restore) run as TypeORM
        UPDATE/DELETE builders, which add no `deletedAt IS NULL`: only reads hide deleted rows.
        """
        condition = compile_filter(self._schema(), obj, text)
        return self.storage.select(obj.id, condition.sql, condition.params, "id", None)

    def embed(
        self, obj: ObjectMeta, records: list[dict[str, Any]], depth: int
    ) -> list[dict[str, Any]]:
        """At depth 1, add each relation's record (many-to-one) or list (one-to-many)."""
        if depth == 0 or not records:
            return records
        schema = self._schema()
        ids = [r["id"] for r in records]
        for rel_field in schema.fields_of(obj.id):
            relation = rel_field.relation
            if relation is None:
                continue
            if relation.relation_type == "MANY_TO_ONE" and relation.join_column:
                wanted = list(
                    {r[relation.join_column] for r in records if r.get(relation.join_column)}
                )
                found = self.storage.get_many(relation.target_object_id, wanted)
                for r in records:
                    target = found.get(r.get(relation.join_column) or "")
                    r[rel_field.name] = target if target and not target.get("deletedAt") else None
            elif relation.target_field_id in schema.fields:
                inverse = schema.fields[relation.target_field_id]
                join = inverse.relation.join_column if inverse.relation else None
                if not join:
                    continue
                marks = ",".join("?" * len(ids))
                rows = self.storage.select(
                    relation.target_object_id,
                    f"json_extract(data, '$.{join}') IN ({marks}) AND deleted_at IS NULL",
                    ids,
                    "id",
                    None,
                )
                for r in records:
                    r[rel_field.name] = [row for row in rows if row.get(join) == r["id"]]
        return records


def _page_info(
    rows: list[dict[str, Any]],
    keys: list[SortKey],
    has_more: bool,
    backwards: bool,
    after_cursor: bool,
) -> dict[str, Any]:
    return {
        # As Twenty's build-cursor-page: the direction walked reports more records, and a
        # forward page reached through a cursor has records before it.
        "hasNextPage": has_more and not backwards,
        "hasPreviousPage": (has_more and backwards) or (after_cursor and not backwards),
        "startCursor": encode_cursor(rows[0], keys) if rows else None,
        "endCursor": encode_cursor(rows[-1], keys) if rows else None,
    }


def require_filter(text: str | None, operation: str) -> str:
    """Bulk update, delete, destroy and restore need a filter.

    DELETE is refused by Twenty's REST handlers; update- and restore-many by the query
    runner (`isRecordFilterEmpty`), with another message.

    Raises:
        ApiProblem: 400 when it is missing or empty.
    """
    if text and text.strip():
        return text
    if operation in ("delete", "destroy"):
        raise bad_request(
            f"Filters are mandatory for bulk {operation} operations. Please provide at least "
            "one filter to prevent accidental deletion of all records."
        )
    raise bad_request("A non-empty filter is required for a bulk mutation")


def within_cap(targets: list[dict[str, Any]], cap: int, operation: str) -> list[dict[str, Any]]:
    """The targets of an update- or destroy-many, refused whole when there are too many.

    Raises:
        ApiProblem: 400 `Cannot <operation> more than <cap> records at once`.
    """
    if len(targets) > cap:
        raise bad_request(f"Cannot {operation} more than {cap} records at once")
    return targets

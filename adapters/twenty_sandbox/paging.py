"""`order_by`, `limit`, `depth` and the opaque keyset cursors of list requests (reference §2.4)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from adapters.twenty_sandbox.filters import resolve_path, split_top_level
from adapters.twenty_sandbox.problems import ApiProblem, bad_request
from adapters.twenty_sandbox.schema import COMPOSITES, ObjectMeta, Schema

DEFAULT_LIMIT = 60
MAX_LIMIT = 200
DIRECTIONS = ("AscNullsFirst", "AscNullsLast", "DescNullsFirst", "DescNullsLast")


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY term: the path (as the cursor names it), its SQL, direction, nulls."""

    path: str
    sql: str
    ascending: bool
    nulls_first: bool

    def flipped(self) -> SortKey:
        """The same key walked backwards (for `ending_before`)."""
        return SortKey(self.path, self.sql, not self.ascending, not self.nulls_first)

    def order_sql(self) -> str:
        """This key as an ORDER BY term."""
        direction = "ASC" if self.ascending else "DESC"
        nulls = "NULLS FIRST" if self.nulls_first else "NULLS LAST"
        return f"{self.sql} {direction} {nulls}"


def parse_limit(raw: str | None) -> int:
    """`limit`: default 60, silently clamped to 200.

    Raises:
        ApiProblem: 400 when not a non-negative integer.
    """
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.strip().isdecimal():
        raise bad_request(f"limit '{raw}' is invalid. Should be an integer")
    return min(int(raw), MAX_LIMIT)


def parse_depth(raw: str | None) -> int:
    """`depth`: 0 (default) or 1.

    Raises:
        ApiProblem: 400 for any other value.
    """
    if raw is None:
        return 0
    if raw not in ("0", "1"):
        raise bad_request(f"'depth={raw}' parameter invalid. Allowed values are 0, 1")
    return int(raw)


def parse_order_by(schema: Schema, obj: ObjectMeta, raw: str | None) -> list[SortKey]:
    """`order_by=a,b[DescNullsLast],c.sub[AscNullsLast]` plus the implicit `id` tiebreak.

    Raises:
        ApiProblem: 400 for an unknown direction or field.
    """
    keys: list[SortKey] = []
    for item in split_top_level(raw or ""):
        path, _, rest = item.partition("[")
        direction = rest.removesuffix("]") if rest else "AscNullsFirst"
        if direction not in DIRECTIONS:
            raise bad_request(
                f"'order_by' direction '{direction}' invalid. Allowed values are "
                f"'{', '.join(DIRECTIONS)}'. eg: ?order_by=field_1[AscNullsFirst],field_2"
            )
        ascending, nulls_first = direction.startswith("Asc"), direction.endswith("First")
        for sub_path in _expand(schema, obj, path.strip()):
            resolved = resolve_path(schema, obj, sub_path, param="order_by")
            keys.append(SortKey(sub_path, resolved.sql, ascending, nulls_first))
    if not any(key.path == "id" for key in keys):
        keys.append(SortKey("id", "id", True, True))
    return keys


def _expand(schema: Schema, obj: ObjectMeta, path: str) -> list[str]:
    """A bare composite field cannot be ordered by (Twenty's find-many suite: 400)."""
    field = schema.field_named(obj.id, path)
    if field is not None and field.type in COMPOSITES and field.relation is None:
        first = next(iter(COMPOSITES[field.type]))
        raise bad_request(
            f"'order_by' field '{path}' is a composite field; order by one of its sub-fields "
            f"instead, eg: ?order_by={path}.{first}[AscNullsFirst]"
        )
    return [path]


def path_value(record: dict[str, Any], path: str) -> Any:
    """A record's value at a dotted path (None when absent)."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def encode_cursor(record: dict[str, Any], keys: list[SortKey]) -> str:
    """An opaque cursor: base64 of the record's sort values and id."""
    payload = {key.path: path_value(record, key.path) for key in keys}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def decode_cursor(cursor: str, keys: list[SortKey]) -> list[Any]:
    """The sort values a cursor carries, in key order.

    Raises:
        ApiProblem: 400 `Invalid cursor` when it was not made by this server for this order.
    """
    invalid = ApiProblem(400, f"Invalid cursor: {cursor}", error="BadRequestException")
    try:
        payload = json.loads(base64.b64decode(cursor.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(payload, dict) or any(key.path not in payload for key in keys):
        raise invalid
    return [_bindable(payload[key.path]) for key in keys]


def _bindable(value: Any) -> Any:
    return value if not isinstance(value, dict | list) else json.dumps(value)


def keyset_after(keys: list[SortKey], values: list[Any]) -> tuple[str, list[Any]]:
    """SQL selecting the rows strictly after a position in the given order."""
    clauses: list[str] = []
    params: list[Any] = []
    for index, key in enumerate(keys):
        parts = [f"{keys[j].sql} IS ?" for j in range(index)]
        part_params = list(values[:index])
        value = values[index]
        if value is None:
            if not key.nulls_first:
                continue
            parts.append(f"{key.sql} IS NOT NULL")
        else:
            comparison = f"{key.sql} {'>' if key.ascending else '<'} ?"
            if not key.nulls_first:
                comparison = f"({comparison} OR {key.sql} IS NULL)"
            parts.append(comparison)
            part_params.append(value)
        clauses.append("(" + " AND ".join(parts) + ")")
        params.extend(part_params)
    return ("(" + " OR ".join(clauses) + ")" if clauses else "0"), params

"""Twenty's REST `filter` grammar compiled to SQL over the stored JSON (reference §2.4).

`field[comparator]:value`, dotted composite paths, `and(...)`, `or(...)`, `not(...)`,
commas as AND at the root, quotes and brackets protecting commas, and the raw parenthesis
count that makes a value like `(555` break the whole query, as it does in Twenty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.twenty_sandbox.problems import bad_request
from adapters.twenty_sandbox.schema import COMPOSITES, ObjectMeta, Schema
from adapters.twenty_sandbox.values import format_instant, is_valid_uuid

COMPARATORS = (
    "eq",
    "neq",
    "in",
    "containsAny",
    "is",
    "gt",
    "gte",
    "lt",
    "lte",
    "startsWith",
    "endsWith",
    "like",
    "ilike",
)
_CONJUNCTION = re.compile(r"^(and|or|not)\((.*)\)$", re.DOTALL)
_PREDICATE = re.compile(r"^([A-Za-z0-9_.]+)\[([A-Za-z]+)\]:(.*)$", re.DOTALL)
_SIMPLE = {"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
# Twenty checks that these operands of `id` are UUIDs before querying.
_ID_CHECKED = {"in", *_SIMPLE}


@dataclass(frozen=True)
class Condition:
    """A compiled filter: SQL over the `records` table, its parameters, deleted-row visibility."""

    sql: str
    params: list[Any]
    mentions_deleted_at: bool


@dataclass(frozen=True)
class ResolvedPath:
    """A filterable or sortable path: its SQL expression and the value type it holds."""

    sql: str
    value_type: str


def resolve_path(schema: Schema, obj: ObjectMeta, path: str, *, param: str) -> ResolvedPath:
    """The SQL expression for `field`, `field.subField` or a join column like `companyId`.

    Raises:
        ApiProblem: 400 when the object has no such field or sub-field.
    """
    head, _, sub = path.partition(".")
    if head == "id" and not sub:
        return ResolvedPath("id", "UUID")
    if head == "deletedAt" and not sub:
        return ResolvedPath("deleted_at", "DATE_TIME")
    key = schema.write_keys(obj.id).get(head)
    missing = bad_request(f"field '{path}' does not exist in '{obj.name_singular}' object")
    if key is None:
        raise missing
    field = key.field
    if key.is_join_column:
        if sub:
            raise missing
        return ResolvedPath(f"json_extract(data, '$.{head}')", "UUID")
    if field.relation is not None:
        raise bad_request(f"'{param}' on relation '{head}' is not supported; use '{head}Id'")
    if field.type in COMPOSITES:
        shape = COMPOSITES[field.type]
        if sub not in shape:
            raise missing
        kind = shape[sub][0]
        value_type = "NUMBER" if kind == "number" else "TEXT"
        return ResolvedPath(f"json_extract(data, '$.{head}.{sub}')", value_type)
    if sub:
        raise missing
    return ResolvedPath(f"json_extract(data, '$.{head}')", field.type)


def compile_filter(schema: Schema, obj: ObjectMeta, text: str) -> Condition:
    """Compile a `filter` query value.

    Raises:
        ApiProblem: 400 with Twenty's wording for unbalanced brackets, bad predicates,
            unknown comparators or fields.
    """
    _check_brackets(text)
    stripped = text.strip()
    if not _CONJUNCTION.match(stripped):
        stripped = f"and({stripped})"
    params: list[Any] = []
    paths: list[str] = []
    sql = _compile_node(schema, obj, stripped, params, paths)
    mentions = any(p.split(".")[0] == "deletedAt" for p in paths)
    return Condition(sql, params, mentions)


def _check_brackets(text: str) -> None:
    opened, closed = text.count("("), text.count(")")
    if opened > closed:
        raise bad_request(
            f"'filter' invalid. {opened - closed} close bracket is missing in the query"
        )
    if closed > opened:
        raise bad_request(
            f"'filter' invalid. {closed - opened} open bracket is missing in the query"
        )


def split_top_level(text: str) -> list[str]:
    """Split on commas that are outside quotes, parentheses and square brackets."""
    parts: list[str] = []
    depth, quote = 0, ""
    current: list[str] = []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def _compile_node(
    schema: Schema, obj: ObjectMeta, text: str, params: list[Any], paths: list[str]
) -> str:
    match = _CONJUNCTION.match(text)
    if match is None:
        return _compile_predicate(schema, obj, text, params, paths)
    conjunction, inner = match.group(1), match.group(2)
    children = split_top_level(inner)
    if conjunction == "not":
        if len(children) != 1:
            raise bad_request("'filter' invalid. 'not' conjunction should contain only 1 condition")
        return f"NOT ({_compile_node(schema, obj, children[0], params, paths)})"
    if not children:
        raise bad_request(f"'filter' invalid. '{conjunction}' conjunction is empty")
    joiner = " AND " if conjunction == "and" else " OR "
    return "(" + joiner.join(_compile_node(schema, obj, c, params, paths) for c in children) + ")"


def _compile_predicate(
    schema: Schema, obj: ObjectMeta, text: str, params: list[Any], paths: list[str]
) -> str:
    match = _PREDICATE.match(text.strip())
    if match is None:
        raise bad_request(f"'filter' invalid for '{text}'. eg: price[gte]:10")
    path, comparator, raw = match.groups()
    if comparator not in COMPARATORS:
        raise bad_request(
            f"'filter' invalid for '{text}', operand '{comparator}' not handled. "
            f"Allowed operands are: {', '.join(COMPARATORS)}"
        )
    resolved = resolve_path(schema, obj, path, param="filter")
    paths.append(path)
    expr = resolved.sql
    if comparator == "is":
        value = strip_quotes(raw.strip())
        if value not in ("NULL", "NOT_NULL"):
            raise bad_request(f"'filter' invalid for '{text}'. 'is' accepts NULL or NOT_NULL")
        return f"{expr} IS NULL" if value == "NULL" else f"{expr} IS NOT NULL"
    if comparator in ("in", "containsAny"):
        values = _list_value(raw, text)
        if path == "id" and comparator in _ID_CHECKED:
            _check_ids(values)
        items = [_cast(resolved.value_type, v) for v in values]
        params.extend(items)
        marks = ",".join("?" * len(items)) or "NULL"
        if comparator == "in":
            return f"{expr} IN ({marks})"
        json_path = expr.removeprefix("json_extract(data, ").removesuffix(")")
        return f"EXISTS (SELECT 1 FROM json_each(data, {json_path}) WHERE value IN ({marks}))"
    if path == "id" and comparator in _ID_CHECKED:
        _check_ids([strip_quotes(raw.strip())])
    value = _cast(resolved.value_type, strip_quotes(raw.strip()))
    if comparator in _SIMPLE:
        params.append(value)
        return f"{expr} {_SIMPLE[comparator]} ?"
    pattern = {"startsWith": f"{value}%", "endsWith": f"%{value}"}.get(comparator, value)
    params.append(pattern)
    return f"sb_like({expr}, ?, {0 if comparator == 'like' else 1}) = 1"


def strip_quotes(value: str) -> str:
    """Remove one pair of surrounding double or single quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _list_value(raw: str, predicate: str) -> list[str]:
    """The items of `[a,b]` as Twenty's formatFieldValue reads them: split on every comma,
    not trimmed (`[a, b]` holds `a` and ` b`), surrounding quotes stripped."""
    text = raw.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise bad_request(
            f"'filter' invalid for '{predicate}'. Value should be an array like [value1,value2]"
        )
    return [strip_quotes(item) for item in text[1:-1].split(",")]


def _check_ids(values: list[str]) -> None:
    for value in values:
        if not is_valid_uuid(value):
            raise bad_request(f'Value "{value}" is not a valid UUID')


def _cast(value_type: str, value: str) -> Any:
    if value_type in ("NUMBER", "NUMERIC", "POSITION"):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    if value_type == "BOOLEAN":
        return {"true": 1, "false": 0}.get(value.lower(), value)
    if value_type == "DATE_TIME":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return format_instant(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    if value_type == "UUID":
        return value.lower()
    return value

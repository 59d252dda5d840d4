"""Column plans: each mapped column of a file compiled once per run into one step.

A step is a closure over what never changes during a run (the target split at its dot, the
label written before a body line, the value map and its fallback, the currency) and does
exactly what the column's generic transform (core.mapping.engine.GENERIC_TRANSFORMS) does.
The transforms met on most rows have a step of their own; the rest call their handler.
Parsers whose answer depends on the text alone are remembered in bounded caches: dates,
amounts and local times repeat across rows (dates of service, fees, appointment slots).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, time
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from core.mapping.context import TransformContext
from core.mapping.engine import GENERIC_TRANSFORMS, Build, Handler, iso_utc
from core.mapping.model import ColumnMapping
from core.mapping.outcomes import Ref
from core.values import (
    ValueParseError,
    cents_to_micros,
    localize,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_id,
    parse_money,
    parse_time,
)

__all__ = [
    "ColumnPlan",
    "apply_columns",
    "cached_date",
    "cached_time",
    "column_plan",
    "first_column",
    "utc_text",
]

Step = Callable[[Build, str], None]


class ColumnPlan(NamedTuple):
    """A file's compiled columns.

    Attributes:
        keys: steps of the key columns, each given the row's key whatever the column holds.
            They run first: before them in the file can only come location columns, which
            write no payload, so the payload's order is the file's.
        names: the canonical column of each other step, in application order.
        steps: (column, step) for each name.
    """

    keys: tuple[Step, ...]
    names: tuple[str, ...]
    steps: tuple[tuple[ColumnMapping, Step], ...]


_CACHE = 16384  # entries per parser cache: a few MB at most, whatever the export's size
_ANSWERS = 4096  # codes remembered per select column (an export may hold free text there)


# parse_date and parse_time remembered per text (both return immutable values).
cached_date = functools.lru_cache(maxsize=_CACHE)(parse_date)
cached_time = functools.lru_cache(maxsize=_CACHE)(parse_time)


@functools.lru_cache(maxsize=_CACHE)
def _date_parts(text: str) -> tuple[str | None, str | None]:
    """(ISO date or None, sentinel or None) of a date text; raises like parse_date."""
    parsed = cached_date(text)
    if parsed is None:
        return None, None
    return (parsed.value.isoformat() if parsed.value is not None else None), parsed.sentinel


@functools.lru_cache(maxsize=_CACHE)
def _micros(text: str) -> int | None:
    """Twenty's amountMicros of a money text; raises like parse_money."""
    cents = parse_money(text)
    return None if cents is None else cents_to_micros(cents)


_local_datetime = functools.lru_cache(maxsize=_CACHE)(parse_datetime)


@functools.lru_cache(maxsize=_CACHE)
def _utc_parts(local: datetime, zone: ZoneInfo) -> tuple[str, bool, bool]:
    resolved = localize(local, zone)
    return iso_utc(resolved.utc), resolved.is_ambiguous, resolved.is_nonexistent


def utc_text(build: Build, column: str, local: datetime) -> str:
    """core.mapping.engine.local_to_utc, remembered per (local time, zone)."""
    text, is_ambiguous, is_nonexistent = _utc_parts(local, build.zone)
    if is_ambiguous:
        build.warnings.append(f"dst_ambiguous:{column}")
    if is_nonexistent:
        build.warnings.append(f"dst_nonexistent:{column}")
    return text


def first_column(ctx: TransformContext, entity: str, transform: str) -> ColumnMapping | None:
    """The first column of the entity's file with this transform (remembered by the context)."""
    key = (entity, transform)
    try:
        return ctx.first_columns[key]
    except KeyError:
        column = next((c for c in ctx.file(entity).columns if c.transform == transform), None)
        ctx.first_columns[key] = column
        return column


def column_plan(ctx: TransformContext, entity: str) -> ColumnPlan:
    """The file's compiled columns in application order, compiled once per run.

    Columns that can write nothing are left out: no-op transforms, entity transforms (applied
    by the entity's own code), and columns without a canonical name (their value is None).
    """
    plan: ColumnPlan | None = ctx.column_plans.get(entity)
    if plan is None:
        plan = ctx.column_plans[entity] = _compile_plan(ctx, entity)
    return plan


def _compile_plan(ctx: TransformContext, entity: str) -> ColumnPlan:
    keys: list[Step] = []
    steps: list[tuple[str, ColumnMapping, Step]] = []
    noop = GENERIC_TRANSFORMS["ignore"]
    for column in ctx.ordered_columns(entity):
        if column.transform == "key":
            keys.append(_writer(column.target or "dentalExecId"))
            continue
        handler = GENERIC_TRANSFORMS.get(column.transform)
        if handler is not None and handler is not noop and column.column:
            steps.append((column.column, column, _compile(ctx, column, handler)))
    names = tuple(name for name, _, _ in steps)
    return ColumnPlan(tuple(keys), names, tuple((column, step) for _, column, step in steps))


def apply_columns(build: Build) -> None:
    """Run every mapped column of the row's file through its compiled step."""
    plan = build.ctx.column_plans.get(build.entity)
    if plan is None:
        plan = column_plan(build.ctx, build.entity)
    for key_step in plan.keys:
        key_step(build, build.key)
    for text, (column, step) in zip(map(build.values.get, plan.names), plan.steps, strict=True):
        if text is None:
            continue
        try:
            step(build, text)
        except ValueParseError as error:
            build.reject(
                column.column,
                error.code.upper(),
                f"column {column.header!r}: {error}; fix the value in the export",
            )


def _writer(target: str, convert: Callable[[str], Any] | None = None) -> Step:
    """A step writing the (converted) text to `target` (`a.b`: sub-field b of composite a)."""
    head, dot, tail = target.partition(".")
    if not dot:
        if convert is None:

            def put(build: Build, text: str) -> None:
                build.payload[head] = text

            return put

        def put_converted(build: Build, text: str) -> None:
            build.payload[head] = convert(text)

        return put_converted

    def put_sub(build: Build, text: str) -> None:
        build.payload.setdefault(head, {})[tail] = text if convert is None else convert(text)

    return put_sub


def _split(target: str) -> tuple[str, str | None]:
    """`a.b` -> (`a`, `b`): sub-field b of composite a; a plain field -> (field, None)."""
    head, dot, tail = target.partition(".")
    return head, (tail if dot else None)


def _compile(ctx: TransformContext, column: ColumnMapping, handler: Handler) -> Step:
    compiler = _COMPILERS.get(column.transform)
    if compiler is not None:
        return compiler(ctx, column)
    if column.transform in _CONVERTERS:
        return _writer(column.target, _CONVERTERS[column.transform])
    return lambda build, text: handler(build, column, text)


def _money(ctx: TransformContext, column: ColumnMapping) -> Step:
    (head, tail), currency = _split(column.target), ctx.settings.currency

    def step(build: Build, text: str) -> None:
        micros = _micros(text)
        if micros is not None:
            value = {"amountMicros": micros, "currencyCode": currency}  # engine.money_value
            _put(build.payload, head, tail, value)

    return step


def _date(ctx: TransformContext, column: ColumnMapping) -> Step:
    (head, tail), prefix = _split(column.target), f"date_sentinel:{column.column}:"

    def step(build: Build, text: str) -> None:
        iso, sentinel = _date_parts(text)
        if sentinel:
            build.warnings.append(prefix + sentinel)
        if iso is not None:
            _put(build.payload, head, tail, iso)

    return step


def _date_as_datetime(ctx: TransformContext, column: ColumnMapping) -> Step:
    (head, tail), name = _split(column.target), column.column

    def step(build: Build, text: str) -> None:
        parsed = cached_date(text)
        if parsed is not None and parsed.value is not None:
            local = datetime.combine(parsed.value, time(0, 0))
            _put(build.payload, head, tail, utc_text(build, name, local))

    return step


def _datetime_local(ctx: TransformContext, column: ColumnMapping) -> Step:
    (head, tail), name = _split(column.target), column.column

    def step(build: Build, text: str) -> None:
        local = _local_datetime(text)
        if local is not None:
            _put(build.payload, head, tail, utc_text(build, name, local))

    return step


def _put(payload: dict[str, Any], head: str, tail: str | None, value: Any) -> None:
    if tail is None:
        payload[head] = value
    else:
        payload.setdefault(head, {})[tail] = value


def _select(ctx: TransformContext, column: ColumnMapping) -> Step:
    value_map = ctx.mapping.value_maps.get(column.value_map)
    if value_map is None:
        return lambda build, text: build.reject(
            column.column, "NO_VALUE_MAP", f"value map {column.value_map!r} is missing"
        )
    head, tail = _split(column.target)
    answers: dict[str, str | None] = {}
    fallback, warning = value_map.fallback, f"value_unmapped:{column.column}:"

    def step(build: Build, text: str) -> None:
        if text in answers:
            option = answers[text]
        else:
            option = ctx.option(value_map, text)
            if len(answers) < _ANSWERS:
                answers[text] = option
        if option is not None:
            _put(build.payload, head, tail, option)
        elif fallback:
            build.warnings.append(warning + text)
            _put(build.payload, head, tail, fallback)
        else:
            build.value_option(column, text)  # the UNMAPPED_VALUE reason, worded in one place

    return step


def _ref(ctx: TransformContext, column: ColumnMapping) -> Step:
    target, prefix, required = column.target, f"{column.entity}:", not column.optional

    def step(build: Build, text: str) -> None:
        parent = parse_id(text)
        if parent is not None:
            build.refs[target] = Ref(f"{prefix}{parent}", required=required)

    return step


def _target(ctx: TransformContext, column: ColumnMapping) -> Step:
    prefix = f"{column.entity}:"

    def step(build: Build, text: str) -> None:
        parent = parse_id(text)
        if parent is not None:
            build.person_stream = f"{prefix}{parent}"

    return step


def _body(ctx: TransformContext, column: ColumnMapping) -> Step:
    label, target = column.label or column.header, column.target
    inline, block = f"**{label}:** ", f"**{label}:**\n"

    def step(build: Build, text: str) -> None:
        if target:
            build.body_target = target
        build.body.append(block + text if "\n" in text else inline + text)

    return step


def _extra(ctx: TransformContext, column: ColumnMapping) -> Step:
    prefix = f"{column.label or column.header}: "
    return lambda build, text: build.extra.append(prefix + text)


def _member(ctx: TransformContext, column: ColumnMapping) -> Step:
    rank, name = column.rank, column.column
    return lambda build, text: build.members.append((rank, name, " ".join(text.split()).upper()))


def _title(ctx: TransformContext, column: ColumnMapping) -> Step:
    name = column.column
    return lambda build, text: build.titles.append((name, text))


_COMPILERS: dict[str, Callable[[TransformContext, ColumnMapping], Step]] = {
    "money": _money,
    "date": _date,
    "date_as_datetime": _date_as_datetime,
    "datetime_local": _datetime_local,
    "select": _select,
    "ref": _ref,
    "target": _target,
    "body": _body,
    "extra": _extra,
    "member": _member,
    "title": _title,
}
# Transforms that write one converted value to the target (engine's `_set` handlers).
_CONVERTERS: dict[str, Callable[[str], Any] | None] = {
    "text": None,
    "provider_code": lambda text: " ".join(text.split()).upper(),
    "bool": parse_bool,
}

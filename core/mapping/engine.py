"""The column engine: applies a file's column mappings to one row's canonical values.

Generic transforms (below) write straight into the payload; dotted targets build composites
(`name.firstName`). Entity transforms (core.mapping.entities_*) finish the record: they read
what the engine collected (phones, members, body and extra lines, title parts) and apply the
rules no single column can (unique emails, due times, derived stages).

Generic transforms: key, text, int, date, date_as_datetime, datetime_local, money, bool, zip,
select, list, phone, phone_text, provider_code, member, ref, target, location, cdt, tooth,
surfaces, interval, file_size, rich_text, body, extra, title, due_date, due_time, website,
and the no-ops ignore, context, folded, member_code, member_email. Entity transforms:
email_unique, appointment_status, recall_category, recall_type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from core.mapping.context import TransformContext
from core.mapping.model import ColumnMapping
from core.mapping.outcomes import Reason, Ref
from core.values import (
    Phone,
    ValueParseError,
    cents_to_micros,
    localize,
    normalize_cdt,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_file_size,
    parse_id,
    parse_int,
    parse_list,
    parse_money,
    parse_phone,
    parse_recall_interval,
    parse_surfaces,
    parse_tooth,
    parse_zip,
)

__all__ = [
    "ENTITY_TRANSFORMS",
    "GENERIC_TRANSFORMS",
    "Build",
    "Handler",
    "iso_utc",
    "local_to_utc",
    "money_value",
    "set_path",
]


@dataclass(slots=True, init=False)
class Build:
    """A record under construction: payload, refs, warnings, reasons and collected parts."""

    entity: str
    key: str
    values: dict[str, str | None]
    ctx: TransformContext
    payload: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Ref] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    body_target: str = ""
    extra: list[str] = field(default_factory=list)
    phones: list[tuple[int, str, Phone]] = field(default_factory=list)
    members: list[tuple[int, str, str]] = field(default_factory=list)
    titles: list[tuple[str, str]] = field(default_factory=list)
    person_stream: str = ""
    location_id: int | None = None
    due_date: str | None = None
    due_time: str | None = None

    def __init__(
        self, entity: str, key: str, values: dict[str, str | None], ctx: TransformContext
    ) -> None:
        # Written out: literals instead of a default_factory call per collection, per row.
        self.entity, self.key, self.values, self.ctx = entity, key, values, ctx
        self.payload, self.refs, self.warnings, self.reasons = {}, {}, [], []
        self.body, self.body_target, self.extra, self.phones = [], "", [], []
        self.members, self.titles, self.person_stream = [], [], ""
        self.location_id = self.due_date = self.due_time = None

    @property
    def zone(self) -> ZoneInfo:
        """The zone of the row's location (or the patient's home location)."""
        return self.ctx.zone_of(self.location_id)

    def reject(self, column: str, code: str, message: str) -> None:
        """Record one reason to refuse the row."""
        self.reasons.append(Reason(column, code, message))

    def value_option(self, column: ColumnMapping, code: str) -> str | None:
        """The option of a code through the column's value map; a reason when unplaced."""
        value_map = self.ctx.mapping.value_maps.get(column.value_map)
        if value_map is None:
            self.reject(column.column, "NO_VALUE_MAP", f"value map {column.value_map!r} is missing")
            return None
        option = self.ctx.option(value_map, code)
        if option is not None:
            return option
        if value_map.fallback:
            self.warnings.append(f"value_unmapped:{column.column}:{code}")
            return value_map.fallback
        self.reject(
            column.column,
            "UNMAPPED_VALUE",
            f"code {code!r} of column {column.header!r} is not in value map "
            f"{column.value_map!r}; add it to mapping.toml",
        )
        return None

    def finish(self) -> None:
        """Write the collected body and extra lines into the payload."""
        if self.body:
            target = self.body_target or "bodyV2"
            self.payload[target] = {"markdown": "\n\n".join(self.body)}
        if self.extra:
            self.payload["dentalExecExtra"] = "\n".join(self.extra)


def set_path(payload: dict[str, Any], target: str, value: Any) -> None:
    """Set `target` in the payload; `a.b` sets sub-field b of composite a."""
    head, dot, tail = target.partition(".")
    if not dot:
        payload[head] = value
        return
    composite = payload.setdefault(head, {})
    composite[tail] = value


def money_value(cents: int, currency: str) -> dict[str, Any]:
    """Twenty's CURRENCY composite for an amount in cents."""
    return {"amountMicros": cents_to_micros(cents), "currencyCode": currency}


def iso_utc(instant: datetime) -> str:
    """`2025-01-20T17:40:00Z` for an aware datetime."""
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def local_to_utc(build: Build, column: str, local: datetime) -> str:
    """A zone-less local time at the row's location, as UTC ISO; DST oddities warned."""
    resolved = localize(local, build.zone)
    if resolved.is_ambiguous:
        build.warnings.append(f"dst_ambiguous:{column}")
    if resolved.is_nonexistent:
        build.warnings.append(f"dst_nonexistent:{column}")
    return iso_utc(resolved.utc)


def _date(build: Build, column: ColumnMapping, text: str) -> None:
    parsed = parse_date(text)
    if parsed is not None and parsed.sentinel:
        build.warnings.append(f"date_sentinel:{column.column}:{parsed.sentinel}")
    if parsed is not None and parsed.value is not None:
        set_path(build.payload, column.target, parsed.value.isoformat())


def _date_as_datetime(build: Build, column: ColumnMapping, text: str) -> None:
    parsed = parse_date(text)
    if parsed is not None and parsed.value is not None:
        local = datetime.combine(parsed.value, time(0, 0))
        set_path(build.payload, column.target, local_to_utc(build, column.column, local))


def _datetime_local(build: Build, column: ColumnMapping, text: str) -> None:
    local = parse_datetime(text)
    if local is not None:
        set_path(build.payload, column.target, local_to_utc(build, column.column, local))


def _money(build: Build, column: ColumnMapping, text: str) -> None:
    cents = parse_money(text)
    if cents is not None:
        set_path(build.payload, column.target, money_value(cents, build.ctx.settings.currency))


def _select(build: Build, column: ColumnMapping, text: str) -> None:
    option = build.value_option(column, text)
    if option is not None:
        set_path(build.payload, column.target, option)


def _zip(build: Build, column: ColumnMapping, text: str) -> None:
    parsed = parse_zip(text)
    if parsed is not None:
        zip_text = f"{parsed.zip5}-{parsed.plus4}" if parsed.plus4 else parsed.zip5
        set_path(build.payload, column.target, zip_text)


def _phone(build: Build, column: ColumnMapping, text: str) -> None:
    parsed = parse_phone(text, region=build.ctx.settings.phone_region)
    if parsed is not None:
        build.phones.append((column.rank, column.label or column.header, parsed))


def _phone_text(build: Build, column: ColumnMapping, text: str) -> None:
    parsed = parse_phone(text, region=build.ctx.settings.phone_region)
    if parsed is not None:
        if parsed.e164 is None:
            build.warnings.append(f"phone_kept_as_text:{column.column}:{parsed.problem}")
        set_path(build.payload, column.target, parsed.e164 or parsed.raw)


def _ref(build: Build, column: ColumnMapping, text: str) -> None:
    parent = parse_id(text)
    if parent is not None:
        build.refs[column.target] = Ref(f"{column.entity}:{parent}", required=not column.optional)


def _target(build: Build, column: ColumnMapping, text: str) -> None:
    parent = parse_id(text)
    if parent is not None:
        build.person_stream = f"{column.entity}:{parent}"


def _location(build: Build, column: ColumnMapping, text: str) -> None:
    build.location_id = parse_id(text)
    found = build.ctx.location(build.location_id)
    build.extra.append(
        f"{column.label or column.header}: {text}" + (f" ({found.code})" if found else "")
    )


def _cdt(build: Build, column: ColumnMapping, text: str) -> None:
    code = normalize_cdt(text)
    if code is not None:
        set_path(build.payload, column.target, code.code)
        if code.raw.strip() != code.code:
            build.payload["rawCode"] = code.raw.strip()


def _tooth(build: Build, column: ColumnMapping, text: str) -> None:
    numbering = build.ctx.numbering_of(build.location_id)
    tooth = parse_tooth(text, numbering=numbering)
    if tooth is not None:
        set_path(build.payload, column.target, tooth.universal)


def _interval(build: Build, column: ColumnMapping, text: str) -> None:
    try:
        parsed = parse_recall_interval(text)
    except ValueParseError:
        build.warnings.append(f"interval_unparsed:{column.column}")
        build.body.append(f"**{column.label or column.header}:** {text}")
        return
    if parsed is not None:
        build.body.append(f"**{column.label or column.header}:** {parsed.months} months ({text})")


def _file_size(build: Build, column: ColumnMapping, text: str) -> None:
    size = parse_file_size(text)
    if size is not None:
        set_path(build.payload, column.target, size > build.ctx.settings.max_attachment_bytes)
        build.body.append(f"**File size:** {size} bytes")
        if size > build.ctx.settings.max_attachment_bytes:
            build.warnings.append(f"oversized:{column.column}")


def _body(build: Build, column: ColumnMapping, text: str) -> None:
    build.body_target = column.target or build.body_target
    label = column.label or column.header
    build.body.append(f"**{label}:**\n{text}" if "\n" in text else f"**{label}:** {text}")


def _member(build: Build, column: ColumnMapping, text: str) -> None:
    build.members.append((column.rank, column.column, " ".join(text.split()).upper()))


def _bool(build: Build, column: ColumnMapping, text: str) -> None:
    set_path(build.payload, column.target, parse_bool(text))


def _set(convert: Callable[[str], Any]) -> Callable[[Build, ColumnMapping, str], None]:
    def handler(build: Build, column: ColumnMapping, text: str) -> None:
        set_path(build.payload, column.target, convert(text))

    return handler


def _noop(build: Build, column: ColumnMapping, text: str) -> None:
    return None


Handler = Callable[[Build, ColumnMapping, str], None]
GENERIC_TRANSFORMS: dict[str, Handler] = {
    "text": _set(lambda text: text),
    "int": _set(parse_int),
    "list": _set(lambda text: "; ".join(parse_list(text))),
    "provider_code": _set(lambda text: " ".join(text.split()).upper()),
    "surfaces": _set(lambda text: "".join(parse_surfaces(text))),
    "rich_text": _set(lambda text: {"markdown": text}),
    "date": _date,
    "date_as_datetime": _date_as_datetime,
    "datetime_local": _datetime_local,
    "money": _money,
    "bool": _bool,
    "zip": _zip,
    "select": _select,
    "phone": _phone,
    "phone_text": _phone_text,
    "ref": _ref,
    "target": _target,
    "location": _location,
    "cdt": _cdt,
    "tooth": _tooth,
    "interval": _interval,
    "file_size": _file_size,
    "body": _body,
    "extra": lambda b, c, t: b.extra.append(f"{c.label or c.header}: {t}"),
    "member": _member,
    "title": lambda b, c, t: b.titles.append((c.column, t)),
    "due_date": lambda b, c, t: setattr(b, "due_date", t),
    "due_time": lambda b, c, t: setattr(b, "due_time", t),
    "ignore": _noop,
    "context": _noop,
    "folded": _noop,
    "member_code": _noop,
    "member_email": _noop,
    "website": _noop,
}
ENTITY_TRANSFORMS = frozenset(
    {"key", "email_unique", "appointment_status", "recall_category", "recall_type"}
)

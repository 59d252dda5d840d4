"""Dates, 12-hour times and datetimes (Q3), sentinels (Q11) and zone-less local times (Q19)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from core.values.errors import ValueParseError

__all__ = [
    "LocalInstant",
    "ParsedDate",
    "localize",
    "parse_date",
    "parse_datetime",
    "parse_time",
    "parse_zone",
]

_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])\.?[Mm]\.?$")
_TIME_24 = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
UNKNOWN_DATE = date(1900, 1, 1)
NO_END_DATE = date(9999, 12, 31)
DEFAULT_PIVOT = 30  # two-digit years below this are 20xx, the rest 19xx


class ParsedDate(msgspec.Struct, frozen=True):
    """A parsed date: `value` is None for the sentinels (`sentinel` says which)."""

    value: date | None
    sentinel: str | None = None  # "unknown" (01/01/1900) or "no_end" (12/31/9999)
    is_two_digit_year: bool = False


def parse_date(text: str | None, *, pivot: int = DEFAULT_PIVOT) -> ParsedDate | None:
    """Parse `MM/DD/YYYY`, `M/D/YYYY` or `MM/DD/YY`; None for blank.

    Raises:
        ValueParseError: `bad_date` when the text is not a real calendar date.
    """
    if text is None or not text.strip():
        return None
    match = _DATE.match(text.strip())
    if match is None:
        raise ValueParseError("bad_date", "not a date (expected MM/DD/YYYY)")
    month, day, year = int(match[1]), int(match[2]), int(match[3])
    is_short = len(match[3]) == 2
    if is_short:
        year += 2000 if year < pivot else 1900
    try:
        value = date(year, month, day)
    except ValueError:
        raise ValueParseError(
            "bad_date", "not a calendar date (month or day out of range)"
        ) from None
    if value == UNKNOWN_DATE:
        return ParsedDate(None, "unknown", is_short)
    if value == NO_END_DATE:
        return ParsedDate(None, "no_end", is_short)
    return ParsedDate(value, None, is_short)


def parse_time(text: str | None) -> time | None:
    """Parse a 12-hour time (`9:40 AM`, `09:40:00 pm`) or a 24-hour one; None for blank.

    Raises:
        ValueParseError: `bad_time` when the text is not a time of day.
    """
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    match = _TIME.match(stripped)
    if match is not None:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if not 1 <= hour <= 12:
            raise ValueParseError("bad_time", "hour out of range for a 12-hour clock")
        hour = hour % 12 + (12 if match[4] in "Pp" else 0)
    else:
        match = _TIME_24.match(stripped)
        if match is None:
            raise ValueParseError("bad_time", "not a time (expected h:mm AM)")
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueParseError("bad_time", "time out of range")
    return time(hour, minute, second)


def parse_datetime(text: str | None, *, pivot: int = DEFAULT_PIVOT) -> datetime | None:
    """Parse `MM/DD/YYYY hh:mm:ss AM` (zone-less local time); a bare date means midnight.

    Raises:
        ValueParseError: `bad_datetime` when the text is not a date and time.
    """
    if text is None or not text.strip():
        return None
    date_part, _, time_part = text.strip().partition(" ")
    try:
        parsed = parse_date(date_part, pivot=pivot)
        clock = parse_time(time_part) if time_part.strip() else time(0, 0)
    except ValueParseError as error:
        raise ValueParseError("bad_datetime", f"not a datetime: {error}") from None
    if parsed is None or parsed.value is None or clock is None:
        raise ValueParseError("bad_datetime", "not a datetime (sentinel or empty date)")
    return datetime.combine(parsed.value, clock)


_ZONE_NAMES = {
    "pacific": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "mountain": "America/Denver",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "arizona": "America/Phoenix",
    "central": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "eastern": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
}


def parse_zone(text: str | None) -> ZoneInfo | None:
    """The IANA zone for a free-text `Time Zone` (`Pacific`, `PST`, an IANA name); None if blank.

    Raises:
        ValueParseError: `bad_zone` when the text names no zone Ferry knows.
    """
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    name = _ZONE_NAMES.get(stripped.lower().replace(" time", "").strip(), stripped)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueParseError("bad_zone", "unknown time zone name") from None


class LocalInstant(msgspec.Struct, frozen=True):
    """A zone-less local time resolved to UTC; ambiguous or skipped local times are flagged."""

    utc: datetime
    is_ambiguous: bool = False  # autumn DST: resolved to the first occurrence (fold=0)
    is_nonexistent: bool = False  # spring DST gap: shifted forward by the gap


def localize(local: datetime, zone: ZoneInfo) -> LocalInstant:
    """Resolve a naive local datetime in `zone` to UTC, deterministically (Q19)."""
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    offset_first, offset_second = first.utcoffset(), second.utcoffset()
    if offset_first == offset_second:
        return LocalInstant(first.astimezone(UTC))
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != local:
        # In the spring gap: fold=0 takes the pre-gap offset, i.e. the clock moves forward.
        return LocalInstant(first.astimezone(UTC), is_nonexistent=True)
    return LocalInstant(first.astimezone(UTC), is_ambiguous=True)

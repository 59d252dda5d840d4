"""Physical lines to CSV records, with the line each record starts on (Q2) and broken quoting.

Lines are grouped by quote parity (a record ends on a line where the count of `"` seen so far
is even), then each record is parsed strictly. When quoting is broken (a stray quote, or an
unclosed one that would swallow the rest of the file) the first line alone becomes a broken
record and parsing resumes on the next line, so one bad row never hides the rows after it.
Memory is bounded by MAX_RECORD_LINES lines.
"""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterable, Iterator
from itertools import chain
from typing import NamedTuple

MAX_RECORD_LINES = 500
_FIELD_LIMIT = 64 * 1024 * 1024

csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))


class RawRecord(NamedTuple):
    """One parsed record: its first physical line, its fields, and whether quoting broke."""

    line: int
    fields: list[str]
    is_broken: bool
    has_replacement: bool  # the text held U+FFFD: undecodable bytes
    is_multiline: bool = False


# NamedTuple's generated __new__ is Python code; tuple.__new__ builds the same object in C.
_new = tuple.__new__


def _strict(text: str) -> list[str]:
    return next(csv.reader((text,), strict=True), [])


def _lenient(text: str) -> list[str]:
    return next(csv.reader((text,)), [])


def _broken(line_no: int, text: str) -> RawRecord:
    return RawRecord(line_no, _lenient(text), True, "\ufffd" in text, True)


def parse_records(lines: Iterable[str]) -> Iterator[RawRecord]:
    """Stream the records of a CSV text given as physical lines (kept with their endings)."""
    source: Iterator[tuple[int, str]] | None = enumerate(lines, 1)
    while source is not None:
        # A broken record hands back the lines it swallowed; parsing resumes on them.
        source = yield from _parse(source)


def _parse(
    source: Iterator[tuple[int, str]],
) -> Generator[RawRecord, None, Iterator[tuple[int, str]] | None]:
    group: list[tuple[int, str]] = []
    quotes = 0
    for item in source:
        text = item[1]
        count = text.count('"')
        if not group and not count:
            # The fast path: a one-line record without quotes.
            fields = text.rstrip("\r\n").split(",")
            yield _new(RawRecord, (item[0], fields, False, "\ufffd" in text, False))
            continue
        group.append(item)
        quotes += count
        if quotes % 2 == 0:
            record = _parse_group(group)
            if record is not None:
                yield record
                group, quotes = [], 0
                continue
        elif len(group) <= MAX_RECORD_LINES:
            continue
        yield _broken(*group[0])
        return chain(group[1:], source)
    if group:  # end of file inside quotes: the first line is broken, re-read the rest
        yield _broken(*group[0])
        return iter(group[1:])
    return None


def _split(text: str) -> list[str]:
    return text.rstrip("\r\n").split(",")


def _parse_group(group: list[tuple[int, str]]) -> RawRecord | None:
    """The group as one record, or None when strict parsing fails (quoting is broken)."""
    text = group[0][1] if len(group) == 1 else "".join(part for _, part in group)
    try:
        fields = _strict(text)
    except csv.Error:
        return None
    return RawRecord(group[0][0], fields, False, "\ufffd" in text, len(group) > 1)

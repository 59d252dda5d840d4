"""Physical lines to CSV records, with the line each record starts on (Q2) and broken quoting.

Lines are grouped by quote parity (a record ends on a line where the count of `"` seen so far
is even), then each record is parsed strictly. When quoting is broken (a stray quote, or an
unclosed one that would swallow the rest of the file) the first line alone becomes a broken
record and parsing resumes on the next line, so one bad row never hides the rows after it.
Memory is bounded by MAX_RECORD_LINES lines.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
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


def _strict(text: str) -> list[str]:
    return next(csv.reader((text,), strict=True), [])


def _lenient(text: str) -> list[str]:
    return next(csv.reader((text,)), [])


def _broken(line_no: int, text: str) -> RawRecord:
    return RawRecord(line_no, _lenient(text), True, "\ufffd" in text, True)


def parse_records(lines: Iterable[str]) -> Iterator[RawRecord]:
    """Stream the records of a CSV text given as physical lines (kept with their endings)."""
    source = enumerate(lines, 1)
    pushback: list[tuple[int, str]] = []
    group: list[tuple[int, str]] = []
    quotes = 0
    while True:
        item = pushback.pop() if pushback else next(source, None)
        if item is None:
            if not group:
                break
            # End of file inside quotes: the first line is broken, re-read the rest.
            yield _split_broken(group, pushback)
            group, quotes = [], 0
            continue
        count = item[1].count('"')
        if not group and count == 0:
            # The fast path: a one-line record without quotes.
            yield RawRecord(item[0], _split(item[1]), False, "\ufffd" in item[1])
            continue
        group.append(item)
        quotes += count
        if quotes % 2 == 0:
            yield _parse_group(group, pushback)
            group, quotes = [], 0
        elif len(group) > MAX_RECORD_LINES:
            yield _split_broken(group, pushback)
            group, quotes = [], 0


def _split(text: str) -> list[str]:
    return text.rstrip("\r\n").split(",")


def _parse_group(group: list[tuple[int, str]], pushback: list[tuple[int, str]]) -> RawRecord:
    text = group[0][1] if len(group) == 1 else "".join(part for _, part in group)
    try:
        fields = _strict(text)
    except csv.Error:
        return _split_broken(group, pushback)
    return RawRecord(group[0][0], fields, False, "\ufffd" in text, len(group) > 1)


def _split_broken(group: list[tuple[int, str]], pushback: list[tuple[int, str]]) -> RawRecord:
    """The first line becomes a broken record; the others go back to be parsed again."""
    pushback.extend(reversed(group[1:]))
    return _broken(*group[0])

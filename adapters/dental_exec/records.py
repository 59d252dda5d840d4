"""Physical lines to CSV records, with the line each record starts on (Q2) and broken quoting.

Lines are grouped by quote parity (a record ends on a line where the count of `"` seen so far
is even), then each record is parsed strictly. When quoting is broken (a stray quote, or an
unclosed one that would swallow the rest of the file) the first line alone becomes a broken
record and parsing resumes on the next line, so one bad row never hides the rows after it.
Memory is bounded by MAX_RECORD_LINES lines.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Generator, Iterable, Iterator
from itertools import chain
from typing import NamedTuple

MAX_RECORD_LINES = 500
_FIELD_LIMIT = 64 * 1024 * 1024

csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))

# U+FFFD (undecodable bytes) and the characters no value may hold: C0 controls but tab, LF
# and CR, DEL, and a byte-order mark inside the text.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffd]").search


def _is_suspect(text: str) -> bool:
    """True when the text holds U+FFFD or a CONTROL character. `isprintable` (C, about a
    quarter of the regex's cost) clears almost every line: all CONTROL characters are
    unprintable, and U+FFFD is the only suspect printable one."""
    body = text.rstrip("\r\n")
    if body.isprintable():
        return "\ufffd" in body
    return _SUSPECT(text) is not None


class RawRecord(NamedTuple):
    """One parsed record: its first physical line, its fields, and whether quoting broke."""

    line: int
    fields: list[str]
    is_broken: bool
    has_replacement: bool  # the text held U+FFFD (undecodable bytes) or a CONTROL character
    is_multiline: bool = False


# NamedTuple's generated __new__ is Python code; tuple.__new__ builds the same object in C.
_new = tuple.__new__


class _Feed:
    """An iterator handing the csv reader one text at a time (then it is exhausted)."""

    __slots__ = ("text",)

    def __init__(self) -> None:
        self.text: str | None = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        text = self.text
        if text is None:
            raise StopIteration
        self.text = None
        return text


class _Splitter:
    """CSV field splitting with two readers made once per file (a reader per record costs
    more than the parse): each call is `next(csv.reader((text,)), [])`, as the reader starts
    every record afresh."""

    def __init__(self) -> None:
        self._feed = _Feed()
        self._strict = csv.reader(self._feed, strict=True)
        self._lenient = csv.reader(self._feed)

    def strict(self, text: str) -> list[str]:
        """The fields of `text`.

        Raises:
            csv.Error: when the quoting is broken.
        """
        self._feed.text = text
        try:
            return next(self._strict, [])
        finally:
            self._feed.text = None

    def lenient(self, text: str) -> list[str]:
        """The fields of `text`, read as best the csv module can."""
        self._feed.text = text
        try:
            return next(self._lenient, [])
        finally:
            self._feed.text = None

    def broken(self, line_no: int, text: str) -> RawRecord:
        """A record whose quoting is broken: its first line, read leniently."""
        return RawRecord(line_no, self.lenient(text), True, _is_suspect(text), True)


def parse_records(lines: Iterable[str]) -> Iterator[RawRecord]:
    """Stream the records of a CSV text given as physical lines (kept with their endings)."""
    source: Iterator[tuple[int, str]] | None = enumerate(lines, 1)
    splitter = _Splitter()
    while source is not None:
        # A broken record hands back the lines it swallowed; parsing resumes on them.
        source = yield from _parse(source, splitter)


def _parse(
    source: Iterator[tuple[int, str]], splitter: _Splitter
) -> Generator[RawRecord, None, Iterator[tuple[int, str]] | None]:
    group: list[tuple[int, str]] = []
    quotes = 0
    for item in source:
        text = item[1]
        count = text.count('"')
        if not group and not count:
            # The fast path: a one-line record without quotes.
            fields = text.rstrip("\r\n").split(",")
            yield _new(RawRecord, (item[0], fields, False, _is_suspect(text), False))
            continue
        group.append(item)
        quotes += count
        if quotes % 2 == 0:
            record = _parse_group(group, splitter)
            if record is not None:
                yield record
                group, quotes = [], 0
                continue
        elif len(group) <= MAX_RECORD_LINES:
            continue
        yield splitter.broken(*group[0])
        return chain(group[1:], source)
    if group:  # end of file inside quotes: the first line is broken, re-read the rest
        yield splitter.broken(*group[0])
        return iter(group[1:])
    return None


def _parse_group(group: list[tuple[int, str]], splitter: _Splitter) -> RawRecord | None:
    """The group as one record, or None when strict parsing fails (quoting is broken)."""
    text = group[0][1] if len(group) == 1 else "".join(part for _, part in group)
    try:
        fields = splitter.strict(text)
    except csv.Error:
        return None
    return RawRecord(group[0][0], fields, False, _is_suspect(text), len(group) > 1)

"""Records to SourceRows: header aliasing (Q18), keys (Q12), content hashes, row-level errors."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from operator import itemgetter

import msgspec

from adapters.dental_exec.fast_rows import RECORD_TYPES, compile_fast_build, remember
from core.export_format import ColumnType, FileSpec, header_key
from core.ports.source import RowError, SourceRow
from core.values import (
    ValueParseError,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_money,
    parse_time,
)

# Fast paths for the usual spellings; anything else goes through the real parser.
_PLAIN_DATE = re.compile(r"(?:0[1-9]|1[0-2])/(?:0[1-9]|1\d|2[0-8])/(?:19|20)\d\d")
_PLAIN_DATETIME = re.compile(_PLAIN_DATE.pattern + r" (?:0[1-9]|1[0-2]):[0-5]\d:[0-5]\d [AP]M")


def _check_date(text: str) -> object:
    return True if _PLAIN_DATE.fullmatch(text) else parse_date(text)


def _check_datetime(text: str) -> object:
    return True if _PLAIN_DATETIME.fullmatch(text) else parse_datetime(text)


_VALIDATORS: dict[ColumnType, Callable[[str], object]] = {
    ColumnType.DATE: _check_date,
    ColumnType.DATETIME: _check_datetime,
    ColumnType.TIME: parse_time,
    ColumnType.MONEY: parse_money,
}
_has_value = itemgetter(1)
_FALSE = frozenset({"N", "No", "0", "False"})
_ENCODE = msgspec.json.Encoder().encode


class HeaderMap(msgspec.Struct, frozen=True):
    """How one file's header maps onto the format's columns."""

    cells: tuple[str, ...]  # the header cells as written
    names: tuple[str, ...]  # per physical column: canonical name, `?<header>` or "" (ignored)
    recognised: dict[str, str]
    unknown: tuple[str, ...]
    missing: tuple[str, ...]
    # (header as written, first position, repeated position), positions 1-based
    repeated: tuple[tuple[str, int, int], ...] = ()


def map_header(
    spec: FileSpec, header: list[str], confirmed: Mapping[str, str] | None = None
) -> HeaderMap:
    """Match header cells to columns case-, space- and punctuation-insensitively (Q18).

    `confirmed` (header as written -> canonical column, "" for a column of no known meaning)
    is the confirmed mapping's word on the file: it wins over the format's own labels, and a
    column it gives to one header is never given to another by label.
    """
    known = {column.name for column in spec.columns}
    told = {header_key(h): (c if c in known else "") for h, c in (confirmed or {}).items()}
    claimed = set(told.values())
    lookup: dict[str, str] = {}
    for column in spec.columns:
        if column.name in claimed:
            continue
        for text in (column.label, column.name, *column.aliases):
            lookup.setdefault(header_key(text), column.name)
    lookup.update({key: name for key, name in told.items() if name})
    for key, name in told.items():
        if not name:
            lookup.pop(key, None)
    names: list[str] = []
    recognised: dict[str, str] = {}
    unknown: list[str] = []
    repeated: list[tuple[str, int, int]] = []
    first_at: dict[str, int] = {}  # a column (or unknown header) -> its first position
    for position, cell in enumerate(header, 1):
        text = cell.strip().lstrip("\ufeff")
        found = lookup.get(header_key(text)) if text else None
        seen = first_at.setdefault(found or f"?{header_key(text)}", position) if text else position
        if not text:
            names.append("")  # the trailing empty column of some versions
        elif seen != position:
            # A repeat is kept apart (never overwriting the first) and reported as a repeat.
            names.append(f"?{text}#{position}")
            repeated.append((text, seen, position))
        elif found is None:
            names.append(f"?{text}")
            unknown.append(text)
        else:
            names.append(found)
            recognised[text] = found
    missing = tuple(c.name for c in spec.columns if c.name not in recognised.values())
    cells = tuple(cell.lstrip("\ufeff") for cell in header)
    return HeaderMap(cells, tuple(names), recognised, tuple(unknown), missing, tuple(repeated))


class RowBuilder:
    """Builds SourceRows for one file; precomputes everything per column once."""

    def __init__(self, spec: FileSpec, file: str, header: HeaderMap) -> None:
        self.spec, self.file, self.entity = spec, file, spec.entity
        self.names = header.names
        self.width = len(header.names)
        # Rows may omit the trailing empty header column(s).
        self.min_width = len("\0".join(header.names).rstrip("\0").split("\0"))
        by_name = {c.name: c for c in spec.columns}
        present = [(i, n) for i, n in enumerate(self.names) if n]
        self.present = present
        self.int_columns = {n for _, n in present if n in by_name and by_name[n].type == "int"}
        # Money may be blank for zero (Q4), so a blank required amount is not an error.
        self.required = [
            n
            for _, n in present
            if n in by_name and by_name[n].required and by_name[n].type != "money"
        ]
        self.typed_required = [
            (n, _VALIDATORS[by_name[n].type])
            for n in self.required
            if by_name[n].type in _VALIDATORS
        ]
        # Texts each validator accepted (a date repeats a lot); blank is always fine.
        self.good = {validate: {""} for _, validate in self.typed_required}
        self.hash_names = sorted(name for _, name in present)
        # Values in name order, fetched in one C call: the hash ignores column order.
        self.hash_getter = _getter(self.hash_names)
        self.int_names = sorted(self.int_columns)
        self.int_checked = [n for n in self.int_names if n not in spec.pk]
        self.has_ignored = "" in self.names
        pk = spec.pk[0]
        self.single_int_pk = pk if len(spec.pk) == 1 and pk in self.int_columns else None
        self.deleted = (
            spec.deleted_column if spec.deleted_column in dict(present).values() else None
        )
        self.fast = compile_fast_build(self)

    def build(
        self, line: int, fields: list[str], problems: tuple[RowError, ...], is_multiline: bool
    ) -> SourceRow:
        """One SourceRow from the fields of a record starting at `line`."""
        if not problems and len(fields) == self.width and self.fast is not None:
            row = self.fast(line, fields)
            if row is not None:
                return row
        return self.build_general(line, fields, problems, is_multiline)

    def build_general(
        self, line: int, fields: list[str], problems: tuple[RowError, ...], is_multiline: bool
    ) -> SourceRow:
        """`build` without the fast path: every check and error, column by column."""
        errors = list(problems)
        count = len(fields)
        if count != self.width:
            is_width_ok = self.min_width <= count <= self.width
            if not is_width_ok and not _only_trailing_blanks(fields, self.width):
                errors.append(self._error(line, None, "column_count", self._count_message(fields)))
            fields = (fields + [""] * self.width)[: self.width]
        # The hot loop: strip in C, then blank -> None.
        stripped = list(map(str.strip, fields))
        values = dict(zip(self.names, [text or None for text in stripped], strict=False))
        if self.has_ignored:
            values.pop("", None)
        self._check(line, values, errors)
        key = self.key_of(line, values, errors)
        digest = self._hash(values, is_multiline)
        deleted = self.is_deleted(values)
        return SourceRow(self.entity, self.file, line, key, digest, values, tuple(errors), deleted)

    def _count_message(self, fields: list[str]) -> str:
        return f"{len(fields)} fields where the header has {self.width}; fix the row's quoting"

    def _error(self, line: int, column: str | None, code: str, message: str) -> RowError:
        return RowError(self.file, line, column, code, message)

    def _check(self, line: int, values: dict[str, str | None], errors: list[RowError]) -> None:
        for name in self.required:
            if values[name] is None:
                errors.append(self._error(line, name, "missing_required", "required value empty"))
        for name in self.int_checked:
            text = values[name]
            if text is not None and not text.isdecimal():
                errors.append(self._error(line, name, "bad_integer", "not a whole number"))
        for name, validate in self.typed_required:
            text = values[name]
            good = self.good[validate]
            if text is None or text in good:
                continue
            try:
                validate(text)
            except ValueParseError as error:
                errors.append(self._error(line, name, "bad_value", str(error)))
            else:
                remember(good, text)

    def key_of(
        self, line: int, values: dict[str, str | None], errors: list[RowError]
    ) -> str | None:
        """The row's source key (Q12); None, with a `bad_key` error where due, when unreadable."""
        if self.single_int_pk is not None:
            text = values[self.single_int_pk]
            if text is not None and text.isdecimal() and text[:1] != "0":
                return text  # the common case: already canonical
        parts: list[str] = []
        for name in self.spec.pk:
            text = values.get(name)
            if text is None:
                return None  # reported as missing_required
            if name in self.int_columns:
                if not text.isdecimal() or int(text) == 0:
                    errors.append(self._error(line, name, "bad_key", "key is not a positive ID"))
                    return None
                text = str(int(text))
            elif name == "record_type":
                text = RECORD_TYPES.get(text.lower(), text)
            elif name == "field_key":
                text = text.upper()
            parts.append(text)
        return ":".join(parts)

    def _hash(self, values: dict[str, str | None], is_multiline: bool) -> str:
        normal = values
        for name in self.int_names:
            text = values[name]
            if text is not None and text[:1] == "0" and text.isdecimal():
                normal = dict(values) if normal is values else normal
                normal[name] = str(int(text))
        if is_multiline:
            normal = {n: _one_newline(t) for n, t in normal.items()}
        # Empty values are left out: a column added empty by a newer version keeps the hash.
        pairs = zip(self.hash_names, self.hash_getter(normal), strict=True)
        items = list(filter(_has_value, pairs))
        return hashlib.sha256(_ENCODE(items)).hexdigest()

    def is_deleted(self, values: dict[str, str | None]) -> bool:
        """A soft-deleted row: `Deleted` true, or a patient's `Status = Deleted`."""
        if self.spec.entity == "patient":
            status = values.get("status")
            return status is not None and status.lower() == "deleted"
        if self.deleted is None:
            return False
        text = values[self.deleted]
        if text is None or text in _FALSE:
            return False
        try:
            return parse_bool(text) is True
        except ValueParseError:
            return False


def _getter(names: list[str]) -> Callable[[dict[str, str | None]], tuple[str | None, ...]]:
    """`itemgetter` that always returns a tuple (itemgetter of one name returns the value)."""
    if len(names) > 1:
        return itemgetter(*names)
    return lambda values: tuple(values[name] for name in names)


def _one_newline(text: str | None) -> str | None:
    if text is None or "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _only_trailing_blanks(fields: list[str], width: int) -> bool:
    """A row one or more empty cells longer than the header: the trailing-comma drift (Q18)."""
    return len(fields) > width and not any(cell.strip() for cell in fields[width:])

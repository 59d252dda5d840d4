"""Fix-up lists as the front desk hands them back: the audit's CSV after a spreadsheet.

Ferry writes the lists as UTF-8 with commas. A spreadsheet may save them back with a byte
order mark, in Windows-1252, or with semicolons or tabs (a European Excel); all of these are
read. Cells are trimmed; a row that is entirely empty is skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from core.errors import BadInputError

__all__ = ["FixupList", "read_fixup_list"]


class FixupList:
    """One fix-up list: its header, its rows by header with their lines, its bytes' hash."""

    def __init__(self, header: list[str], rows: list[tuple[int, dict[str, str]]], sha256: str):
        self.header = header
        self.rows = rows
        self.sha256 = sha256


def read_fixup_list(path: Path) -> FixupList:
    """Read a fix-up list back.

    Raises:
        BadInputError: the file is missing, unreadable, or not a table.
    """
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(
            "no such file: give the fix-up list `ferry source audit --out` wrote", file=name
        ) from None
    except OSError as error:
        raise BadInputError(f"cannot be read ({error.strerror})", file=name) from None
    text = _decode(data, name)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            values = {h: c.strip() for h, c in zip(header, cells, strict=False)}
            rows.append((reader.line_num, values))
    except csv.Error:
        raise BadInputError(
            "is not a readable CSV table: save it again as CSV", file=name, line=reader.line_num
        ) from None
    if not header or not any(header):
        raise BadInputError("has no header row: save it again with its header", file=name)
    return FixupList(header, rows, hashlib.sha256(data).hexdigest())


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInputError("is UTF-16: save it again as CSV (UTF-8)", file=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","

"""Row reports written as they are read: Markdown tables, CSV or JSON lines, owner-only.

Reports that list records (the audit log may list 100,000) never hold them all: rows are
rendered one by one into a file opened owner-only.

This is the one CSV writer of Ferry (reports, the Twenty import files, `ferry events list`):
core may not import the `csv` module, and the dialect is small enough to write here. Every
cell is quoted with its quotes doubled, records end with CRLF, and a cell a spreadsheet would
run as a formula (a leading `= + - @`, tab or CR) is defused with a leading apostrophe,
unless it is a plain number such as `-12.50`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TextIO

from events.private_files import open_private

__all__ = ["FORMATS", "Format", "csv_line", "defused", "open_private", "write_rows"]

Format = Literal["md", "csv", "json"]
FORMATS: tuple[Format, ...] = ("md", "csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(_text(v) for v in value)
    return str(value)


def defused(text: str) -> str:
    """A cell a spreadsheet will not run as a formula: a leading `= + - @` (or tab, CR) gets
    an apostrophe, unless the cell is a plain number such as `-12.50` or `+1`."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_line(cells: Iterable[Any]) -> str:
    """One CSV record: each cell as text (None empty, a list joined by `;`), defused, quoted."""
    return ",".join('"' + defused(_text(c)).replace('"', '""') + '"' for c in cells) + "\r\n"


def _md_cell(value: Any) -> str:
    return _text(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def write_rows(
    out: TextIO,
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    *,
    title: str = "",
) -> int:
    """Render rows one by one; return how many were written."""
    count = 0
    if fmt == "csv":
        out.write(csv_line(columns))
    elif fmt == "md":
        if title:
            out.write(f"# {title}\n\n")
        out.write("| " + " | ".join(columns) + " |\n")
        out.write("|" + "---|" * len(columns) + "\n")
    for row in rows:
        count += 1
        if fmt == "csv":
            out.write(csv_line(row.get(c) for c in columns))
        elif fmt == "md":
            out.write("| " + " | ".join(_md_cell(row.get(c)) for c in columns) + " |\n")
        else:
            out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n")
    if fmt == "md":
        out.write(f"\n{count} row(s).\n")
    return count

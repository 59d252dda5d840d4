"""Row reports written as they are read: Markdown tables, CSV or JSON lines, owner-only.

Reports that list records (the audit log may list 100,000) never hold them all: rows are
rendered one by one into a file opened owner-only. CSV cells are quoted and a leading
`= + - @` is defused, so a spreadsheet never runs a cell as a formula.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TextIO

from events.private_files import open_private

__all__ = ["FORMATS", "Format", "open_private", "write_rows"]

Format = Literal["md", "csv", "json"]
FORMATS: tuple[Format, ...] = ("md", "csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(_text(v) for v in value)
    return str(value)


def _csv_cell(value: Any) -> str:
    text = _text(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"'


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
        out.write(",".join(_csv_cell(c) for c in columns) + "\r\n")
    elif fmt == "md":
        if title:
            out.write(f"# {title}\n\n")
        out.write("| " + " | ".join(columns) + " |\n")
        out.write("|" + "---|" * len(columns) + "\n")
    for row in rows:
        count += 1
        if fmt == "csv":
            out.write(",".join(_csv_cell(row.get(c)) for c in columns) + "\r\n")
        elif fmt == "md":
            out.write("| " + " | ".join(_md_cell(row.get(c)) for c in columns) + " |\n")
        else:
            out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n")
    if fmt == "md":
        out.write(f"\n{count} row(s).\n")
    return count

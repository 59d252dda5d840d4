"""`reports/sample-diff.html` and `reports/sample-diff.csv`: the sample's field-level diff.

Unlike every other report these hold patient values: the operator asked to see, field by
field, what the export said, what was sent and what Twenty holds. Both files are written
owner-only into `reports/`, and the HTML says so at its top. The HTML is self-contained (no
script, no external resource) and every value is escaped; CSV cells that a spreadsheet would
run as a formula (`=`, `+`, `-`, `@`) are prefixed with `'`.
"""

from __future__ import annotations

import hashlib
import html
import json
from typing import Any

from core.pipeline.sample_diff import DiffRow, SampleDiff

__all__ = ["CSV_COLUMNS", "diff_hash", "render_diff_csv", "render_diff_html"]

CSV_COLUMNS = ("stream_id", "object", "field", "source", "sent", "read_back", "agrees", "note")
PHI_NOTICE = (
    "This file holds patient values (protected health information). It is written for the "
    "operator's field-level check only, readable by its owner only: do not share it, copy it "
    "or attach it anywhere; delete it once the sample is approved."
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _agrees(row: DiffRow) -> str:
    return "" if row.agrees is None else ("yes" if row.agrees else "NO")


def _cells(row: DiffRow) -> list[str]:
    return [
        row.stream_id,
        row.object_name,
        row.field,
        row.source,
        _text(row.sent),
        _text(row.read),
        _agrees(row),
        row.note,
    ]


def _csv_cell(text: str) -> str:
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"'


def render_diff_csv(diff: SampleDiff) -> str:
    """The diff as CSV (RFC 4180, every cell quoted, CRLF line ends)."""
    lines = [",".join(_csv_cell(c) for c in CSV_COLUMNS)]
    lines += [",".join(_csv_cell(c) for c in _cells(row)) for row in diff.rows]
    return "\r\n".join(lines) + "\r\n"


def diff_hash(csv_text: str | bytes) -> str:
    """SHA-256 of the CSV's UTF-8 bytes: what an approval refers to."""
    data = csv_text.encode("utf-8") if isinstance(csv_text, str) else csv_text
    return hashlib.sha256(data).hexdigest()


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
.phi{border:2px solid #b00;background:#fee;padding:.75rem;font-weight:600}
table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .4rem;vertical-align:top;text-align:left}
th{background:#eee;position:sticky;top:0}
tr.no td{background:#fdd}tr.na td{background:#f4f4f4;color:#555}
td.v{white-space:pre-wrap;font-family:ui-monospace,monospace}
"""


def render_diff_html(diff: SampleDiff, *, title: str = "Sample field-level diff") -> str:
    """The diff as one self-contained, escaped HTML page."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in CSV_COLUMNS)
    body = []
    for row in diff.rows:
        kind = "na" if row.agrees is None else ("ok" if row.agrees else "no")
        cells = "".join(
            f'<td class="v">{esc(c)}</td>' if i in (3, 4, 5) else f"<td>{esc(c)}</td>"
            for i, c in enumerate(_cells(row))
        )
        body.append(f'<tr class="{kind}">{cells}</tr>')
    summary = (
        f"Run {esc(diff.run_id or '?')}: {diff.records:,} records, {len(diff.rows):,} rows, "
        f"{diff.disagreements:,} that did not read back as sent."
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>\n"
        f'<p class="phi">{esc(PHI_NOTICE)}</p>\n<h1>{esc(title)}</h1>\n<p>{summary}</p>\n'
        "<p>Source: the export columns that feed the field. Sent: the value Ferry sent. "
        "Read back: the value Twenty holds now. Agrees: sent and read back are the same "
        "under Twenty's own normalisations (emails lower-cased, instants, amounts).</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table></body></html>\n"
    )

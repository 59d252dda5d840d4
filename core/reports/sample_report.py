"""`reports/sample-diff.html` and `reports/sample-diff.csv`: the sample's field-level diff.

Unlike every other report these hold patient values: the operator asked to see, field by
field, what the export said, what was sent and what Twenty holds. Both files are written
owner-only into `reports/`, and the HTML says so at its top; `render_diff_html(...,
shareable=True)` of a de-identified diff (core.reports.sample_shareable) is the variant for the
practice owner. The HTML opens with a summary per object and per field, then each record's
fields under the record, the records grouped per patient (the patient first); two filters
("transformed only", "differences only") hide the other rows with one inline script. It is
self-contained (no external resource) and every value is escaped; CSV cells that a spreadsheet
would run as a formula (`=`, `+`, `-`, `@`) are prefixed with `'`.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections import Counter
from itertools import groupby
from typing import Any

from core.pipeline.sample_diff import DiffRow, SampleDiff

__all__ = ["CSV_COLUMNS", "diff_hash", "render_diff_csv", "render_diff_html"]

CSV_COLUMNS = (
    "stream_id",
    "patient",
    "object",
    "field",
    "transform",
    "source",
    "sent",
    "read_back",
    "transformed",
    "agrees",
    "note",
)
PHI_NOTICE = (
    "This file holds patient values (protected health information). It is written for the "
    "operator's field-level check only, readable by its owner only: do not share it, copy it "
    "or attach it anywhere; delete it once the sample is approved."
)
SHAREABLE_NOTICE = (
    "De-identified copy for the practice: record keys are replaced by numbers, and names, "
    "contact data, dates, free text and identifiers are withheld. It shows which transform "
    "made each field and whether Twenty holds what was sent."
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
        row.patient,
        row.object_name,
        row.field,
        row.transform,
        row.source,
        _text(row.sent),
        _text(row.read),
        "yes" if row.transformed else "",
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
.share{border:2px solid #060;background:#efe;padding:.75rem}
table{border-collapse:collapse;font-size:.85rem;margin-bottom:1.5rem}
table.diff{width:100%}
th,td{border:1px solid #ccc;padding:.25rem .4rem;vertical-align:top;text-align:left}
th{background:#eee}td.n{text-align:right}
tr.rec th{background:#dde6f3}
tr.no td{background:#fdd}tr.na td{background:#f4f4f4;color:#555}
td.v{white-space:pre-wrap;font-family:ui-monospace,monospace}
.filters{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ccc}
"""

# Hides the field rows the ticked filters exclude, and records left with no row; keeps the
# count of rows shown. Runs on the page itself: nothing is fetched.
_SCRIPT = """
function ferryFilter(){
 var t=document.getElementById('only-transformed').checked;
 var d=document.getElementById('only-differences').checked;
 var shown=0;
 document.querySelectorAll('tbody.record').forEach(function(b){
  var any=false;
  b.querySelectorAll('tr.f').forEach(function(r){
   var ok=(!t||r.dataset.t==='1')&&(!d||r.dataset.d==='1');
   r.hidden=!ok; if(ok){any=true;shown++;}
  });
  b.hidden=!any;
 });
 document.getElementById('shown').textContent=String(shown);
}
document.getElementById('only-transformed').addEventListener('change',ferryFilter);
document.getElementById('only-differences').addEventListener('change',ferryFilter);
ferryFilter();
"""


def _is_difference(row: DiffRow) -> bool:
    return row.agrees is False


def _table(head: list[str], rows: list[list[Any]], css: str) -> str:
    esc = html.escape
    top = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c:,}</td>' if isinstance(c, int) else f"<td>{esc(str(c))}</td>"
            for c in row
        )
        + "</tr>\n"
        for row in rows
    )
    return f'<table class="{css}"><thead><tr>{top}</tr></thead><tbody>\n{body}</tbody></table>\n'


def _object_summary(diff: SampleDiff) -> str:
    records: dict[str, set[str]] = {}
    counts: dict[str, Counter[str]] = {}
    for row in diff.rows:
        # a record not sent has no Twenty object: it is counted under its export entity
        entity = row.stream_id.partition(":")[0].partition(" #")[0]
        name = row.object_name or f"{entity} (not sent)"
        records.setdefault(name, set()).add(row.stream_id)
        count = counts.setdefault(name, Counter())
        if row.field == "(record)" and row.agrees is None:
            count["not sent"] += 1
            continue
        count["fields"] += 1
        count["transformed"] += row.transformed
        count["differences"] += _is_difference(row)
    rows = [
        [name, len(records[name]), c["fields"], c["transformed"], c["differences"], c["not sent"]]
        for name, c in sorted(counts.items())
    ]
    head = ["object", "records", "fields", "transformed", "differences", "records not sent"]
    return _table(head, rows, "summary objects")


def _field_summary(diff: SampleDiff) -> str:
    counts: dict[tuple[str, str, str], Counter[str]] = {}
    for row in diff.rows:
        if row.field == "(record)":
            continue
        count = counts.setdefault((row.object_name, row.field, row.transform), Counter())
        count["rows"] += 1
        count["transformed"] += row.transformed
        count["differences"] += _is_difference(row)
    rows = [
        [o, f, t or "(derived)", c["rows"], c["transformed"], c["differences"]]
        for (o, f, t), c in sorted(counts.items())
    ]
    head = ["object", "field", "transform", "records", "transformed", "differences"]
    return _table(head, rows, "summary fields")


def _record_rows(diff: SampleDiff) -> tuple[str, int]:
    esc = html.escape
    out, fields = [], 0
    span = len(CSV_COLUMNS) - 3
    for stream_id, group in groupby(diff.rows, key=lambda r: r.stream_id):
        rows = list(group)
        name = rows[0].object_name or "not sent"
        patient = rows[0].patient
        of = f"{esc(patient)} › " if patient and patient != stream_id else ""
        out.append(
            f'<tbody class="record"><tr class="rec"><th colspan="{span}">{of}{esc(stream_id)} '
            f"({esc(name)}, {len(rows)} row(s))</th></tr>"
        )
        for row in rows:
            fields += 1
            kind = "na" if row.agrees is None else ("ok" if row.agrees else "no")
            cells = _cells(row)[3:]
            tds = "".join(
                f'<td class="v">{esc(c)}</td>' if i in (2, 3, 4) else f"<td>{esc(c)}</td>"
                for i, c in enumerate(cells)
            )
            flags = f'data-t="{int(row.transformed)}" data-d="{int(_is_difference(row))}"'
            out.append(f'<tr class="f {kind}" {flags}>{tds}</tr>')
        out.append("</tbody>")
    return "\n".join(out), fields


def render_diff_html(
    diff: SampleDiff, *, title: str = "Sample field-level diff", shareable: bool = False
) -> str:
    """The diff as one self-contained, escaped HTML page: summaries, filters, records."""
    esc = html.escape
    records, fields = _record_rows(diff)
    transformed = sum(1 for r in diff.rows if r.transformed)
    summary = (
        f"Run {esc(diff.run_id or '?')}: {diff.records:,} records, {fields:,} rows, "
        f"{transformed:,} transformed, {diff.disagreements:,} that did not read back as sent."
    )
    notice = (
        f'<p class="share">{esc(SHAREABLE_NOTICE)}</p>'
        if shareable
        else f'<p class="phi">{esc(PHI_NOTICE)}</p>'
    )
    head = "".join(f"<th>{esc(c)}</th>" for c in CSV_COLUMNS[3:])
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>\n"
        f"{notice}\n<h1>{esc(title)}</h1>\n<p>{summary}</p>\n"
        "<p>Source: the export columns that feed the field (or the custom-field rows it is "
        "derived from, with their line). Transform: how the source became the value sent. "
        "Sent: the value Ferry sent. Read back: the value Twenty holds now. Transformed: the "
        "value sent is not the source text as it stands. Agrees: sent and read back are the "
        "same under Twenty's own normalisations (emails lower-cased, instants, amounts).</p>\n"
        "<h2>Summary per object</h2>\n"
        + _object_summary(diff)
        + "<h2>Summary per field</h2>\n"
        + _field_summary(diff)
        + "<h2>Records</h2>\n"
        '<div class="filters"><label><input type="checkbox" id="only-transformed"> '
        'transformed only</label> <label><input type="checkbox" id="only-differences"> '
        f'differences only</label> <span id="shown">{fields}</span> of {fields:,} rows shown'
        "</div>\n"
        f'<table class="diff"><thead><tr>{head}</tr></thead>\n'
        + records
        + f"\n</table><script>{_SCRIPT}</script></body></html>\n"
    )

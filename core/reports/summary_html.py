"""`reports/summary.html`: the one page a practice owner reads at hand-off.

Self-contained: inline CSS and an inline SVG chart, no script and no external resource, so
it opens offline and can be mailed or printed. Keys, codes, member names, times and hashes
only (what `core.reports.summary` gathers); every text is escaped.
"""

from __future__ import annotations

import html
import re

from core.reports.summary import Approval, ChainHead, KeyedCount, ObjectCount, SummaryFacts

__all__ = ["render_summary_html"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;
color:#1d2330;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d6dae3;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}
th,td{border:1px solid #d6dae3;padding:.3rem .5rem;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f1f3f7}
.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}
.clean{background:#e3f5e8;border:1px solid #5aa86d}
.open{background:#fff4dc;border:1px solid #d6a232}
.muted{color:#5b6375;font-size:.9rem}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
svg text{font-family:system-ui,sans-serif;font-size:12px;fill:#1d2330}
@media print{body{margin:0}}
"""
_SOURCE_COLOUR, _TWENTY_COLOUR = "#8a94a8", "#2f6fd6"


def _e(value: object) -> str:
    return html.escape(str(value))


def _n(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _when(instant: str) -> str:
    """`2026-12-03T19:24:22.676578Z` -> `2026-12-03 19:24:22 UTC` (other text unchanged)."""
    if len(instant) >= 19 and instant[10] == "T":
        return f"{instant[:10]} {instant[11:19]} UTC"
    return instant


def _verdict_html(text: str) -> str:
    """The reconciliation's Markdown verdict as HTML (emphasis dropped, code kept)."""
    escaped = _e(text.replace("**", ""))
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escaped)


def render_summary_html(facts: SummaryFacts) -> str:
    """The summary as one self-contained HTML page."""
    state = "clean" if facts.is_clean else "open"
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Migration summary</title><style>{_STYLE}</style></head><body>",
        "<h1>Migration summary</h1>",
        '<p class="muted">Dental-Exec export into Twenty CRM · written '
        f"{_e(_when(facts.generated_at))}"
        " · record keys and codes only, no patient values</p>",
        f'<div class="verdict {state}" id="verdict">{_verdict_html(facts.verdict)}</div>',
    ]
    if facts.deletes_waiting:
        parts.append(
            f"<p>{facts.deletes_waiting:,} record(s) removed in the source are still live in "
            "Twenty: <code>ferry delta EXPORT --apply-deletes</code>.</p>"
        )
    parts += _objects_html(facts.objects)
    parts += _lists_html(facts)
    parts += _approvals_html(facts.approvals)
    parts += _chain_html(facts.chain)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _objects_html(objects: list[ObjectCount]) -> list[str]:
    head = ("object", "source rows", "in Twenty", "verified", "rejected", "skipped", "work left")
    out = ["<h2>Records: source and Twenty</h2>", _chart_svg(objects)]
    out.append('<table id="counts"><thead><tr>')
    out.append("".join(f"<th{'' if i == 0 else ' class=n'}>{h}</th>" for i, h in enumerate(head)))
    out.append("</tr></thead><tbody>")
    for o in objects:
        cells = (o.source_rows, o.in_twenty, o.verified, o.rejected, o.skipped, o.open)
        numbers = "".join(f'<td class="n">{_n(c)}</td>' for c in cells)
        out.append(f"<tr><td>{_e(o.entity)}</td>{numbers}</tr>")
    out.append("</tbody></table>")
    out.append(
        '<p class="muted">Source rows are counted in the export files; "–": the object has no '
        "file of its own (made from other rows). In Twenty: records Ferry wrote and Twenty "
        "holds; verified: read back and found as sent. Skipped: not records of their own in "
        "Twenty (providers become workspace members, custom fields fold into their record) "
        "or left out on purpose; <code>ferry report reconciliation</code> gives the reasons.</p>"
    )
    return out


def _chart_svg(objects: list[ObjectCount]) -> str:
    """Two horizontal bars per object: rows in the source, records in Twenty."""
    widest = max([o.source_rows or 0 for o in objects] + [o.in_twenty for o in objects] + [1])
    label_w, bar_w, row_h = 130, 420, 34
    height = 30 + row_h * len(objects)
    out = [
        f'<svg id="chart" role="img" aria-label="Records per object: source and Twenty" '
        f'xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{height}">',
        f'<rect x="{label_w}" y="4" width="12" height="10" fill="{_SOURCE_COLOUR}"/>'
        f'<text x="{label_w + 16}" y="13">source rows</text>'
        f'<rect x="{label_w + 110}" y="4" width="12" height="10" fill="{_TWENTY_COLOUR}"/>'
        f'<text x="{label_w + 126}" y="13">in Twenty</text>',
    ]
    for i, o in enumerate(objects):
        y = 26 + i * row_h
        out.append(f'<text x="0" y="{y + 16}">{_e(o.entity)}</text>')
        for j, (value, colour) in enumerate(
            ((o.source_rows, _SOURCE_COLOUR), (o.in_twenty, _TWENTY_COLOUR))
        ):
            width = round(bar_w * (value or 0) / widest)
            top = y + j * 13
            out.append(
                f'<rect class="bar" x="{label_w}" y="{top}" width="{width}" height="11" '
                f'fill="{colour}"><title>{_e(o.entity)}: {_n(value)}</title></rect>'
                f'<text x="{label_w + width + 4}" y="{top + 10}">{_n(value)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def _keyed_html(title: str, anchor: str, found: KeyedCount) -> list[str]:
    out = [f'<h2 id="{anchor}">{_e(title)}: {found.total:,}</h2>']
    if not found.total:
        return [*out, "<p>None.</p>"]
    out.append("<ul>")
    out += [f"<li><code>{_e(code)}</code>: {count:,}</li>" for code, count in found.by_code.items()]
    out.append("</ul>")
    more = " …" if len(found.keys) < found.total else ""
    keys = ", ".join(f"<code>{_e(k)}</code>" for k in found.keys)
    out.append(f"<p>Records: {keys}{more}</p>")
    return out


def _lists_html(facts: SummaryFacts) -> list[str]:
    out = _keyed_html("Rejected records", "rejected", facts.rejected)
    out.append('<p class="muted">Every reason: <code>ferry report rejected</code>.</p>')
    out += _keyed_html("Assigned to the default member", "defaulted", facts.defaulted)
    out.append('<p class="muted">By field and provider code: <code>ferry report '
               "member-defaults</code>.</p>")  # fmt: skip
    out += _keyed_html("Conflicts with existing records", "conflicts", facts.conflicts)
    out.append('<p class="muted">Each with its resolution: <code>ferry report '
               "conflicts</code>.</p>")  # fmt: skip
    return out


def _approvals_html(approvals: list[Approval]) -> list[str]:
    out = ['<h2>Approvals</h2><table id="approvals"><thead><tr><th>sign-off</th><th>by</th>'
           "<th>when</th><th>what</th></tr></thead><tbody>"]  # fmt: skip
    for a in approvals:
        if a.user:
            out.append(
                f"<tr><td>{_e(a.what)}</td><td>{_e(a.user)}</td><td>{_e(_when(a.at))}</td>"
                f"<td>{_e(a.detail)}</td></tr>"
            )
        else:
            out.append(f'<tr><td>{_e(a.what)}</td><td colspan="3">not yet</td></tr>')
    out.append("</tbody></table>")
    return out


def _chain_html(chain: ChainHead) -> list[str]:
    out = [
        '<h2>Audit trail</h2><p id="chain">Every step is an event in an append-only, '
        f"hash-chained log. Its head: position <strong>{chain.position:,}</strong>, hash "
        f"<code>{_e(chain.hash)}</code>.</p>"
    ]
    if not chain.anchor:
        out.append("<p>No anchor written yet (<code>ferry events anchor</code>).</p>")
    elif chain.anchor_problem:
        problem = _e(chain.anchor_problem).replace(
            "`ferry events anchor`", "<code>ferry events anchor</code>"
        )
        out.append(f"<p>Latest anchor <code>{_e(chain.anchor)}</code>: {problem}.</p>")
    else:
        holds = "the log still holds it" if chain.anchor_holds else "the log NO LONGER holds it"
        out.append(
            f"<p>Latest anchor <code>{_e(chain.anchor)}</code>: position "
            f"{chain.anchor_position:,}, taken {_e(_when(chain.anchor_at))}; {holds}. Check with "
            "<code>ferry events verify --anchor FILE</code>.</p>"
        )
    return out

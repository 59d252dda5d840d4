"""The mapping document as Markdown and as one self-contained HTML page (no script, no
network), both written owner-only into `reports/`."""

from __future__ import annotations

import html
from pathlib import Path

from core.reports.files import write_private
from core.reports.mapping_document import (
    DocumentFile,
    DocumentValueMap,
    MappingDocument,
    mapping_document,
)
from core.reports.mapping_document import unplaced_guidance as _guidance
from events.store import EventStore

__all__ = [
    "SIGN_OFF_ROLES",
    "render_mapping_html",
    "render_mapping_markdown",
    "write_documents",
    "write_mapping_report",
]

SIGN_OFF_ROLES = ("Practice (owner or manager)", "Migration operator")
_SIGN_FIELDS = ("Name", "Role", "Date", "Signature")
_NO_FIELD = "Columns with no Twenty field, and why"
_COLUMNS = ("Column", "Twenty field", "How", "Value map", "Confidence", "Evidence")
_INTRO = (
    "Every column of every file of the Dental-Exec export, and what it becomes in Twenty. "
    "Columns that are not migrated are listed with the reason. Value maps say which option "
    "each code of the export becomes. The sign-off at the end applies to the mapping whose "
    "SHA-256 is printed there, and to no other."
)


def write_documents(document: MappingDocument, markdown: Path) -> tuple[Path, Path]:
    """Write `markdown` and the HTML beside it (same name, `.html`); return both paths."""
    page = markdown.with_suffix(".html")
    write_private(markdown, render_mapping_markdown(document))
    write_private(page, render_mapping_html(document))
    return markdown, page


def _md(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _counts(document: MappingDocument) -> str:
    skipped = len(document.not_migrated)
    return (
        f"{len(document.files)} files, {document.column_count} columns: "
        f"{document.column_count - skipped} to a Twenty field, "
        f"{skipped} with no field of their own (each with its reason)"
    )


def render_mapping_markdown(document: MappingDocument) -> str:
    """The document as Markdown."""
    lines = ["# Mapping: Dental-Exec export to Twenty", "", _INTRO, ""]
    lines += [f"- Export: {_md(document.source or '(not named)')}"]
    lines += [f"- Mapping SHA-256: `{document.mapping_hash}`"]
    lines += [f"- Status: {_md(document.confirmation)}", f"- {_counts(document)}", ""]
    for file in document.files:
        lines += _file_markdown(file)
    lines += [f"## {_NO_FIELD}", "", "| File | Column | Why |", "|---|---|---|"]
    lines += [f"| {_md(f.file)} | {_md(c.header)} | {_md(c.reason)} |" for f, c in
              document.not_migrated]  # fmt: skip
    lines += ["", "## Value maps", ""]
    for value_map in document.value_maps:
        lines += _value_map_markdown(value_map)
    lines += _sign_off_markdown(document)
    return "\n".join(lines) + "\n"


def _file_markdown(file: DocumentFile) -> list[str]:
    target = f"Twenty object `{file.target}`" if file.target else "no records of its own"
    lines = [f"## {_md(file.file)} ({target})", ""]
    if file.note:
        lines += [_md(file.note[0].upper() + file.note[1:]) + ".", ""]
    lines += ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for c in file.columns:
        field = c.target or f"no field: {c.reason}"
        cells = (c.header, field, c.how, c.value_map, f"{c.confidence:.2f}", c.evidence)
        lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    return [*lines, ""]


def _value_map_markdown(value_map: DocumentValueMap) -> list[str]:
    lines = [f"### {_md(value_map.name)} -> `{value_map.target}`", ""]
    fallback = value_map.fallback or "none: a code not listed rejects its row"
    lines += [f"Fallback: {_md(fallback)}", "", "| Code | Option |", "|---|---|"]
    lines += [f"| {_md(code)} | {_md(option)} |" for code, option in value_map.values]
    if value_map.unplaced:
        lines += ["", f"Unplaced codes ({len(value_map.unplaced)}):", ""]
        lines += [f"- {_md(_guidance(value_map, code))}" for code in value_map.unplaced]
    return [*lines, ""]


def _sign_off_markdown(document: MappingDocument) -> list[str]:
    lines = ["## Sign-off", ""]
    lines += [f"Mapping SHA-256: `{document.mapping_hash}`", ""]
    lines += ["By signing, I confirm this mapping is how the practice's data is to be moved.", ""]
    for role in SIGN_OFF_ROLES:
        lines += [f"**{role}**", "", "Name: ______________________________", ""]
        lines += [
            "Role: ______________________________",
            "",
            "Date: ______________________________",
        ]
        lines += ["", "Signature: _________________________", ""]
    return lines


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:80rem}
table{border-collapse:collapse;font-size:.85rem;width:100%;margin-bottom:1rem}
th,td{border:1px solid #ccc;padding:.25rem .4rem;vertical-align:top;text-align:left}
th{background:#eee}td.low{background:#fde8c8}td.skip{color:#666;font-style:italic}
code{font-size:.85rem;word-break:break-all}
.sign{border:2px solid #333;padding:1rem;margin-top:2rem;page-break-inside:avoid}
.sign dl{display:grid;grid-template-columns:8rem 1fr;gap:1.2rem .5rem}
.sign dd{border-bottom:1px solid #333;margin:0;min-height:1.2rem}
@media print{body{margin:0}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_mapping_html(document: MappingDocument) -> str:
    """The document as one self-contained HTML page (no script, no external resource)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Mapping: Dental-Exec export to Twenty</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Mapping: Dental-Exec export to Twenty</h1>",
        f"<p>{_e(_INTRO)}</p><ul>",
        f"<li>Export: {_e(document.source or '(not named)')}</li>",
        f'<li>Mapping SHA-256: <code id="hash">{_e(document.mapping_hash)}</code></li>',
        f"<li>Status: {_e(document.confirmation)}</li><li>{_e(_counts(document))}</li></ul>",
    ]
    for file in document.files:
        parts.append(_file_html(file))
    parts.append(f'<h2>{_NO_FIELD}</h2><table id="not-migrated"><thead><tr>')
    parts.append("<th>File</th><th>Column</th><th>Why</th></tr></thead><tbody>")
    for file, column in document.not_migrated:
        parts.append(f"<tr><td>{_e(file.file)}</td><td>{_e(column.header)}</td>")
        parts.append(f"<td>{_e(column.reason)}</td></tr>")
    parts.append("</tbody></table><h2>Value maps</h2>")
    parts.extend(_value_map_html(value_map) for value_map in document.value_maps)
    parts.append(_sign_off_html(document))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _file_html(file: DocumentFile) -> str:
    target = f"Twenty object {file.target}" if file.target else "no records of its own"
    rows = []
    for c in file.columns:
        field = _e(c.target) if c.target else f'<span class="skip">no field: {_e(c.reason)}</span>'
        low = ' class="low"' if c.confidence < 0.8 else ""
        rows.append(
            f"<tr><td>{_e(c.header)}</td><td>{field}</td><td>{_e(c.how)}</td>"
            f"<td>{_e(c.value_map)}</td><td{low}>{c.confidence:.2f}</td><td>{_e(c.evidence)}</td></tr>"
        )
    head = "".join(f"<th>{_e(name)}</th>" for name in ("Column", *_COLUMNS[1:]))
    return (
        f"<h2>{_e(file.file)} ({_e(target)})</h2>"
        + (f"<p>{_e(file.note[0].upper() + file.note[1:])}.</p>" if file.note else "")
        + f'<table class="columns" data-file="{_e(file.file)}">'
        + f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _value_map_html(value_map: DocumentValueMap) -> str:
    fallback = value_map.fallback or "none: a code not listed rejects its row"
    rows = "".join(f"<tr><td>{_e(c)}</td><td>{_e(o)}</td></tr>" for c, o in value_map.values)
    unplaced = ""
    if value_map.unplaced:
        items = "".join(f"<li>{_e(_guidance(value_map, code))}</li>" for code in value_map.unplaced)
        unplaced = f"<p>Unplaced codes ({len(value_map.unplaced)}):</p><ul>{items}</ul>"
    return (
        f"<h3>{_e(value_map.name)} &rarr; {_e(value_map.target)}</h3>"
        f"<p>Fallback: {_e(fallback)}</p>"
        f'<table class="value-map"><thead><tr><th>Code</th><th>Option</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>{unplaced}"
    )


def _sign_off_html(document: MappingDocument) -> str:
    blocks = []
    for role in SIGN_OFF_ROLES:
        fields = "".join(
            f"<dt>{name}</dt><dd></dd>" for name in ("Name", "Role", "Date", "Signature")
        )
        blocks.append(f"<h3>{_e(role)}</h3><dl>{fields}</dl>")
    return (
        '<section class="sign" id="sign-off"><h2>Sign-off</h2>'
        f"<p>Mapping SHA-256: <code>{_e(document.mapping_hash)}</code></p>"
        "<p>By signing, I confirm this mapping is how the practice's data is to be moved.</p>"
        f"{''.join(blocks)}</section>"
    )


def write_mapping_report(
    mapping_path: Path, markdown: Path, store: EventStore | None = None
) -> tuple[Path, Path]:
    """Write the mapping document of `mapping_path` as `markdown` and its `.html` twin.

    Raises:
        MappingError: when the mapping is missing or invalid.
    """
    return write_documents(mapping_document(mapping_path, store), markdown)

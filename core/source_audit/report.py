"""Renderings of an AuditReport: JSON-ready data, Markdown, and a terminal summary.

All three show record keys, files and lines, never patient values.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.source_audit.findings import FINDING_CODES, AuditReport


def to_json_data(report: AuditReport) -> dict[str, Any]:
    """The report as plain data: `files` by name, `findings` as {code, file, line, key, message}."""
    files = {
        f.name: {
            "entity": f.entity,
            "rows": f.rows,
            "error_rows": f.error_rows,
            "encoding": f.encoding,
            "headers_recognised": sorted(f.headers_recognised),
            "headers_unknown": list(f.headers_unknown),
            "columns_missing": list(f.columns_missing),
            "headers_repeated": [list(item) for item in f.headers_repeated],
            "notes": list(f.notes),
        }
        for f in report.files
    }
    return {
        "export": report.export,
        "info": msgspec.to_builtins(report.info),
        "files": files,
        "unknown_files": report.unknown_files,
        "files_absent": [f.file for f in report.findings if f.code == "missing_file"],
        "counts": report.counts,
        "findings": [msgspec.to_builtins(finding) for finding in report.findings],
    }


def render_terminal(report: AuditReport) -> list[str]:
    """Short lines for the terminal: inventory, counts per code, the first findings per code."""
    lines = [f"Export: {report.export}"]
    for f in report.files:
        notes = "; ".join(f.notes)
        lines.append(f"  {f.name:<36} {f.encoding:<10} {f.rows or 0:>9} rows  {notes}")
    for finding in report.findings:
        if finding.code == "missing_file":
            lines.append(f"  {finding.file:<36} ABSENT     {finding.message}")
    lines.append("Findings:" if report.counts else "Findings: none")
    for code, count in report.counts.items():
        lines.append(f"  {code:<28} {count:>7}")
    shown: dict[str, int] = {}
    for finding in report.findings:
        shown[finding.code] = shown.get(finding.code, 0) + 1
        if shown[finding.code] <= 3:
            where = f"{finding.file}:{finding.line}" if finding.line else finding.file
            lines.append(f"    {finding.code}: {where} key={finding.key} - {finding.message}")
    return lines


def render_markdown(report: AuditReport) -> str:
    """A Markdown report: inventory table, counts, then every finding kept."""
    out = [f"# Source audit: `{report.export}`", ""]
    info = report.info
    kind = "delta since " + str(info.modified_since) if info.is_delta else "full export"
    out += [f"{info.product or 'unknown product'}, exported {info.exported_at}, {kind}.", ""]
    out += ["| File | Entity | Encoding | Rows | Rows with errors | Unknown headers | Notes |"]
    out += ["|---|---|---|---:|---:|---|---|"]
    for f in report.files:
        unknown = ", ".join(f.headers_unknown)
        notes = "; ".join(f.notes)
        out.append(
            f"| {f.name} | {f.entity} | {f.encoding} | {f.rows} | {f.error_rows} | "
            f"{unknown} | {notes} |"
        )
    if report.unknown_files:
        out += ["", "Files not part of the format: " + ", ".join(report.unknown_files)]
    absent = [f.file for f in report.findings if f.code == "missing_file"]
    if absent:
        out += ["", "Files of the format absent from this export: " + ", ".join(absent)]
    out += ["", "## Findings", "", "| Code | Count | Meaning |", "|---|---:|---|"]
    for code, count in report.counts.items():
        out.append(f"| {code} | {count} | {FINDING_CODES.get(code, '')} |")
    out += ["", "| Code | File:line | Key | Message |", "|---|---|---|---|"]
    for finding in report.findings:
        out.append(
            f"| {finding.code} | {finding.file}:{finding.line} | {finding.key} | "
            f"{finding.message} |"
        )
    return "\n".join(out) + "\n"

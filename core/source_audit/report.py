"""Renderings of an AuditReport: JSON-ready data, Markdown, and a terminal summary.

All three show record keys, files and lines, never patient values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from core.source_audit.findings import AuditReport
from core.source_audit.fixups import FIXUP_FILES, write_fixups
from core.source_audit.plain import render_manager_markdown
from events.private_files import write_private


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
        "incomplete_patients": incomplete_counts(report),
        "fixup_rows": {FIXUP_FILES[name][0]: len(report.fixups.rows(name)) for name in FIXUP_FILES},
    }


def incomplete_counts(report: AuditReport) -> dict[str, int]:
    """Patients who will arrive in Twenty without a phone, an email of their own, an owner."""
    rows = report.fixups.incomplete
    return {
        flag: sum(1 for row in rows if row[flag]) for flag in ("no_phone", "no_email", "no_owner")
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
    gaps = incomplete_counts(report)
    lines.append(
        f"Patients who will be incomplete in Twenty: {gaps['no_phone']:,} without a phone, "
        f"{gaps['no_email']:,} without an email of their own, {gaps['no_owner']:,} without an owner"
    )
    return lines


def render_markdown(report: AuditReport) -> str:
    """The Markdown report: findings grouped by what to do, in plain words (`plain.py`)."""
    return render_manager_markdown(report)


def write_audit_files(report: AuditReport, out: Path) -> list[tuple[Path, int | None]]:
    """Write the Markdown report to `out` and the fix-up lists as CSV beside it, all
    owner-only; (path, rows or None for the report) per file written."""
    written: list[tuple[Path, int | None]] = [(write_private(out, render_markdown(report)), None)]
    written += write_fixups(report.fixups, out.parent)
    return written

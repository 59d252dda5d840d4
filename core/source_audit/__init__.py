"""`ferry source audit`: inventory and data-quality findings computed from a Source, streaming.

Only keys, small hashes and counters are kept between rows, so memory grows with the number
of records' keys, never with their content.
"""

from __future__ import annotations

from datetime import date

from core.export_format import file_for_entity
from core.ports.source import RowError, Source, SourceFile
from core.source_audit.checks import Checks
from core.source_audit.findings import FINDING_CODES, AuditReport, Finding, FindingSink
from core.source_audit.readiness import absent_files, file_label
from core.source_audit.references import References
from core.source_audit.report import (
    render_markdown,
    render_terminal,
    to_json_data,
    write_audit_files,
)

__all__ = [
    "DEFAULT_SIZE_LIMIT",
    "FINDING_CODES",
    "AuditReport",
    "Finding",
    "audit_source",
    "render_markdown",
    "render_terminal",
    "to_json_data",
    "write_audit_files",
]

DEFAULT_SIZE_LIMIT = 100 * 1024 * 1024  # bytes; larger attachments are reported as oversized


def audit_source(
    source: Source,
    *,
    as_of: date | None = None,
    size_limit: int = DEFAULT_SIZE_LIMIT,
    per_code_limit: int | None = None,
) -> AuditReport:
    """Read every entity once and return the inventory and findings.

    `as_of` dates the Q20 checks (default: the export's `Exported` date). Orphan references
    are not checked in a delta export (its rows point at records it does not repeat).
    """
    info = source.export_info()
    as_of = as_of or (info.exported_at.date() if info.exported_at else None)
    sink = FindingSink(per_code_limit)
    references = References(sink)
    checks = Checks(sink, as_of, size_limit)
    custom_keys: set[int] = set()
    for entity in source.entities():
        for row in source.rows(entity):
            for error in row.errors:
                sink.add(error.code, error.file, error.line, row.key, _error_text(error))
            if row.entity == "custom_field" and row.key is not None:
                if not _first_time(custom_keys, row.key):
                    sink.add("duplicate_key", row.file, row.line, row.key, "key seen before")
            elif not references.remember(row):
                sink.add("duplicate_key", row.file, row.line, row.key, "key seen before")
            if not info.is_delta:
                references.check(row)
            checks.run(row)
        references.finish(entity)
    checks.ledger.finish()
    if not info.is_delta:
        references.check_pending(set(source.entities()))
    files = source.inventory()
    _header_findings(sink, files)
    for entity in absent_files(source):
        sink.add(
            "missing_file",
            file_label(entity),
            None,
            None,
            "absent from the export; export it, or acknowledge it at "
            f"`ferry map confirm --allow-missing {file_for_entity(entity).prefix}`",
        )
    unknown = list(getattr(source, "unknown_files", []))
    return AuditReport(
        source.location,
        info,
        files,
        unknown,
        sink.findings,
        dict(sorted(sink.counts.items())),
        sink.fixups,
    )


def _first_time(seen: set[int], key: str) -> bool:
    digest = hash(key)
    if digest in seen:
        return False
    seen.add(digest)
    return True


def _error_text(error: RowError) -> str:
    return f"{error.column}: {error.message}" if error.column else error.message


def _header_findings(sink: FindingSink, files: list[SourceFile]) -> None:
    for file in files:
        spec = file_for_entity(file.entity)
        for header in file.headers_unknown:
            sink.add("unknown_header", file.name, 1, None, f"header {header!r} matches no column")
        for header, first, second in file.headers_repeated:
            sink.add(
                "repeated_header",
                file.name,
                1,
                None,
                f"column {header!r} appears twice (columns {first} and {second})",
            )
        for column in file.columns_missing:
            if spec.column(column).required:
                sink.add("missing_column", file.name, 1, None, f"required column {column} absent")

"""Audit findings and the report that holds them."""

from __future__ import annotations

from collections import Counter

import msgspec

from core.ports.source import ExportInfo, SourceFile
from core.source_audit.fixups import FixUps

__all__ = ["FINDING_CODES", "AuditReport", "Finding", "FindingSink"]

# Every code the audit emits, with what it means (docs/source.md lists the same).
FINDING_CODES: dict[str, str] = {
    "column_count": "row has more or fewer fields than the header",
    "undecodable_bytes": "bytes not valid in the file's encoding",
    "broken_quoting": "unbalanced or stray quote",
    "missing_required": "a required value is empty",
    "bad_integer": "an ID or count is not a whole number",
    "bad_value": "a required date, time or amount does not parse",
    "bad_key": "the primary key is not a positive ID",
    "duplicate_key": "two rows share one primary key",
    "duplicate_patient": "same normalised name and birth date (or phone) as another patient (Q7)",
    "orphan_reference": "a foreign key points to a record the export does not hold",
    "provider_without_email": "staff member without an email (Q9)",
    "provider_shared_email": "staff member shares an email with another (Q9)",
    "invalid_npi": "NPI is not 10 digits with a valid check digit (section 4.9)",
    "placeholder_email": "email is a placeholder such as none@none.com or 'refused' (Q8)",
    "invalid_email": "email is not an address",
    "family_shared_email": "email shared with another member of the same family (Q8)",
    "shared_email": "email shared with an unrelated patient",
    "lost_character": "a name holds '?' where a character was lost in Windows-1252 (Q1)",
    "oversized_attachment": "attachment larger than the storage limit",
    "bad_file_size": "attachment size does not parse",
    "status_date_contradiction": "status disagrees with the dates (Q20)",
    "ambiguous_local_time": "local time in a DST change; resolved to the first occurrence (Q19)",
    "unknown_custom_field": "custom-field key the format does not know; reported, not dropped",
    "unknown_header": "header matches no known column; values kept under ?<header>",
    "missing_column": "a column of the format is absent from the header",
    "repeated_header": "a column appears twice in the header; the second copy is not used",
    "control_character": "a value holds NUL, another control character or a byte-order mark",
    "missing_file": "a file of the format is absent from a full export",
}


class Finding(msgspec.Struct, frozen=True):
    """One data-quality finding: a code, where (file, line), the record key, and what is wrong."""

    code: str
    file: str
    line: int | None
    key: str | None
    message: str


class AuditReport(msgspec.Struct, frozen=True):
    """Inventory plus findings; `counts` are exact even when `findings` is capped per code."""

    export: str
    info: ExportInfo
    files: list[SourceFile]
    unknown_files: list[str]
    findings: list[Finding]
    counts: dict[str, int]
    fixups: FixUps = msgspec.field(default_factory=FixUps)


class FindingSink:
    """Collects findings, keeping at most `limit` per code (counts stay exact)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.findings: list[Finding] = []
        self.counts: Counter[str] = Counter()
        self.fixups = FixUps()

    def add(self, code: str, file: str, line: int | None, key: str | None, message: str) -> None:
        """Record one finding."""
        self.counts[code] += 1
        if self.limit is None or self.counts[code] <= self.limit:
            self.findings.append(Finding(code, file, line, key, message))

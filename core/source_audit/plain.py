"""The audit for a practice manager: findings grouped by what to do, in plain words.

Counts come first, examples after (file, line and record key, never a value). The finding
codes stay in the JSON output (`report.to_json_data`); this page does not show them.
"""

from __future__ import annotations

import re

from core.source_audit.findings import AuditReport, Finding
from core.source_audit.fixups import FIXUP_FILES

__all__ = ["GROUPS", "PLAIN", "render_manager_markdown"]

FRONT_DESK = "Fix in Dental-Exec before the cutover (front desk)"
OPERATOR = "Fix the export and export it again (operator)"
DECIDE = "Decide before the cutover (practice manager)"
INFO = "For information: nothing to do"
GROUPS = (FRONT_DESK, DECIDE, OPERATOR, INFO)

_REJECTED = "these rows are rejected: correct them in Dental-Exec and export again"

# code -> (group, what it is, what to do, fix-up list or "")
PLAIN: dict[str, tuple[str, str, str, str]] = {
    "duplicate_patient": (
        FRONT_DESK,
        "Patients entered twice",
        "decide for each pair whether they are one person (fill in `decision`), then "
        "`ferry source decide duplicates`; a pair left undecided arrives as two people",
        "duplicates",
    ),
    "placeholder_email": (
        FRONT_DESK,
        "Placeholder emails (such as none@...)",
        "enter the real email or clear the field; placeholders are not migrated",
        "emails",
    ),
    "invalid_email": (
        FRONT_DESK,
        "Emails that are not an address",
        "correct or clear them; they are kept as a note, not as an email",
        "emails",
    ),
    "shared_email": (
        FRONT_DESK,
        "One email used by patients of different families",
        "check whose address it is; in Twenty only one patient holds it, the others get it "
        "as a shared email",
        "emails",
    ),
    "orphan_reference": (
        FRONT_DESK,
        "Records pointing at a record that is not in the export",
        "link them to an existing record or clear the field; they are loaded without the link",
        "orphans",
    ),
    "lost_character": (
        FRONT_DESK,
        "Names with a lost accent or character (shown as ?)",
        "correct the name in Dental-Exec, or correct it in Twenty after the cutover",
        "",
    ),
    "status_date_contradiction": (
        FRONT_DESK,
        "Status that disagrees with the dates",
        "update the status (past appointments still Scheduled, active insurance past its end "
        "date, open treatment on a completed plan)",
        "",
    ),
    "invalid_npi": (
        FRONT_DESK,
        "NPI numbers that fail their check digit",
        "correct the NPI in Dental-Exec; an invalid NPI is not stored as the NPI",
        "",
    ),
    "provider_without_email": (
        DECIDE,
        "Staff without an email",
        "give them an email or map them to a Twenty member (`ferry members check`); otherwise "
        "their records go to the placeholder owner",
        "",
    ),
    "provider_shared_email": (
        DECIDE,
        "Staff sharing one email",
        "give each their own email or map them to members; one email matches one member",
        "",
    ),
    "unknown_custom_field": (
        DECIDE,
        "Custom fields Ferry does not know",
        "say whether they matter; they are kept with the record, not dropped",
        "",
    ),
    "oversized_attachment": (
        DECIDE,
        "Attachments over the storage limit",
        "decide where these files live: shrink them, or keep them outside Twenty",
        "",
    ),
    "family_shared_email": (
        INFO,
        "One email shared within a family",
        "nothing: the head of the family holds it in Twenty, the others get it as a shared email",
        "emails",
    ),
    "ambiguous_local_time": (
        INFO,
        "Times inside the autumn clock change (the hour happens twice)",
        "nothing: the first of the two is used; check these appointments if the hour matters",
        "",
    ),
    "bad_file_size": (OPERATOR, "Attachment sizes that do not read", _REJECTED, ""),
    "column_count": (OPERATOR, "Rows with the wrong number of columns", _REJECTED, ""),
    "undecodable_bytes": (OPERATOR, "Rows with unreadable characters", _REJECTED, ""),
    "broken_quoting": (OPERATOR, "Rows with broken quotes", _REJECTED, ""),
    "missing_required": (OPERATOR, "Rows missing a required value", _REJECTED, ""),
    "bad_integer": (OPERATOR, "IDs or counts that are not numbers", _REJECTED, ""),
    "bad_value": (OPERATOR, "Required dates or times that do not read", _REJECTED, ""),
    "bad_key": (OPERATOR, "Record IDs that are not numbers", _REJECTED, ""),
    "control_character": (OPERATOR, "Values holding hidden control characters", _REJECTED, ""),
    "duplicate_key": (
        OPERATOR,
        "Two rows with the same record ID",
        "only the first is migrated: check the export is not two exports pasted together",
        "",
    ),
    "unknown_header": (
        OPERATOR,
        "Columns Ferry does not recognise",
        "check the column is expected; its values are kept under its header",
        "",
    ),
    "missing_column": (
        OPERATOR,
        "Required columns absent",
        "export again with the column (its values would be lost)",
        "",
    ),
    "repeated_header": (
        OPERATOR,
        "Columns that appear twice",
        "delete one copy (keep the right one) or export again",
        "",
    ),
    "missing_file": (
        OPERATOR,
        "Files of the export that are absent",
        "export them, or acknowledge it at `ferry map confirm --allow-missing FILE`",
        "",
    ),
}
_EXAMPLES = 5
_QUIRK_ALONE = re.compile(r"\s*\(Q\d+\)")  # "trailer row (Q17)"
_QUIRK_LISTED = re.compile(r",\s*Q\d+\b")  # "(character lost, Q1)"
_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
_GAPS = (
    ("no_phone", "A phone", "no phone in Dental-Exec, or none that is a full number"),
    ("no_email", "An email of their own", "no email, a placeholder, or one held by another"),
    ("no_owner", "An owner", "no primary provider, or one who cannot be matched to a member"),
)


def _plain(text: str) -> str:
    """A message without the export reference's quirk numbers (`(Q7)`, `, Q1`)."""
    text = _QUIRK_LISTED.sub("", _QUIRK_ALONE.sub("", text)).strip()
    # snake_case words (`wrong_length`, `last_name`) read as words; commands in `` stay.
    parts = text.split("`")
    return "`".join(p if i % 2 else _SNAKE.sub(_words, p) for i, p in enumerate(parts))


def _words(match: re.Match[str]) -> str:
    return match.group(0).replace("_", " ")


def _fixup_name(code: str) -> str:
    name = PLAIN.get(code, ("", "", "", ""))[3]
    return f"`{FIXUP_FILES[name][0]}`" if name else ""


def _summary(report: AuditReport) -> list[str]:
    out: list[str] = []
    for group in GROUPS:
        codes = [c for c in report.counts if PLAIN.get(c, (OPERATOR,))[0] == group]
        if not codes:
            continue
        total = sum(report.counts[c] for c in codes)
        out += ["", f"### {group}: {total:,}", "", "| Finding | Count | What to do | List |"]
        out.append("|---|---:|---|---|")
        for code in sorted(codes, key=lambda c: -report.counts[c]):
            _, title, todo, _ = PLAIN.get(code, (OPERATOR, code, "", ""))
            out.append(f"| {title} | {report.counts[code]:,} | {todo} | {_fixup_name(code)} |")
    return out or ["", "No findings."]


def _gaps(report: AuditReport) -> list[str]:
    rows = report.fixups.incomplete
    out = ["", "## Patients who will be incomplete in Twenty", ""]
    out += ["Patients migrated (not deleted, no row error) who will arrive without:", ""]
    out += ["| Without | Patients | Why |", "|---|---:|---|"]
    for flag, label, why in _GAPS:
        out.append(f"| {label} | {sum(1 for r in rows if r[flag]):,} | {why} |")
    out += ["", f"Each patient, with the reason: `{FIXUP_FILES['incomplete'][0]}`."]
    return out


def _example(finding: Finding) -> str:
    where = f"{finding.file} line {finding.line}" if finding.line else finding.file
    record = f", record {finding.key}" if finding.key else ""
    return f"- {where}{record}: {_plain(finding.message)}"


def _example_order(item: tuple[str, int]) -> tuple[int, int]:
    group = PLAIN.get(item[0], (OPERATOR,))[0]
    return GROUPS.index(group), -item[1]


def _examples(report: AuditReport) -> list[str]:
    out = ["", "## Examples", "", "File, line and record ID; open the record in Dental-Exec."]
    by_code: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_code.setdefault(finding.code, []).append(finding)
    for code, count in sorted(report.counts.items(), key=_example_order):
        title = PLAIN.get(code, ("", code, "", ""))[1]
        out += ["", f"**{title}** ({count:,})", ""]
        out += [_example(f) for f in by_code.get(code, [])[:_EXAMPLES]]
        if count > _EXAMPLES:
            where = _fixup_name(code) or "`ferry source audit --json`"
            out.append(f"- and {count - _EXAMPLES:,} more: see {where}")
    return out


def _lists(report: AuditReport) -> list[str]:
    out = ["", "## Fix-up lists", "", "CSV files beside this report (IDs and lines, no values):"]
    out.append("")
    for name, (file_name, _, purpose) in FIXUP_FILES.items():
        out.append(f"- `{file_name}` ({len(report.fixups.rows(name)):,} rows): {purpose}")
    out += [
        "",
        "In the duplicates list, write `merge` or `separate` in `decision` for each pair "
        "(for a merge, the patient to keep in `keep_patient_id`; empty keeps the one in "
        "`same_person_as`), then record the decisions with `ferry source decide duplicates "
        "fixup-duplicates.csv` before the sample. A merged patient is not created in Twenty: "
        "its appointments, plans and other records go to the kept patient. Rows left blank "
        "migrate both patients, as today.",
    ]
    return out


def _inventory(report: AuditReport) -> list[str]:
    out = ["", "## Files read", "", "| File | Rows | Rows with errors | Encoding | Notes |"]
    out.append("|---|---:|---:|---|---|")
    for f in report.files:
        notes = _plain("; ".join(f.notes))
        out.append(
            f"| {f.name} | {f.rows or 0:,} | {f.error_rows or 0:,} | {f.encoding} | {notes} |"
        )
    if report.unknown_files:
        out += ["", "Files not part of the format (not read): " + ", ".join(report.unknown_files)]
    return out


def render_manager_markdown(report: AuditReport) -> str:
    """The audit as a practice manager reads it: what to do, counts, then examples."""
    info = report.info
    kind = f"a delta since {info.modified_since}" if info.is_delta else "a full export"
    out = ["# Source audit", "", f"Export `{report.export}`: {kind}, exported {info.exported_at}."]
    out += ["", "Record IDs and line numbers only: this report holds no patient values."]
    out += ["", "## What to do"]
    out += _summary(report)
    out += _gaps(report)
    out += _lists(report)
    out += _examples(report)
    out += _inventory(report)
    return "\n".join(out) + "\n"

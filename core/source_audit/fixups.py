"""Fix-up lists: the rows the front desk works through in Dental-Exec, keys and lines only.

Each list is one CSV beside the audit report. Cells hold record keys, line numbers, column
names and plain problems, never a patient value: the front desk opens the record in
Dental-Exec by its ID. The duplicates list has `decision` and `keep_patient_id` columns
to fill in; `ferry source decide duplicates` reads them back (core.source_audit.decisions).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from core.reports.tabular import open_private, write_rows

__all__ = ["FIXUP_FILES", "FixUps", "write_fixups"]

Row = dict[str, str]

# List name -> (file name, columns, what the list is for).
FIXUP_FILES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "duplicates": (
        "fixup-duplicates.csv",
        ("patient_id", "line", "same_person_as", "matched_on", "decision", "keep_patient_id"),
        "patients that look like another patient: fill in `decision` (merge or separate), "
        "then `ferry source decide duplicates`",
    ),
    "phones": (
        "fixup-phones.csv",
        ("patient_id", "line", "column", "problem", "what_to_do"),
        "phone numbers Twenty cannot store as a phone",
    ),
    "emails": (
        "fixup-emails.csv",
        ("patient_id", "line", "problem", "shared_with_patient_id", "what_to_do"),
        "placeholder, invalid and shared emails",
    ),
    "orphans": (
        "fixup-orphans.csv",
        ("file", "line", "record_key", "column", "points_to", "what_to_do"),
        "records pointing at a record that is not in the export",
    ),
    "incomplete": (
        "fixup-incomplete-patients.csv",
        ("patient_id", "line", "no_phone", "no_email", "no_owner", "why"),
        "patients who will have no phone, no email of their own or no owner in Twenty",
    ),
}


class FixUps(msgspec.Struct):
    """The fix-up rows, one list per file of `FIXUP_FILES` (all rows, never capped)."""

    duplicates: list[Row] = msgspec.field(default_factory=list)
    phones: list[Row] = msgspec.field(default_factory=list)
    emails: list[Row] = msgspec.field(default_factory=list)
    orphans: list[Row] = msgspec.field(default_factory=list)
    incomplete: list[Row] = msgspec.field(default_factory=list)

    def rows(self, name: str) -> list[Row]:
        """The rows of one list by its name in `FIXUP_FILES`."""
        found: list[Row] = getattr(self, name)
        return found

    def add_orphan(
        self, file: str, line: int | None, key: str | None, column: str, target: str
    ) -> None:
        """A foreign key pointing at a `target` that is not in the export."""
        self.orphans.append(
            {
                "file": file,
                "line": "" if line is None else str(line),
                "record_key": key or "",
                "column": column,
                "points_to": target,
                "what_to_do": f"link it to an existing {target.replace('_', ' ')} in "
                "Dental-Exec, or clear the field",
            }
        )


def write_fixups(fixups: FixUps, folder: Path) -> list[tuple[Path, int]]:
    """Write every fix-up list as CSV in `folder`, owner-only; (path, rows) per file.

    Cells starting with `= + - @` are prefixed with `'` so a spreadsheet never runs them.
    """
    written: list[tuple[Path, int]] = []
    for name, (file_name, columns, _) in FIXUP_FILES.items():
        path = folder / file_name
        with open_private(path) as out:
            count = write_rows(out, fixups.rows(name), columns, "csv")
        written.append((path, count))
    return written

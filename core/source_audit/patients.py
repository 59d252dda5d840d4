"""What each patient will lack in Twenty: a phone, an email of their own, an owner.

Follows the mapping's rules: a phone is usable when it parses to a full number (cell, home,
work; `core.mapping.records.phones_value`); an email shared by several patients stays with
the head of the family, else the lowest patient ID (`core.mapping.prepass`), the others get it
as a shared email only; the owner is the primary provider, matched to a Twenty member by email.
Deleted rows are not migrated and not listed; rows with errors (rejected by the run) have
their phones listed but are not counted as incomplete patients. Only keys, lines and
small hashes are kept between rows.
"""

from __future__ import annotations

from core.export_format import file_for_entity
from core.ports.source import SourceRow
from core.source_audit.fixups import FixUps
from core.values import parse_email, parse_phone

__all__ = ["PatientLedger"]

_PHONE_COLUMNS = ("cell_phone", "home_phone", "work_phone")
_PHONE_PROBLEMS = {
    "no_area_code": "no area code (seven digits)",
    "placeholder": "a placeholder, not a number",
    "not_a_number": "not a phone number",
}
_PHONE_FIX = "enter the full number with area code, or clear the field"


class _Gap:
    """One patient's gaps, filled while reading and completed at the end (emails)."""

    __slots__ = ("flags", "key", "line", "reasons")

    def __init__(self, key: str, line: int) -> None:
        self.key, self.line = key, line
        self.reasons: list[str] = []
        self.flags: set[str] = set()

    def add(self, flag: str, reason: str) -> None:
        self.flags.add(flag)
        self.reasons.append(reason)


class PatientLedger:
    """Per-patient contact facts; `finish` turns them into fix-up rows."""

    def __init__(self, fixups: FixUps) -> None:
        self.fixups = fixups
        self.providers: dict[str, bool] = {}  # code -> has a usable email
        self.gaps: dict[str, _Gap] = {}
        # email hash -> best holder (rank, patient number); per patient: (hash, family)
        self.holders: dict[int, tuple[int, int]] = {}
        self.emailed: list[tuple[str, int, int, str]] = []  # key, line, hash, family
        self.family_of: dict[int, str] = {}

    def provider(self, row: SourceRow) -> None:
        """Remember whether a provider code can be matched to a member (has an email)."""
        code = (row.values.get("code") or "").strip().upper()
        email = parse_email(row.values.get("email"))
        if code:
            self.providers[code] = email is not None and email.address is not None

    def patient(self, row: SourceRow) -> None:
        """Check one patient row's phones, email and owner.

        A row with errors is rejected by the run: its unusable phones are still listed (they
        need fixing too), but it is not counted as a patient arriving incomplete.
        """
        if row.key is None or not row.key.isdecimal() or row.is_deleted:
            return
        gap = _Gap(row.key, row.line)
        self._phones(row, gap)
        if row.errors:
            return
        self._email(row, gap)
        self._owner(row, gap)
        if gap.flags:
            self.gaps[row.key] = gap

    def duplicate(self, row: SourceRow, other: str, matched_on: str) -> None:
        """A patient row that looks like patient `other`: a merge decision to record."""
        self.fixups.duplicates.append(
            {
                "patient_id": row.key or "",
                "line": str(row.line),
                "same_person_as": other,
                "matched_on": matched_on,
                "decision": "",
                "keep_patient_id": "",
            }
        )

    def _phones(self, row: SourceRow, gap: _Gap) -> None:
        usable = False
        problems: list[str] = []
        for column in _PHONE_COLUMNS:
            phone = parse_phone(row.values.get(column))
            if phone is None:
                continue
            if phone.e164 is not None:
                usable = True
                continue
            label = file_for_entity("patient").column(column).label
            problem = _PHONE_PROBLEMS.get(phone.problem or "", "not a phone number")
            problems.append(label)
            self.fixups.phones.append(
                {
                    "patient_id": row.key or "",
                    "line": str(row.line),
                    "column": label,
                    "problem": problem,
                    "what_to_do": _PHONE_FIX,
                }
            )
        if not usable:
            why = "no phone" if not problems else "no usable phone (" + ", ".join(problems) + ")"
            gap.add("no_phone", why)

    def _email(self, row: SourceRow, gap: _Gap) -> None:
        email = parse_email(row.values.get("email"))
        key = row.key or ""
        if email is None:
            gap.add("no_email", "no email")
            return
        if email.address is None:
            gap.add("no_email", f"email is {email.problem}")
            self.fixups.emails.append(
                {
                    "patient_id": key,
                    "line": str(row.line),
                    "problem": f"{email.problem} email",
                    "shared_with_patient_id": "",
                    "what_to_do": "enter the patient's real email, or clear the field",
                }
            )
            return
        number = int(key)
        guarantor = row.values.get("guarantor_id")
        head = int(guarantor) if guarantor and guarantor.isdecimal() and int(guarantor) else None
        rank = (0 if head in (None, number) else 1, number)
        digest = hash(email.address)
        best = self.holders.get(digest)
        if best is None or rank < best:
            self.holders[digest] = rank
        family = str(head or number)
        self.emailed.append((key, row.line, digest, family))
        self.family_of[number] = family

    def _owner(self, row: SourceRow, gap: _Gap) -> None:
        code = (row.values.get("primary_provider") or "").strip().upper()
        if not code:
            gap.add("no_owner", "no primary provider")
        elif code not in self.providers:
            gap.add("no_owner", f"primary provider {code} is not in providers.csv")
        elif not self.providers[code]:
            gap.add("no_owner", f"primary provider {code} has no email to match a Twenty member")

    def finish(self) -> None:
        """Settle who keeps each shared email, then write the incomplete-patients rows."""
        for key, line, digest, family in self.emailed:
            holder = self.holders[digest][1]
            if holder == int(key):
                continue
            same = self.family_of.get(holder) == family
            problem = "shared within the family" if same else "shared with another family"
            self.fixups.emails.append(
                {
                    "patient_id": key,
                    "line": str(line),
                    "problem": problem,
                    "shared_with_patient_id": str(holder),
                    "what_to_do": "nothing if the family shares it; else enter the patient's "
                    "own email",
                }
            )
            gap = self.gaps.setdefault(key, _Gap(key, line))
            gap.add("no_email", f"email kept by patient {holder} ({problem})")
        self.fixups.emails.sort(key=lambda row: int(row["line"]))
        for gap in sorted(self.gaps.values(), key=lambda g: g.line):
            self.fixups.incomplete.append(
                {
                    "patient_id": gap.key,
                    "line": str(gap.line),
                    "no_phone": "yes" if "no_phone" in gap.flags else "",
                    "no_email": "yes" if "no_email" in gap.flags else "",
                    "no_owner": "yes" if "no_owner" in gap.flags else "",
                    "why": "; ".join(gap.reasons),
                }
            )
        self.emailed.clear()

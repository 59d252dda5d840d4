"""Per-entity data-quality checks; each keeps only keys and small hashes between rows."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.export_format import KNOWN_CUSTOM_FIELDS
from core.ports.source import SourceRow
from core.source_audit.findings import FindingSink
from core.source_audit.patients import PatientLedger
from core.values import (
    ValueParseError,
    localize,
    parse_date,
    parse_datetime,
    parse_email,
    parse_file_size,
    parse_npi,
    parse_time,
    parse_zone,
)

_NAME_NOISE = re.compile(r"[^a-z]+")
_OPEN_STAGES = {"proposed", "accepted", "scheduled", "in progress"}
_NPI_KEYS = {"NPI", "NPI_TYPE2"}


def _norm_name(text: str | None) -> str:
    return _NAME_NOISE.sub("", (text or "").casefold())


def _digits(text: str | None) -> str:
    digits = "".join(ch for ch in text or "" if ch.isdecimal())
    return digits[-10:] if len(digits) >= 10 else ""


def _date(text: str | None) -> date | None:
    try:
        parsed = parse_date(text)
    except ValueParseError:
        return None
    return parsed.value if parsed else None


def _person_candidates(
    values: dict[str, str | None], last: str
) -> list[tuple[tuple[object, ...], str]]:
    """What makes two patient rows one person (Q7): last name and date of birth with the first
    name or a phone; without a date of birth, both names and a full phone number."""
    first = _norm_name(values.get("first_name"))
    dob = _date(values.get("birth_date"))
    phones = sorted({_digits(values.get(c)) for c in ("cell_phone", "home_phone", "work_phone")})
    found: list[tuple[tuple[object, ...], str]] = []
    if dob is not None:
        found.append((("dob", last, first, dob), "last name, first name and date of birth"))
        found += [
            (("dob", last, p, dob), "last name, phone and date of birth") for p in phones if p
        ]
    elif first:
        found += [
            (("phone", last, first, p), "last name, first name and phone") for p in phones if p
        ]
    return found


class Checks:
    """State and rules for the checks that need more than one row."""

    def __init__(self, sink: FindingSink, as_of: date | None, size_limit: int) -> None:
        self.sink, self.as_of, self.size_limit = sink, as_of, size_limit
        self.person_keys: dict[int, str] = {}
        self.emails: dict[int, tuple[str, str | None]] = {}
        self.staff_emails: dict[int, str] = {}
        self.completed_plans: set[int] = set()
        self.zones: dict[int, ZoneInfo] = {}
        self.ledger = PatientLedger(sink.fixups)

    def run(self, row: SourceRow) -> None:
        """Apply the checks of the row's entity."""
        check = getattr(self, f"_check_{row.entity}", None)
        if check is not None:
            check(row)

    def _add(self, code: str, row: SourceRow, message: str) -> None:
        self.sink.add(code, row.file, row.line, row.key, message)

    def _check_practice(self, row: SourceRow) -> None:
        try:
            zone = parse_zone(row.values.get("time_zone"))
        except ValueParseError:
            zone = None
        if zone is not None and row.key is not None:
            self.zones[int(row.key)] = zone

    def _check_provider(self, row: SourceRow) -> None:
        self.ledger.provider(row)
        email = parse_email(row.values.get("email"))
        if email is None or email.address is None:
            self._add("provider_without_email", row, "no usable email: cannot match a member")
            return
        digest = hash(email.address)
        other = self.staff_emails.setdefault(digest, row.key or "?")
        if other != row.key:
            self._add("provider_shared_email", row, f"same email as staff {other}")

    def _check_patient(self, row: SourceRow) -> None:
        values = row.values
        for column in ("last_name", "first_name"):
            if "?" in (values.get(column) or ""):
                self._add("lost_character", row, f"{column} holds '?' (character lost, Q1)")
        self._check_patient_email(row)
        self.ledger.patient(row)
        last = _norm_name(values.get("last_name"))
        if not last or row.key is None or row.is_deleted:
            return
        for candidate, matched_on in _person_candidates(values, last):
            other = self.person_keys.setdefault(hash(candidate), row.key)
            if other != row.key:
                self._add("duplicate_patient", row, f"looks like patient {other}")
                self.ledger.duplicate(row, other, matched_on)
                return

    def _check_patient_email(self, row: SourceRow) -> None:
        email = parse_email(row.values.get("email"))
        if email is None:
            return
        if email.problem is not None:
            code = "placeholder_email" if email.problem == "placeholder" else "invalid_email"
            self._add(code, row, f"email is {email.problem}")
            return
        guarantor = row.values.get("guarantor_id")
        family = str(int(guarantor)) if guarantor and guarantor.isdecimal() else None
        first_key, first_family = self.emails.setdefault(
            hash(email.address), (row.key or "?", family)
        )
        if first_key != row.key:
            same = family is not None and family in (first_family, first_key)
            code = "family_shared_email" if same else "shared_email"
            self._add(code, row, f"same email as patient {first_key}")

    def _check_appointment(self, row: SourceRow) -> None:
        values = row.values
        day = _date(values.get("appt_date"))
        status = (values.get("status") or "").lower()
        if status == "scheduled" and day and self.as_of and day < self.as_of:
            self._add("status_date_contradiction", row, "Scheduled with a date in the past")
        location = values.get("location_id")
        if day is None or not location or not location.isdecimal():
            return
        try:
            clock = parse_time(values.get("start_time"))
        except ValueParseError:
            return
        zone = self.zones.get(int(location))
        if clock is None or zone is None:
            return
        if localize(datetime.combine(day, clock), zone).is_ambiguous:
            self._add("ambiguous_local_time", row, "start time is ambiguous (DST change)")

    def _check_communication(self, row: SourceRow) -> None:
        try:
            when = parse_datetime(row.values.get("date_time"))
        except ValueParseError:
            return
        zone = next(iter(self.zones.values()), None)
        if when is not None and zone is not None and localize(when, zone).is_ambiguous:
            self._add("ambiguous_local_time", row, "date time is ambiguous (DST change)")

    def _check_treatment_plan(self, row: SourceRow) -> None:
        if (row.values.get("status") or "").lower() == "completed" and row.key:
            self.completed_plans.add(int(row.key))

    def _check_procedure(self, row: SourceRow) -> None:
        plan = row.values.get("plan_id")
        stage = (row.values.get("stage") or "").lower()
        is_open = stage in _OPEN_STAGES and not row.is_deleted
        if is_open and plan and plan.isdecimal() and int(plan) in self.completed_plans:
            self._add("status_date_contradiction", row, f"open line on Completed plan {int(plan)}")

    def _check_insurance_policy(self, row: SourceRow) -> None:
        status = (row.values.get("status") or "").lower()
        ends = _date(row.values.get("termination_date"))
        if status == "active" and ends and self.as_of and ends < self.as_of:
            self._add("status_date_contradiction", row, "Active with a past termination date")

    def _check_referral(self, row: SourceRow) -> None:
        self._check_npi(row, row.values.get("referring_npi"), "referring_npi")

    def _check_attachment(self, row: SourceRow) -> None:
        try:
            size = parse_file_size(row.values.get("file_size"))
        except ValueParseError:
            self._add("bad_file_size", row, "file_size does not parse")
            return
        if size is not None and size > self.size_limit:
            mib = size // (1024 * 1024)
            self._add("oversized_attachment", row, f"{mib} MiB, over the storage limit")

    def _check_custom_field(self, row: SourceRow) -> None:
        kind = row.values.get("record_type") or ""
        field = (row.values.get("field_key") or "").upper()
        known = {k.lower(): v for k, v in KNOWN_CUSTOM_FIELDS.items()}.get(kind.lower(), {})
        if field not in known:
            self._add("unknown_custom_field", row, f"field key {field} is not in the format")
        if field in _NPI_KEYS:
            self._check_npi(row, row.values.get("value"), field)

    def _check_npi(self, row: SourceRow, text: str | None, column: str) -> None:
        npi = parse_npi(text)
        if npi is not None and npi.value is None:
            self._add("invalid_npi", row, f"{column}: {npi.problem}")

"""The fixed part of a synthetic practice: locations, staff, and each patient's plan.

Patients are produced one at a time in ID order; a household (guarantor and family) is the
only state kept between them, so memory does not grow with the number of patients.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from adapters.dental_exec.synth_values import (
    CITIES,
    EMAIL_PLACEHOLDERS,
    FIRST_NAMES,
    LAST_NAMES,
    STREETS,
    fmt_phone,
)

EXPORT_AT = datetime(2025, 3, 14, 16, 7, 55)
EXPORT_DAY = EXPORT_AT.date()
FIRST_PATIENT_ID = 10001
# Share of patient rows per status (section 4.2), before duplicates.
STATUSES = (
    ("Active", 0.36),
    ("Inactive", 0.36),
    ("Archived", 0.08),
    ("Non-Patient", 0.06),
    ("Prospect", 0.04),
    ("Deceased", 0.02),
    ("Deleted", 0.02),
)
DUPLICATE_RATE = 0.02


@dataclass
class Location:
    """One practice location."""

    id: int
    zone: str
    numbering: str
    city: tuple[str, str, str]


@dataclass
class Staff:
    """The provider codes by role; `billing` is everyone who may enter payments."""

    dentists: list[str] = field(default_factory=list)
    hygienists: list[str] = field(default_factory=list)
    desk: list[str] = field(default_factory=list)
    all_codes: list[str] = field(default_factory=list)


@dataclass
class Person:
    """One patient row's facts, shared by every file that refers to the patient."""

    id: int
    last: str
    first: str
    birth: date | None
    status: str
    location: Location
    guarantor: int
    relationship: str
    email: str
    home_phone: str
    cell_phone: str
    address: str
    created: date
    provider: str
    hygienist: str
    duplicate_of: Person | None = None
    is_legacy: bool = False

    @property
    def is_seen(self) -> bool:
        """Has clinical history (appointments, procedures, claims)."""
        return self.status not in {"Non-Patient", "Prospect"} and self.duplicate_of is None


def make_locations(rng: random.Random, count: int) -> list[Location]:
    """`count` locations; the second uses FDI numbering, the last of three or more is closed."""
    zones = ("Pacific", "America/Los_Angeles", "Eastern", "")
    return [
        Location(i + 1, zones[i % len(zones)], "FDI" if i == 1 else "Universal", CITIES[i % 6])
        for i in range(count)
    ]


def make_staff(locations: int) -> Staff:
    """Staff codes for the medium profile: per location 2 dentists, 3 hygienists, 3 desk."""
    staff = Staff()
    for n in range(1, 2 * locations + 1):
        staff.dentists.append(f"DDS{n}")
    for n in range(1, 3 * locations + 1):
        staff.hygienists.append(f"HYG{n}")
    for n in range(1, 3 * locations + 1):
        staff.desk.append(f"FD{n}")
    staff.all_codes = staff.dentists + staff.hygienists + staff.desk
    return staff


def _status(rng: random.Random) -> str:
    roll = rng.random()
    for status, share in STATUSES:
        if roll < share:
            return status
        roll -= share
    return "Active"


def _email(rng: random.Random, first: str, last: str, n: int) -> str:
    roll = rng.random()
    if roll < 0.10:
        return ""
    if roll < 0.14:
        return rng.choice(EMAIL_PLACEHOLDERS)
    address = f"{first[:1]}.{last}{n % 997}@mail.example".lower().replace("’", "")
    address = address.encode("ascii", "ignore").decode()
    if roll < 0.17:
        return address.upper() + "  "
    return address


def iter_people(
    rng: random.Random, count: int, locations: list[Location], staff: Staff
) -> Iterator[Person]:
    """Stream `count` patients in ID order, grouped in households (35-45 % in families)."""
    open_locations = [loc for loc in locations if len(locations) < 3 or loc.id != len(locations)]
    made = 0
    previous: Person | None = None
    while made < count:
        if previous is not None and rng.random() < DUPLICATE_RATE:
            yield _duplicate(rng, FIRST_PATIENT_ID + made, previous)
            made += 1
            continue
        size = 1 if rng.random() < 0.72 else rng.choice((2, 2, 3, 4, 4, 5))
        head = None
        for member in range(min(size, count - made)):
            person = _person(rng, FIRST_PATIENT_ID + made, head, member, open_locations, staff)
            head = head or person
            previous = person
            made += 1
            yield person


def _person(
    rng: random.Random,
    pid: int,
    head: Person | None,
    member: int,
    locations: list[Location],
    staff: Staff,
) -> Person:
    last = head.last if head else rng.choice(LAST_NAMES)
    first = rng.choice(FIRST_NAMES)
    location = head.location if head else rng.choice(locations)
    created = EXPORT_DAY - timedelta(days=rng.randint(10, 20 * 365))
    if head is not None:
        age_years = rng.randint(30, 60) if member == 1 else rng.randint(2, 20)
    else:
        age_years = rng.randint(18, 85)
    birth: date | None = EXPORT_DAY - timedelta(days=age_years * 365 + rng.randint(0, 364))
    if rng.random() < 0.01:
        birth = date(1900, 1, 1)  # unknown (Q11)
    elif rng.random() < 0.02:
        birth = None
    relationship = "Self" if head is None else ("Spouse" if member == 1 else "Child")
    status = _status(rng)
    return Person(
        id=pid,
        last=last,
        first=first,
        birth=birth,
        status=status,
        location=location,
        guarantor=head.id if head else pid,
        relationship=relationship,
        email=head.email if head and rng.random() < 0.8 else _email(rng, first, last, pid),
        home_phone=head.home_phone if head else fmt_phone(rng, pid),
        cell_phone=fmt_phone(rng, pid + 7) if rng.random() < 0.8 else "",
        address=head.address if head else f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
        created=created,
        provider=rng.choice(staff.dentists),
        hygienist=rng.choice(staff.hygienists) if rng.random() < 0.8 else "",
        is_legacy=created.year < 2016 and rng.random() < 0.15,
    )


def _duplicate(rng: random.Random, pid: int, original: Person) -> Person:
    """Q7: the same person again: name case/spacing drift, same DOB, phone in another form."""
    last = original.last.upper() if rng.random() < 0.5 else original.last + " "
    digits = "".join(ch for ch in original.cell_phone or original.home_phone if ch.isdigit())
    return Person(
        id=pid,
        last=last,
        first=original.first + ("  " if rng.random() < 0.5 else ""),
        birth=original.birth,
        status="Inactive",
        location=original.location,
        guarantor=pid,
        relationship="Self",
        email="",
        home_phone="",
        cell_phone=digits[-10:],
        address=original.address,
        created=min(EXPORT_DAY, original.created + timedelta(days=rng.randint(30, 900))),
        provider=original.provider,
        hygienist="",
        duplicate_of=original,
    )

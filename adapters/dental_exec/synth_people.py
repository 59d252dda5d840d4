"""Synthetic rows for practices.csv, providers.csv and patients.csv."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from adapters.dental_exec.synth_values import (
    fmt_date,
    fmt_datetime,
    fmt_money,
    fmt_phone,
    fmt_zip,
    note,
)
from adapters.dental_exec.synth_world import EXPORT_DAY, Location, Person, Staff

Row = dict[str, str]
_ROLES = {"DDS": ("Dentist", "DDS", "General"), "HYG": ("Hygienist", "RDH", "")}
_ROLES["FD"] = ("Front Desk", "", "")


def last_modified(rng: random.Random, created: datetime, *, is_legacy: bool = False) -> str:
    """A `Last Modified` after `created`; blank on some pre-2016 rows (section 5)."""
    if is_legacy:
        return ""
    span = max(1, (datetime.combine(EXPORT_DAY, time()) - created).days)
    moment = created + timedelta(days=rng.randint(0, span), seconds=rng.randint(0, 86399))
    return fmt_datetime(min(moment, datetime.combine(EXPORT_DAY, time(9))))


def practice_rows(rng: random.Random, locations: list[Location]) -> list[Row]:
    """One row per location; the last of three or more is closed."""
    rows = []
    for loc in locations:
        is_closed = len(locations) >= 3 and loc.id == len(locations)
        city, state, zip5 = loc.city
        rows.append(
            {
                "location_id": str(loc.id),
                "location_code": f"LOC{loc.id}",
                "practice_name": "Bright Smiles Dental Group, PLLC",
                "location_name": f"Bright Smiles - {city} {loc.id}",
                "address_1": f"{100 + loc.id} Harbor Way",
                "city": city,
                "state": state,
                "zip": fmt_zip(zip5, rng),
                "phone": f"(555) 555-01{loc.id:02d}",
                "email": f"loc{loc.id}@brightsmiles.example",
                "website": "www.brightsmiles.example",
                "tax_id": "**-***4821",
                "time_zone": loc.zone,
                "tooth_numbering": loc.numbering,
                "is_primary": "1" if loc.id == 1 else "0",
                "active": "0" if is_closed else "1",
                "opened_date": fmt_date(EXPORT_DAY.replace(year=2008 + loc.id), rng),
                "closed_date": "12/31/2019" if is_closed else "",
                "last_modified": fmt_datetime(datetime(2025, 2, 11, 9, loc.id, 2)),
            }
        )
    return rows


def provider_rows(rng: random.Random, staff: Staff, locations: int) -> list[Row]:
    """Staff rows: some without email, desk staff sharing one, a few terminated (Q9, Q10)."""
    rows = []
    for index, code in enumerate(staff.all_codes, start=1):
        prefix = code.rstrip("0123456789")
        role, credential, specialty = _ROLES[prefix]
        is_terminated = prefix == "HYG" and index % 7 == 0
        email = f"{code.lower()}@brightsmiles.example"
        if prefix == "FD":
            email = "frontdesk@brightsmiles.example" if index % 2 else ""
        location = (index % locations) + 1
        rows.append(
            {
                "staff_id": str(index),
                "code": code,
                "last_name": rng.choice(("Okafor", "Lindqvist", "Muñoz", "O’Brien", "Tran")),
                "first_name": rng.choice(("Adaeze", "Sören", "Pilar", "Kathleen", "Linh")),
                "credential": credential,
                "role": role,
                "specialty": specialty,
                "is_provider": "N" if prefix == "FD" else "Y",
                "email": email,
                "phone": fmt_phone(rng, index),
                "location_ids": ";".join(str(n) for n in sorted({location, 1})),
                "default_location_id": str(location),
                "username": code.lower(),
                "hire_date": fmt_date(EXPORT_DAY.replace(year=2010 + index % 12), rng),
                "termination_date": "08/31/2023" if is_terminated else "",
                "active": "N" if is_terminated else "Y",
                "last_modified": fmt_datetime(datetime(2025, 1, 6, 11, index % 60, 45)),
            }
        )
    return rows


def _chart(person: Person) -> str:
    return f"{person.last[:3].upper()}{person.first[:2].upper()}{person.id % 10000:04d}"


def patient_row(rng: random.Random, person: Person) -> Row:
    """One patients.csv row."""
    city, state, zip5 = person.location.city
    created = datetime.combine(person.created, time(9, rng.randint(0, 59)))
    legacy = person.is_legacy
    balance = rng.choice((0, 0, 0, 2450, 8000, -2000, 123450)) if person.is_seen else 0
    return {
        "patient_id": str(person.id),
        "chart_number": _chart(person),
        "last_name": person.last,
        "first_name": person.first,
        "gender": rng.choice(("M", "F", "F", "M", "U", "X")) if rng.random() < 0.9 else "",
        "birth_date": fmt_date(person.birth, rng, legacy=legacy),
        "ssn": f"***-**-{rng.randint(1000, 9999)}" if rng.random() < 0.4 else "",
        "address_1": person.address,
        "city": city,
        "state": state,
        "zip": fmt_zip(zip5, rng),
        "home_phone": person.home_phone,
        "cell_phone": person.cell_phone,
        "email": person.email,
        "preferred_contact": rng.choice(("Text", "Call", "Email", "Mail", "")),
        "text_ok": rng.choice(("Y", "N", "")),
        "email_ok": rng.choice(("Y", "N", "")),
        "status": person.status,
        "home_location_id": str(person.location.id),
        "primary_provider": person.provider,
        "hygienist": person.hygienist,
        "guarantor_id": str(person.guarantor),
        "relationship_to_guarantor": person.relationship,
        "first_visit": fmt_date(person.created, rng) if person.is_seen else "",
        "balance": fmt_money(balance, rng),
        "premed": "Y" if rng.random() < 0.03 else "",
        "language": rng.choice(("English", "English", "English", "Spanish", "spa", "")),
        "patient_note": note(rng, multiline_rate=0.4) if rng.random() < 0.1 else "",
        "created": fmt_date(person.created, rng, legacy=legacy),
        "last_modified": last_modified(rng, created, is_legacy=legacy),
    }

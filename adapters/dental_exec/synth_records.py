"""Synthetic rows for referrals, attachments, communications and custom fields."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from adapters.dental_exec.synth_people import Row
from adapters.dental_exec.synth_values import fmt_date, fmt_datetime, note, npi
from adapters.dental_exec.synth_visits import Visits
from adapters.dental_exec.synth_world import Person, Staff

_ALERTS = (
    "MA_ALLERGY_PENICILLIN", "MA_ALLERGY_LATEX", "MA_PREMED_REQUIRED", "MA_DIABETES",
    "MA_HYPERTENSION", "MA_ANTICOAGULANT", "MA_SMOKER", "MA_CARDIAC",
)  # fmt: skip
_MODES = ("Phone", "Phone", "Text", "Text", "Email", "Letter", "In Person", "Portal", "None")


def referral_rows(rng: random.Random, person: Person, ids: dict[str, int]) -> list[Row]:
    """Most patients have one `In` referral; a quarter have none; a few are sent `Out`."""
    if rng.random() < 0.25 or person.duplicate_of is not None:
        return []
    ids["referral"] += 1
    kind = rng.choice(("Doctor", "Patient", "Marketing", "Website", "Walk-In", "Insurance"))
    referrer = person.guarantor if kind == "Patient" and person.guarantor != person.id else None
    return [
        {
            "referral_id": str(ids["referral"]),
            "patient_id": str(person.id),
            "direction": "Out" if rng.random() < 0.05 else "In",
            "source_type": "Patient" if referrer else ("Doctor" if kind == "Patient" else kind),
            "source_code": {"Marketing": "YELP", "Website": "GOOGLE"}.get(kind, ""),
            "source_name": "Dr. Priya Raman, DDS"
            if kind in {"Doctor", "Patient"}
            else "Google Ads",
            "referring_patient_id": str(referrer) if referrer else "",
            "referring_npi": npi(rng, valid=rng.random() > 0.02) if kind == "Doctor" else "",
            "referral_date": fmt_date(person.created, rng),
            "last_modified": fmt_datetime(datetime.combine(person.created, time(9))),
        }
    ]


def attachment_rows(
    rng: random.Random, person: Person, staff: Staff, visits: Visits, ids: dict[str, int]
) -> list[Row]:
    """Document index rows: byte and human sizes, missing MIME, some oversized DICOM."""
    rows = []
    for appt_id, day, status in visits.appointments:
        if status != "Completed" or day is None:
            continue
        for _ in range(rng.randint(1, 6)):
            ids["attachment"] += 1
            is_big = rng.random() < 0.01
            size = rng.randint(50, 500) * 1024 * 1024 if is_big else rng.randint(100, 5000) * 1024
            size_text = f"{size / 1024 / 1024:.1f} MB" if rng.random() < 0.2 else str(size)
            name = (
                f"BWX_{day.isoformat()}.dcm"
                if is_big or rng.random() < 0.5
                else f"IMG_{ids['attachment']}.jpg"
            )
            rows.append(
                {
                    "attachment_id": str(ids["attachment"]),
                    "patient_id": str(person.id),
                    "linked_record_type": "Appointment",
                    "linked_record_id": str(appt_id),
                    "category": "Radiograph" if name.endswith(".dcm") else "Intraoral Photo",
                    "file_name": name,
                    "file_size": size_text,
                    "mime_type": ""
                    if rng.random() < 0.05
                    else ("application/dicom" if name.endswith(".dcm") else "image/jpeg"),
                    "storage_path": f"Patients\\{person.id:08d}\\XRays\\{name}",
                    "download_url": f"https://files.dental-exec.example/d/{ids['attachment']}?sig=ab&exp=1742000000",
                    "taken_date": fmt_date(day, rng),
                    "uploaded_on": fmt_datetime(datetime.combine(day, time(11))),
                    "uploaded_by": rng.choice(staff.hygienists),
                    "deleted": "True" if rng.random() < 0.01 else "False",
                    "last_modified": fmt_datetime(datetime.combine(day, time(11))),
                }
            )
    return rows


def _fall_back_sunday(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7)


def communication_rows(
    rng: random.Random, person: Person, staff: Staff, visits: Visits, ids: dict[str, int]
) -> list[Row]:
    """Calls, texts, emails, letters; a few at 1:30 AM on a DST fall-back night (Q19)."""
    rows = []
    for appt_id, day, _ in visits.appointments:
        if day is None or rng.random() < 0.3:
            continue
        ids["communication"] += 1
        moment = datetime.combine(
            day - timedelta(days=1), time(rng.randint(8, 17), rng.randint(0, 59))
        )
        if rng.random() < 0.002:
            moment = datetime.combine(_fall_back_sunday(day.year), time(1, 30))
        mode = rng.choice(_MODES)
        rows.append(
            {
                "comm_id": str(ids["communication"]),
                "patient_id": f"{person.id:08d}" if rng.random() < 0.5 else str(person.id),
                "date_time": fmt_datetime(moment),
                "mode": mode,
                "direction": rng.choice(("Sent", "Received", "")),
                "type": "Appointment Related",
                "subject": "Confirmed appt",
                "note": note(rng, multiline_rate=0.3) if rng.random() < 0.2 else "",
                "staff": rng.choice(staff.desk),
                "duration_min": str(rng.randint(1, 9)) if mode == "Phone" else "",
                "linked_appointment_id": str(appt_id),
                "deleted": "Y" if rng.random() < 0.01 else "N",
                "last_modified": fmt_datetime(moment),
            }
        )
    return rows


def custom_field_rows(rng: random.Random, person: Person) -> list[Row]:
    """HIPAA, consent and medical-alert values for one patient (Yes/No flavour)."""
    if person.duplicate_of is not None:
        return []
    stamp = fmt_datetime(datetime.combine(person.created, time(9)))
    rows = [
        _field("Patient", person.id, "HIPAA_NPP_ACK", "YesNo", rng.choice(("Yes", "No")), stamp)
    ]
    rows.append(
        _field(
            "Patient", person.id, "HIPAA_NPP_SIGNED", "Date", fmt_date(person.created, rng), stamp
        )
    )
    if rng.random() < 0.5:
        rows.append(_field("Patient", person.id, "CONSENT_SMS", "YesNo", "Yes", stamp))
    for key in rng.sample(_ALERTS, rng.choice((0, 0, 1, 1, 2))):
        rows.append(_field("Patient", person.id, key, "YesNo", "Yes", stamp))
    if rng.random() < 0.01:
        rows.append(_field("Patient", person.id, "FAV_FLAVOR", "List", "Mint", stamp))
    return rows


def _field(kind: str, record: int, key: str, field_type: str, value: str, stamp: str) -> Row:
    return {
        "record_type": kind,
        "record_id": str(record),
        "field_key": key,
        "field_label": key.replace("_", " ").title(),
        "field_type": field_type,
        "value": value,
        "last_modified": stamp,
    }


def staff_field_rows(rng: random.Random, staff: Staff, locations: int) -> list[Row]:
    """NPI and taxonomy of providers (one in five has none; one invalid), type-2 NPIs."""
    rows = []
    stamp = fmt_datetime(datetime(2025, 1, 6, 11, 2, 45))
    for index, code in enumerate(staff.all_codes, start=1):
        if code.startswith("FD") or rng.random() < 0.2:
            continue
        rows.append(_field("Provider", index, "NPI", "Text", npi(rng, valid=index != 3), stamp))
        taxonomy = "124Q00000X" if code.startswith("HYG") else "1223G0001X"
        rows.append(_field("Provider", index, "TAXONOMY", "Text", taxonomy, stamp))
    for location in range(1, locations + 1):
        rows.append(_field("Location", location, "NPI_TYPE2", "Text", npi(rng), stamp))
    return rows

"""Synthetic rows for one patient's visits: appointments, plans and procedure lines, recalls."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from adapters.dental_exec.synth_people import Row, last_modified
from adapters.dental_exec.synth_values import (
    CDT_CODES,
    CDT_FEES,
    fmt_cdt,
    fmt_date,
    fmt_datetime,
    fmt_money,
    fmt_time,
    note,
)
from adapters.dental_exec.synth_world import EXPORT_DAY, Person, Staff

_VISITS = {"Active": (1, 4), "Inactive": (0, 3), "Archived": (0, 2), "Deceased": (0, 2)}
_VISITS |= {"Deleted": (0, 1), "Prospect": (0, 0), "Non-Patient": (0, 0)}
_TYPES = ("Recall/Prophy", "Recall/Prophy", "Restorative", "Perio Maint", "Crown Prep", "Consult")
_PLAN_STATUS = ("Draft", "Presented", "Accepted", "Partially Accepted", "Rejected", "Completed")
_TEETH = [str(n) for n in range(1, 33)]
_FDI = [str(q * 10 + t) for q in (1, 2, 3, 4) for t in range(1, 9)]


@dataclass
class Visits:
    """What one patient's visit rows produced that other files refer to."""

    appointments: list[tuple[int, date | None, str]] = field(default_factory=list)
    plans: list[tuple[int, int]] = field(default_factory=list)  # (plan id, total cents)
    procedures: list[int] = field(default_factory=list)
    rows: dict[str, list[Row]] = field(default_factory=dict)


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 16), rng.choice((0, 10, 20, 30, 40, 50))))


def _status(day: date, rng: random.Random) -> str:
    if day > EXPORT_DAY:
        return "Scheduled"
    roll = rng.random()
    if roll < 0.80:
        return "Completed"
    if roll < 0.87:
        return "Cancelled"
    if roll < 0.93:
        return "Broken" if day.year < 2019 else "No-Show"
    if roll < 0.95:
        return "Scheduled"  # past and never closed out (Q20)
    if roll < 0.96:
        return "ASAP"
    return "Unscheduled"


def appointment_rows(
    rng: random.Random, person: Person, staff: Staff, ids: dict[str, int]
) -> Visits:
    """Appointments of one patient; Prospects get one future visit."""
    visits = Visits()
    low, high = _VISITS.get(person.status, (0, 0))
    days = (
        [
            EXPORT_DAY - timedelta(days=rng.randint(1, max(2, (EXPORT_DAY - person.created).days)))
            for _ in range(rng.randint(low, high))
        ]
        if person.duplicate_of is None
        else []
    )
    if person.status in {"Active", "Prospect"} and rng.random() < 0.4:
        days.append(EXPORT_DAY + timedelta(days=rng.randint(3, 180)))
    rows: list[Row] = []
    for day in sorted(days):
        ids["appointment"] += 1
        status = _status(day, rng)
        moment = _moment(day, rng)
        is_unscheduled = status == "Unscheduled"
        kind = rng.choice(_TYPES)
        codes = ";".join(fmt_cdt(c, rng) for c in rng.sample(("D0120", "D1110", "D0274"), 2))
        rows.append(
            {
                "appointment_id": str(ids["appointment"]),
                "patient_id": f"{person.id:08d}",
                "location_id": str(person.location.id),
                "appt_date": "" if is_unscheduled else fmt_date(day, rng),
                "start_time": "" if is_unscheduled else fmt_time(moment),
                "duration_min": str(rng.choice((30, 40, 60, 60, 90))),
                "provider": ""
                if kind == "Recall/Prophy" and rng.random() < 0.5
                else person.provider,
                "hygienist": person.hygienist,
                "operatory": rng.choice(("OP 1", "OP 2", "OP 3", "HYG-1", "HYG-2")),
                "appt_type": kind,
                "procedures": codes,
                "status": status,
                "confirmation": rng.choice(
                    ("Confirmed", "Unconfirmed", "Left Message", "Texted", "")
                ),
                "asap": "Y" if status == "ASAP" else "N",
                "new_patient": "Y" if not rows else "N",
                "cancel_reason": "Sick" if status == "Cancelled" else "",
                "cancelled_on": fmt_datetime(moment - timedelta(hours=20))
                if status == "Cancelled"
                else "",
                "note": note(rng, multiline_rate=0.3) if rng.random() < 0.1 else "",
                "created": fmt_datetime(moment - timedelta(days=rng.randint(1, 60))),
                "created_by": rng.choice(staff.desk),
                "deleted": "Y" if rng.random() < 0.015 else "N",
                "last_modified": fmt_datetime(min(moment, datetime.combine(EXPORT_DAY, time(9)))),
            }
        )
        visits.appointments.append((ids["appointment"], None if is_unscheduled else day, status))
    visits.rows["appointment"] = rows
    return visits


def _tooth(code: str, person: Person, rng: random.Random) -> str:
    if code[:2] not in {"D2", "D3", "D6", "D7"}:
        return ""
    return rng.choice(_FDI if person.location.numbering == "FDI" else _TEETH)


def procedure_rows(rng: random.Random, person: Person, visits: Visits, ids: dict[str, int]) -> None:
    """Completed lines for finished visits (no plan) and planned lines in treatment plans."""
    lines, plans = [], []
    for appt_id, day, status in visits.appointments:
        if status == "Completed" and day is not None:
            for code in rng.sample(CDT_CODES[:10], rng.randint(2, 4)):
                lines.append(_line(rng, person, ids, code, None, appt_id, day, "Completed"))
    if person.is_seen and rng.random() < 0.55:
        ids["treatment_plan"] += 1
        plan_id = ids["treatment_plan"]
        created = EXPORT_DAY - timedelta(days=rng.randint(5, 900))
        stages = [
            rng.choice(("Proposed", "Accepted", "Completed", "In Progress", "Declined"))
            for _ in range(rng.randint(1, 4))
        ]
        total = 0
        for seq, stage in enumerate(stages, 1):
            code = rng.choice(CDT_CODES[10:])
            row = _line(rng, person, ids, code, plan_id, 0, created, stage, seq=seq)
            total += int(row.pop("_fee"))
            lines.append(row)
        status = (
            "Completed" if all(s == "Completed" for s in stages) else rng.choice(_PLAN_STATUS[:5])
        )
        if rng.random() < 0.03:
            status = "Completed"  # with an open line (Q20)
        stale = total + (rng.choice((0, 5000, -2000)) if rng.random() < 0.05 else 0)
        plans.append(_plan(rng, person, plan_id, created, status, stale))
        visits.plans.append((plan_id, total))
    for row in lines:
        row.pop("_fee", None)
        visits.procedures.append(int(row["procedure_id"]))
    visits.rows["procedure"] = lines
    visits.rows["treatment_plan"] = plans


def _line(
    rng: random.Random,
    person: Person,
    ids: dict[str, int],
    code: str,
    plan: int | None,
    appt: int,
    day: date,
    stage: str,
    seq: int = 0,
) -> Row:
    ids["procedure"] += 1
    low, high = CDT_FEES[code]
    fee = rng.randint(low, high) * 100
    ins = fee * rng.choice((0, 50, 80, 100)) // 100
    done = stage == "Completed"
    return {
        "procedure_id": str(ids["procedure"]),
        "plan_id": str(plan) if plan else "",
        "patient_id": str(person.id),
        "seq": str(seq) if seq else "",
        "phase": "1" if plan else "",
        "cdt_code": fmt_cdt(code, rng),
        "description": f"Procedure {code}",
        "tooth": _tooth(code, person, rng),
        "surface": rng.choice(("MOD", "O", "DO", "B", "")) if code.startswith("D2") else "",
        "stage": stage,
        "provider": person.provider,
        "fee": fmt_money(fee, rng),
        "ins_est": fmt_money(ins, rng),
        "pt_est": fmt_money(fee - ins, rng),
        "appointment_id": str(appt) if appt or plan is None else "0",
        "date_planned": fmt_date(day, rng),
        "date_completed": fmt_date(day, rng) if done else "",
        "priority": rng.choice(("High", "Medium", "Low", "")),
        "deleted": "Y" if rng.random() < 0.01 else "N",
        "last_modified": fmt_datetime(datetime.combine(min(day, EXPORT_DAY), time(8, 30, 12))),
        "_fee": str(fee),
    }


def _plan(
    rng: random.Random, person: Person, plan_id: int, created: date, status: str, total: int
) -> Row:
    ins = total // 2
    return {
        "plan_id": str(plan_id),
        "patient_id": str(person.id),
        "location_id": str(person.location.id),
        "plan_name": rng.choice(("Phase 1 - Perio", "Alt B: implant", "Restorative", "")),
        "status": status,
        "created_date": fmt_date(created, rng),
        "presented_date": fmt_date(created, rng),
        "presented_by": person.provider,
        "signed": "Y" if status in {"Accepted", "Completed"} else "N",
        "total_fee": fmt_money(total, rng),
        "total_ins_est": fmt_money(ins, rng),
        "total_pt_est": fmt_money(total - ins, rng),
        "notes": note(rng, multiline_rate=0.3) if rng.random() < 0.1 else "",
        "deleted": "Y" if rng.random() < 0.01 else "N",
        "last_modified": last_modified(rng, datetime.combine(created, time(15, 5, 40))),
    }


def recall_rows(rng: random.Random, person: Person, staff: Staff, ids: dict[str, int]) -> list[Row]:
    """Recall reminders (structured or free-text type) and other to-dos."""
    if person.status not in {"Active", "Inactive"} or rng.random() > 0.4:
        return []
    ids["recall"] += 1
    is_structured = rng.random() < 0.7
    category = rng.choice(("Recall", "Recall", "Hygiene", "Perio", "Call Back", "Collections"))
    due = EXPORT_DAY + timedelta(days=rng.randint(-60, 180))
    return [
        {
            "reminder_id": str(ids["recall"]),
            "patient_id": str(person.id),
            "category": category,
            "subject": "6 mo recall + BWX" if is_structured else "Prophy q6mo",
            "recall_type": "Prophy" if is_structured and category == "Recall" else "",
            "interval": rng.choice(("6 Months", "6M", "q6mo", "3 Mo.", "1Y", "Yearly", "2x/yr")),
            "due_date": fmt_date(due, rng),
            "recurrence": "Every 6 months after prophy" if is_structured else "",
            "assigned_to": rng.choice(staff.desk),
            "status": rng.choice(
                ("Open", "Open", "Contacted", "Scheduled", "Completed", "Dismissed")
            ),
            "contact_attempts": str(rng.randint(0, 3)),
            "note": "Perio: 4-5mm UR, BOP" if category == "Perio" else "",
            "created": fmt_date(due - timedelta(days=180), rng),
            "deleted": "Y" if rng.random() < 0.01 else "N",
            "last_modified": fmt_datetime(datetime.combine(min(due, EXPORT_DAY), time(10, 55))),
        }
    ]

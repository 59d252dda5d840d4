"""Synthetic rows for one patient's coverage and money: policies, claims, payments."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from adapters.dental_exec.synth_people import Row
from adapters.dental_exec.synth_values import fmt_date, fmt_datetime, fmt_money, note
from adapters.dental_exec.synth_visits import Visits
from adapters.dental_exec.synth_world import EXPORT_DAY, Person, Staff

_CARRIERS = ("Delta Dental of OR", "DELTA DENTAL", "Cigna Dental", "MetLife Dental", "Aetna Dental")
_RELATIONSHIP = {
    "Self": ("Self", "S"),
    "Spouse": ("Spouse", "SP"),
    "Child": ("Child", "C", "Dependent"),
}
_CLAIM_STATUS = (
    "Paid",
    "Paid",
    "Paid",
    "Sent",
    "S",
    "Denied",
    "Partial Pay",
    "Pending",
    "U",
    "Accepted",
)
_METHODS = ("Visa", "MasterCard", "Check", "Cash", "Debit", "CareCredit", "HSA/FSA", "Amex")


def policy_rows(rng: random.Random, person: Person, ids: dict[str, int]) -> list[tuple[int, Row]]:
    """Coverage rows; some secondary, some terminated, a few Active past their end (Q20)."""
    if not person.is_seen or rng.random() > 0.45:
        return []
    out = []
    for order in ("Primary", "Secondary")[: 2 if rng.random() < 0.1 else 1]:
        ids["insurance_policy"] += 1
        effective = EXPORT_DAY - timedelta(days=rng.randint(60, 3000))
        status = rng.choice(("Active", "Active", "Active", "Inactive", "Terminated"))
        ends: date | None = date(9999, 12, 31) if rng.random() < 0.3 else None
        if status != "Active" or rng.random() < 0.03:
            ends = EXPORT_DAY - timedelta(days=rng.randint(1, 400))
        relationship = rng.choice(_RELATIONSHIP.get(person.relationship, ("Other",)))
        subscriber = person.guarantor if person.relationship != "Self" else person.id
        annual = rng.choice((100000, 150000, 200000))
        out.append(
            (
                ids["insurance_policy"],
                {
                    "policy_id": str(ids["insurance_policy"]),
                    "patient_id": str(person.id),
                    "coverage_order": order
                    if rng.random() < 0.8
                    else ("1" if order == "Primary" else "2"),
                    "carrier_name": rng.choice(_CARRIERS),
                    "payer_id": rng.choice(("DX017", "62308", "65978", "60054")),
                    "carrier_phone": "1-800-555-0199",
                    "coverage_type": rng.choice(("Dental PPO", "Dental PPO", "DHMO", "Indemnity")),
                    "group_number": f"GRP-{rng.randint(1000, 9999)}",
                    "subscriber_id": f"XJH{rng.randint(10**8, 10**9 - 1)}",
                    "subscriber_patient_id": str(subscriber),
                    "relationship": relationship,
                    "effective_date": fmt_date(effective, rng),
                    "termination_date": fmt_date(ends, rng) if ends else "",
                    "status": status,
                    "annual_max": fmt_money(annual, rng),
                    "deductible": fmt_money(5000, rng),
                    "remaining_benefit": fmt_money(
                        annual - rng.randint(0, annual // 100) * 100, rng
                    ),
                    "coverage_pct": "100/80/50",
                    "renewal_month": rng.choice(("Jan", "Calendar Year", "7", "")),
                    "last_modified": fmt_datetime(datetime.combine(effective, time(9, 3, 51))),
                },
            )
        )
    return out


def claim_rows(
    rng: random.Random, person: Person, visits: Visits, policies: list[int], ids: dict[str, int]
) -> list[tuple[int, int, Row]]:
    """Claims for completed visits of insured patients: (claim id, paid cents, row)."""
    if not policies:
        return []
    out = []
    for _, day, status in visits.appointments:
        if status != "Completed" or day is None or rng.random() > 0.95:
            continue
        ids["claim"] += 1
        billed = rng.randint(150, 900) * 100
        claim_status = rng.choice(_CLAIM_STATUS)
        paid = billed * 8 // 10 if claim_status in {"Paid", "Partial Pay"} else 0
        write_off = billed - paid if claim_status == "Paid" else 0
        if rng.random() < 0.02:
            write_off = -1200  # a reversal, in parentheses (Q4)
        out.append(
            (
                ids["claim"],
                paid,
                {
                    "claim_id": str(ids["claim"]),
                    "policy_id": str(policies[0]),
                    "patient_id": str(person.id),
                    "location_id": str(person.location.id),
                    "claim_type": "Primary",
                    "date_of_service": fmt_date(day, rng),
                    "date_sent": fmt_date(day + timedelta(days=1), rng),
                    "status": claim_status,
                    "procedure_codes": "D0120;D1110",
                    "billed": fmt_money(billed, rng, parentheses=True),
                    "est_ins_pay": fmt_money(billed * 8 // 10, rng, parentheses=True),
                    "paid": fmt_money(paid, rng, parentheses=True) if paid else "",
                    "write_off": fmt_money(write_off, rng, parentheses=True) if write_off else "",
                    "treating_provider": person.provider
                    if rng.random() > 0.02
                    else person.provider.lower() + " ",
                    "denial_reason": "Frequency limitation" if claim_status == "Denied" else "",
                    "last_modified": fmt_datetime(
                        datetime.combine(
                            min(day + timedelta(days=20), EXPORT_DAY), time(12, 10, 44)
                        )
                    ),
                },
            )
        )
    return out


def payment_rows(
    rng: random.Random,
    person: Person,
    staff: Staff,
    visits: Visits,
    claims: list[tuple[int, int]],
    ids: dict[str, int],
) -> list[Row]:
    """Patient payments, insurance EFTs linked to claims, refunds in parentheses, voids."""
    rows = []
    for claim_id, paid in claims:
        if paid:
            rows.append(_payment(rng, person, staff, ids, paid, "EFT/ERA", "Insurance", claim_id))
    for plan_id, total in visits.plans:
        if total and rng.random() < 0.5:
            rows.append(
                _payment(
                    rng,
                    person,
                    staff,
                    ids,
                    total // 4,
                    rng.choice(_METHODS),
                    "Patient",
                    None,
                    plan_id,
                )
            )
    for _, _day, status in visits.appointments:
        if status == "Completed" and rng.random() < 0.4:
            copay = rng.randint(10, 120) * 100
            rows.append(
                _payment(rng, person, staff, ids, copay, rng.choice(_METHODS), "Patient", None)
            )
    if person.is_seen and rng.random() < 0.2:
        amount = -rng.randint(10, 80) * 100 if rng.random() < 0.1 else rng.randint(20, 300) * 100
        rows.append(
            _payment(rng, person, staff, ids, amount, rng.choice(_METHODS), "Patient", None)
        )
    return rows


def _payment(
    rng: random.Random,
    person: Person,
    staff: Staff,
    ids: dict[str, int],
    cents: int,
    method: str,
    payer: str,
    claim: int | None,
    plan: int | None = None,
) -> Row:
    ids["payment"] += 1
    day = EXPORT_DAY - timedelta(days=rng.randint(1, 1500))
    when = datetime.combine(day, time(10, rng.randint(0, 59), 2))
    is_void = rng.random() < 0.01
    return {
        "payment_id": str(ids["payment"]),
        "patient_id": f"{person.id:08d}",
        "guarantor_id": str(person.guarantor),
        "location_id": str(person.location.id),
        "payment_date": fmt_date(day, rng),
        "amount": fmt_money(cents, rng, parentheses=True) or "$0.00",
        "method": method,
        "payer_type": payer,
        "check_ref_number": f"EFT {rng.randint(10000, 99999)}" if claim else "",
        "card_last_4": f"{rng.randint(0, 9999):04d}"
        if method in {"Visa", "MasterCard", "Amex"}
        else "",
        "claim_id": str(claim) if claim else "",
        "linked_plan_id": str(plan) if plan else "",
        "unapplied_amount": fmt_money(0, rng),
        "balance_after": fmt_money(rng.randint(0, 500) * 100, rng),
        "voided": "Y" if is_void else "N",
        "void_reason": "Entered on wrong patient" if is_void else "",
        "entered_by": rng.choice(staff.desk),
        "entered_on": fmt_datetime(when),
        "note": note(rng, multiline_rate=0.3) if rng.random() < 0.05 else "",
        "last_modified": fmt_datetime(when),
    }

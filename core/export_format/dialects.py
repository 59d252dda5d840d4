"""Header vocabularies of other practice-management exports, as data.

Practices moving from (or through) another system hand over exports whose headers are spelled
the way that system spells them. Each dialect maps a canonical column to its header there:
`(entity, column)` for one file, `("*", column)` for every file holding the column. Columns a
dialect does not name keep the Dental-Exec label. The proposer reads these as header
evidence; the synthetic export generator writes them (`--dialect`).
"""

from __future__ import annotations

from core.export_format import FILES

__all__ = ["DIALECTS", "DIALECT_NAMES", "dialect_header", "dialect_headers"]

_ANY = "*"

DENTRIX: dict[tuple[str, str], str] = {
    (_ANY, "patient_id"): "Pt ID",
    (_ANY, "location_id"): "Clinic ID",
    (_ANY, "deleted"): "Del Flag",
    ("practice", "location_id"): "Clinic ID",
    ("provider", "staff_id"): "Prov ID",
    ("provider", "code"): "Prov Code",
    ("patient", "last_name"): "Pt Last Name",
    ("patient", "first_name"): "Pt First Name",
    ("patient", "birth_date"): "DOB",
    ("patient", "address_1"): "Street",
    ("patient", "zip"): "Postal Code",
    ("patient", "home_phone"): "Home #",
    ("patient", "cell_phone"): "Mobile #",
    ("patient", "email"): "Primary Email",
    ("patient", "status"): "Pt Status",
    ("patient", "guarantor_id"): "Resp Party",
    ("patient", "home_location_id"): "Home Clinic",
    ("appointment", "appointment_id"): "Appt ID",
    ("treatment_plan", "plan_id"): "Tx Case ID",
    ("procedure", "procedure_id"): "Proc ID",
    ("procedure", "plan_id"): "Tx Case ID",
    ("procedure", "cdt_code"): "ADA Code",
    ("insurance_policy", "policy_id"): "Ins Plan ID",
    ("claim", "claim_id"): "Claim No",
    ("claim", "policy_id"): "Ins Plan ID",
    ("payment", "payment_id"): "Pmt ID",
    ("payment", "guarantor_id"): "Resp Party",
    ("recall", "reminder_id"): "Continuing Care ID",
    ("attachment", "attachment_id"): "Document ID",
    ("communication", "comm_id"): "Contact Log ID",
}

EAGLESOFT: dict[tuple[str, str], str] = {
    (_ANY, "patient_id"): "Patient_No",
    (_ANY, "location_id"): "Office_ID",
    (_ANY, "deleted"): "Is_Deleted",
    ("provider", "staff_id"): "Provider_No",
    ("patient", "last_name"): "Last_Name",
    ("patient", "first_name"): "First_Name",
    ("patient", "birth_date"): "Birth_Date",
    ("patient", "address_1"): "Address_1",
    ("patient", "zip"): "Zipcode",
    ("patient", "cell_phone"): "Cell_Phone",
    ("patient", "email"): "Email_Address",
    ("patient", "guarantor_id"): "Responsible_Party",
    ("patient", "home_location_id"): "Office_ID",
    ("appointment", "appointment_id"): "Appointment_No",
    ("treatment_plan", "plan_id"): "Treatment_Plan_No",
    ("procedure", "procedure_id"): "Planned_Service_No",
    ("procedure", "plan_id"): "Treatment_Plan_No",
    ("insurance_policy", "policy_id"): "Coverage_No",
    ("claim", "claim_id"): "Claim_No",
    ("claim", "policy_id"): "Coverage_No",
    ("payment", "payment_id"): "Transaction_No",
    ("payment", "guarantor_id"): "Responsible_Party",
    ("recall", "reminder_id"): "Recall_No",
    ("attachment", "attachment_id"): "Document_No",
    ("communication", "comm_id"): "Contact_No",
}

OPEN_DENTAL: dict[tuple[str, str], str] = {
    (_ANY, "patient_id"): "PatNum",
    (_ANY, "location_id"): "ClinicNum",
    (_ANY, "deleted"): "IsDeleted",
    ("provider", "staff_id"): "ProvNum",
    ("provider", "code"): "Abbr",
    ("patient", "last_name"): "LName",
    ("patient", "first_name"): "FName",
    ("patient", "birth_date"): "Birthdate",
    ("patient", "address_1"): "Address",
    ("patient", "zip"): "Zip",
    ("patient", "home_phone"): "HmPhone",
    ("patient", "work_phone"): "WkPhone",
    ("patient", "cell_phone"): "WirelessPhone",
    ("patient", "status"): "PatStatus",
    ("patient", "guarantor_id"): "Guarantor",
    ("patient", "home_location_id"): "ClinicNum",
    ("appointment", "appointment_id"): "AptNum",
    ("treatment_plan", "plan_id"): "TreatPlanNum",
    ("procedure", "procedure_id"): "ProcNum",
    ("procedure", "plan_id"): "TreatPlanNum",
    ("insurance_policy", "policy_id"): "PatPlanNum",
    ("claim", "claim_id"): "ClaimNum",
    ("claim", "policy_id"): "PatPlanNum",
    ("payment", "payment_id"): "PayNum",
    ("payment", "guarantor_id"): "Guarantor",
    ("recall", "reminder_id"): "RecallNum",
    ("attachment", "attachment_id"): "DocNum",
    ("communication", "comm_id"): "CommlogNum",
}

DIALECTS: dict[str, dict[tuple[str, str], str]] = {
    "dentrix": DENTRIX,
    "eaglesoft": EAGLESOFT,
    "opendental": OPEN_DENTAL,
}
DIALECT_NAMES = {"dentrix": "Dentrix", "eaglesoft": "Eaglesoft", "opendental": "Open Dental"}


def dialect_header(dialect: str, entity: str, column: str) -> str | None:
    """The header a dialect writes for a column of a file, or None when it keeps the label.

    Raises:
        KeyError: when the dialect is unknown.
    """
    words = DIALECTS[dialect]
    return words.get((entity, column)) or words.get((_ANY, column))


def dialect_headers(dialect: str) -> dict[str, dict[str, str]]:
    """What a dialect's headers mean, file by file: entity -> {header -> canonical column}.

    Raises:
        KeyError: when the dialect is unknown.
    """
    found: dict[str, dict[str, str]] = {}
    for spec in FILES:
        for column in spec.columns:
            header = dialect_header(dialect, spec.entity, column.name)
            if header is not None:
                found.setdefault(spec.entity, {})[header] = column.name
    return found

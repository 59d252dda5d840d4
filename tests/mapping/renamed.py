"""A renamed-headers copy of a fixture bundle: how other offices and versions label columns."""

from __future__ import annotations

import shutil
from pathlib import Path

# file -> {header as in the fixture: header as another office writes it}
RENAMES: dict[str, dict[str, str]] = {
    "practices.csv": {
        "Location Code": "Site Code", "Location Name": "Site Name", "Address 1": "Street",
        "Address 2": "Street 2", "ZIP": "Postcode", "Phone": "Main Phone", "Fax": "Fax Number",
        "Email": "E-mail Address", "Tooth Numbering": "Tooth Numbering System",
        "Opened Date": "Date Opened", "Closed Date": "Date Closed",
    },
    "providers.csv": {
        "Staff ID": "Employee ID", "Code": "Provider Code", "Last Name": "Surname",
        "First Name": "Given Name", "Email": "Work Email", "Hire Date": "Date Hired",
        "Termination Date": "Term Date",
    },
    "patients.csv": {
        "Patient ID": "Pt ID", "Chart #": "Chart Number", "First Name": "Pt First Name",
        "Last Name": "Pt Last Name", "Middle Initial": "MI", "Preferred Name": "Nickname",
        "Birth Date": "DOB", "Address 1": "Street Address", "ZIP": "Zip Code",
        "Home Phone": "Home Tel", "Work Phone": "Work Tel", "Mobile": "Cell",
        "Cell Phone": "Cell", "Email": "Primary Email", "E-mail": "Primary Email",
        "Preferred Contact": "Contact Preference",
        "Status": "Pt Status", "Home Location ID": "Home Office", "Primary Provider": "Dentist",
        "Guarantor ID": "Guarantor #", "Relationship to Guarantor": "Rel to Guarantor",
        "First Visit": "First Visit Date", "Last Visit": "Last Visit Date",
        "Next Appt": "Next Appointment", "Balance": "Account Balance",
        "Patient Note": "Pt Notes", "Created": "Date Created",
    },
    "appointments.csv": {
        "Appointment ID": "Appt #", "Patient ID": "Pt #", "Appt Date": "Appointment Date",
        "Start Time": "Time", "Duration (min)": "Length (mins)", "Provider": "Dentist",
        "Appt Type": "Visit Type", "Status": "Appt Status", "Cancel Reason": "Reason Cancelled",
        "Created By": "Booked By",
    },
    "treatment_plans.csv": {
        "Plan ID": "Tx Plan ID", "Plan Name": "Tx Plan Name", "Status": "Plan Status",
        "Presented By": "Presenter", "Total Fee": "Plan Total", "Notes": "Plan Notes",
    },
    "treatment_plan_procedures.csv": {
        "Procedure ID": "Proc ID", "CDT Code": "Proc Code", "Description": "Proc Description",
        "Tooth #": "Tooth No", "Surface": "Surfaces", "Stage": "Proc Status",
        "Date Planned": "Planned Date", "Date Completed": "Completed Date", "Fee": "Proc Fee",
    },
    "insurance_policies.csv": {
        "Carrier Name": "Insurance Company", "Group #": "Group Number", "Policy #": "Policy Number",
        "Subscriber ID": "Member ID", "Relationship": "Relation to Subscriber",
        "Effective Date": "Eff Date", "Termination Date": "Term Date",
        "Annual Max": "Annual Maximum",
        "Status": "Policy Status",
    },
    "insurance_claims.csv": {
        "Claim ID": "Claim #", "Date of Service": "DOS", "Status": "Claim Status",
        "Billed": "Amount Billed", "Paid": "Amount Paid", "Treating Provider": "Rendering Provider",
    },
    "referrals.csv": {
        "Source Type": "Referral Type", "Source Name": "Referred By",
        "Referral Date": "Date Referred",
    },
    "payments.csv": {
        "Payment ID": "Pmt ID", "Payment Date": "Date Paid", "Amount": "Payment Amount",
        "Method": "Payment Method", "Check / Ref #": "Reference #", "Voided": "Is Voided",
    },
    "recalls.csv": {
        "Reminder ID": "Recall ID", "Recall Type": "Recall Kind", "Due Date": "Date Due",
        "Assigned To": "Assignee", "Status": "Recall Status",
    },
    "attachments.csv": {
        "File Name": "Filename", "File Size": "Size", "MIME Type": "Content Type",
        "Storage Path": "Path", "Description": "Document Description",
    },
    "communications.csv": {
        "Comm ID": "Communication ID", "Date Time": "Date/Time", "Mode": "Channel",
        "Staff": "Staff Member", "Note": "Comm Note",
    },
    "custom_fields.csv": {"Field Key": "Key", "Value": "Field Value"},
}  # fmt: skip


def renames_for(name: str) -> dict[str, str]:
    """The renames of the file called `name` (matched by prefix, like the reader)."""
    stems = sorted(RENAMES, key=len, reverse=True)
    for stem in stems:
        if name.lower().startswith(stem.removesuffix(".csv")):
            return RENAMES[stem]
    return {}


def renamed_copy(bundle: Path, out: Path) -> Path:
    """Copy a bundle with each file's header line rewritten by RENAMES; returns `out`."""
    shutil.copytree(bundle, out)
    for path in sorted(out.glob("*.csv")):
        renames = renames_for(path.name)
        raw = path.read_bytes()
        bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
        header, sep, rest = raw[len(bom) :].partition(b"\n")
        cells = header.decode("ascii").rstrip("\r").split(",")
        new = ",".join(renames.get(cell.strip(), cell.strip()) for cell in cells)
        line_end = b"\r" if header.endswith(b"\r") else b""
        path.write_bytes(bom + new.encode("ascii") + line_end + sep + rest)
    return out

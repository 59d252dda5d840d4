"""The Dental-Exec export format as data: its 14 files, their columns, keys and code sets.

Pure data and small lookups; no I/O. The reader, the audit, the generator and the mapping all
read the format from here, so a change to the format is made once. Column tables are written
in a compact `Label | type | flags` notation (parsed once at import) to stay readable next to
the specification (shared/reference/dental-exec-export.md, section 3).

Column flags: `req` (never empty), `pk`, `name=<canonical>` (when not derived from the label),
`fk=<entity>` (by ID) or `fk=provider.code` (by code, Q13), `alias=<A>;<B>` (other header
spellings, Q18).
"""

from __future__ import annotations

import re
from enum import StrEnum

import msgspec

__all__ = [
    "CODE_SETS",
    "ENTITIES",
    "FILES",
    "BoolFlavour",
    "ColumnSpec",
    "ColumnType",
    "FileSpec",
    "canonical_name",
    "file_for_entity",
    "header_key",
    "match_file_name",
]


class ColumnType(StrEnum):
    """The value types of section 1 of the specification."""

    INT = "int"
    TEXT = "text"
    CODE = "code"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    MONEY = "money"
    BOOL = "bool"
    PHONE = "phone"
    EMAIL = "email"
    LIST = "list"


class BoolFlavour(StrEnum):
    """How a file spells booleans (Q6)."""

    YN = "Y/N"
    YES_NO = "Yes/No"
    ONE_ZERO = "1/0"
    TRUE_FALSE = "True/False"


class ColumnSpec(msgspec.Struct, frozen=True):
    """One column: canonical name, header label, type, required-ness, keys and aliases."""

    name: str
    label: str
    type: ColumnType
    required: bool = False
    is_pk: bool = False
    fk: str | None = None
    aliases: tuple[str, ...] = ()


class FileSpec(msgspec.Struct, frozen=True):
    """One export file: entity, name prefix, primary key columns, columns and boolean flavour."""

    entity: str
    prefix: str
    pk: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    bool_flavour: BoolFlavour
    deleted_column: str | None = None

    def column(self, name: str) -> ColumnSpec:
        """The column with this canonical name.

        Raises:
            KeyError: when the file has no such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def foreign_keys(self) -> dict[str, str]:
        """Canonical column name -> referenced entity (or `provider.code`)."""
        return {c.name: c.fk for c in self.columns if c.fk}


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(header: str) -> str:
    """Case-, space- and punctuation-insensitive form of a header (`E-mail` -> `email`)."""
    return _NON_ALNUM.sub("", header.lower().replace("#", ""))


def canonical_name(label: str) -> str:
    """The snake_case canonical column name for a header label (`Chart #` -> `chart_number`)."""
    text = label.lower().replace("#", " number").replace("%", " pct")
    return _NON_ALNUM.sub("_", text).strip("_")


def _parse_columns(table: str) -> tuple[ColumnSpec, ...]:
    columns = []
    for raw in table.strip().splitlines():
        parts = [part.strip() for part in raw.split("|")]
        label, kind, flags = parts[0], ColumnType(parts[1]), parts[2:]
        fk: str | None = None
        aliases: tuple[str, ...] = ()
        name = canonical_name(label)
        for flag in flags:
            if flag.startswith("name="):
                name = flag[5:]
            elif flag.startswith("fk="):
                fk = flag[3:]
            elif flag.startswith("alias="):
                aliases = tuple(flag[6:].split(";"))
        is_pk = "pk" in flags
        columns.append(
            ColumnSpec(
                name=name,
                label=label,
                type=kind,
                required=is_pk or "req" in flags,
                is_pk=is_pk,
                fk=fk,
                aliases=aliases,
            )
        )
    return tuple(columns)


_PRACTICES = """
Location ID | int | pk
Location Code | text | req
Practice Name | text | req
Location Name | text | req
Address 1 | text | req | alias=Address;Address Line 1
Address 2 | text | alias=Address Line 2
City | text | req
State | text | req
ZIP | text | req | alias=Zip Code;Postal Code
Phone | phone | req
Fax | phone
Email | email
Website | text
Tax ID | text
Time Zone | text | alias=TZ;Timezone
Tooth Numbering | code | req
Is Primary | bool | req
Active | bool | req
Opened Date | date | req
Closed Date | date
Last Modified | datetime
"""

_PROVIDERS = """
Staff ID | int | pk
Code | text | req | alias=Provider Code;Staff Code
Last Name | text | req
First Name | text | req
Credential | text
Role | code | req
Specialty | code
Is Provider | bool | req
Email | email
Phone | phone
Location IDs | list | req
Default Location ID | int | req | fk=practice
State License # | text | alias=License #;State License
Username | text | alias=Login
Hire Date | date
Termination Date | date | alias=Term Date
Active | bool | req
Last Modified | datetime
"""

_PATIENTS = """
Patient ID | int | pk | alias=PatNum
Chart # | text | alias=Chart Number;Chart No
Last Name | text | req
First Name | text | req
Middle Initial | text | alias=MI
Preferred Name | text | alias=Nickname
Suffix | text
Gender | code | alias=Sex
Birth Date | date | alias=DOB;Date of Birth;Birthdate
SSN | text
Address 1 | text | alias=Address;Address Line 1
Address 2 | text | alias=Address Line 2
City | text
State | text
ZIP | text | alias=Zip Code;Postal Code
Home Phone | phone
Work Phone | phone
Work Ext | text | alias=Work Extension
Cell Phone | phone | alias=Mobile;Mobile Phone;Cell
E-mail | email | name=email | alias=Email Address
Preferred Contact | code
Text OK | bool
Email OK | bool
Status | code | req | alias=Patient Status
Home Location ID | int | req | fk=practice | alias=Location ID
Primary Provider | code | req | fk=provider.code
Hygienist | code | fk=provider.code
Guarantor ID | int | req | fk=patient
Relationship to Guarantor | code | req | alias=Relationship
First Visit | date
Last Visit | date
Next Appt | datetime | alias=Next Appointment
Balance | money | req
Medical Alerts | text
Premed | bool
Employer | text
Language | text
Patient Note | text | alias=Note;Notes
Created | date | req
Last Modified | datetime
"""

_APPOINTMENTS = """
Appointment ID | int | pk | alias=Appt ID
Patient ID | int | req | fk=patient
Location ID | int | req | fk=practice
Appt Date | date | alias=Appointment Date;Date
Start Time | time | alias=Time
Duration (min) | int | req | alias=Duration;Length
Provider | code | fk=provider.code
Hygienist | code | fk=provider.code
Operatory | text | alias=Op
Appt Type | code | alias=Appointment Type;Type
Procedures | list
Status | code | req
Confirmation | code
ASAP | bool
New Patient | bool
Cancel Reason | text
Cancelled On | datetime
Note | text | alias=Notes
Created | datetime | req
Created By | code | req | fk=provider.code
Deleted | bool | req
Last Modified | datetime
"""

_TREATMENT_PLANS = """
Plan ID | int | pk
Patient ID | int | req | fk=patient
Location ID | int | req | fk=practice
Plan Name | text
Status | code | req
Created Date | date | req
Presented Date | date
Presented By | code | fk=provider.code
Signed | bool | req
Signed Date | date
Total Fee | money | req
Total Ins Est | money | req
Total Pt Est | money | req
Notes | text | alias=Note
Deleted | bool | req
Last Modified | datetime
"""

_PROCEDURES = """
Procedure ID | int | pk
Plan ID | int | fk=treatment_plan
Patient ID | int | req | fk=patient
Seq | int
Phase | int
CDT Code | text | req | alias=Code;Proc Code;Procedure Code
Description | text | req
Tooth | text | alias=Tooth Number;Tooth No
Surface | text | alias=Surfaces
Area | text
Stage | code | req | alias=Status
Provider | code | fk=provider.code
Fee | money | req
Ins Est | money
Pt Est | money
Appointment ID | int | fk=appointment
Date Planned | date | req
Date Completed | date
Diagnosis | text
Priority | code
Note | text | alias=Notes
Deleted | bool | req
Last Modified | datetime
"""

_POLICIES = """
Policy ID | int | pk
Patient ID | int | req | fk=patient
Coverage Order | code | req
Carrier Name | text | req | alias=Carrier
Payer ID | text
Carrier Phone | phone
Coverage Type | code | req
Group Name | text
Group # | text | alias=Group Number
Policy # | text | alias=Policy Number
Subscriber ID | text | req | alias=Member ID
Subscriber Patient ID | int | fk=patient
Subscriber Name | text
Subscriber DOB | date
Relationship | code | req
Employer | text
Effective Date | date | req
Termination Date | date | alias=Term Date
Status | code | req
Annual Max | money
Deductible | money
Remaining Benefit | money
Coverage % | text | alias=Coverage Percent
Renewal Month | text
Last Verified | date
Notes | text | alias=Note
Last Modified | datetime
"""

_CLAIMS = """
Claim ID | int | pk
Policy ID | int | req | fk=insurance_policy
Patient ID | int | req | fk=patient
Location ID | int | req | fk=practice
Claim Type | code | req
Date of Service | date | req | alias=DOS
Date Sent | date
Date Closed | date
Status | code | req
Procedure Codes | list | req
Billed | money | req
Est Ins Pay | money
Paid | money
Write-Off | money
Deductible Applied | money
Treating Provider | code | req | fk=provider.code
Clearinghouse Claim # | text
Payer Claim # | text
Denial Reason | text
Notes | text | alias=Note
Last Modified | datetime
"""

_REFERRALS = """
Referral ID | int | pk
Patient ID | int | req | fk=patient
Direction | code | req
Source Type | code | req
Source Code | text
Source Name | text | req
Referring Patient ID | int | fk=patient
Referring NPI | text
Specialty | text
Phone | phone
Email | email
Referral Date | date
Reason | text
Status | code
Note | text | alias=Notes
Last Modified | datetime
"""

_PAYMENTS = """
Payment ID | int | pk
Patient ID | int | req | fk=patient
Guarantor ID | int | req | fk=patient
Location ID | int | req | fk=practice
Payment Date | date | req
Amount | money | req
Method | code | req
Payer Type | code | req
Check / Ref # | text | alias=Check #;Reference
Card Last 4 | text
Claim ID | int | fk=claim
Linked Plan ID | int | fk=treatment_plan
Linked Procedure IDs | list
Unapplied Amount | money
Balance After | money
Voided | bool | req
Void Reason | text
Entered By | code | req | fk=provider.code
Entered On | datetime | req
Note | text | alias=Notes
Last Modified | datetime
"""

_RECALLS = """
Reminder ID | int | pk | alias=Recall ID
Patient ID | int | req | fk=patient
Category | code | req
Subject | text | req
Recall Type | code
Interval | text
Due Date | date
Last Completed | date
Recurrence | text
Assigned To | code | fk=provider.code
Linked Appointment ID | int | fk=appointment
Status | code | req
Contact Attempts | int
Last Contact | date
Note | text | alias=Notes
Created | date | req
Deleted | bool | req
Last Modified | datetime
"""

_ATTACHMENTS = """
Attachment ID | int | pk
Patient ID | int | req | fk=patient
Linked Record Type | code
Linked Record ID | int
Category | code | req
File Name | text | req
File Size | text
MIME Type | text | alias=Content Type
Storage Path | text | req
Download URL | text
Tooth Numbers | list
Taken Date | date
Uploaded On | datetime
Uploaded By | code | fk=provider.code
Description | text
Deleted | bool | req
Last Modified | datetime
"""

_COMMUNICATIONS = """
Comm ID | int | pk | alias=Communication ID
Patient ID | int | req | fk=patient
Date Time | datetime | req | alias=Date/Time
Mode | code | req
Direction | code
Type | code | req
Subject | text
Note | text | alias=Notes
Staff | code | fk=provider.code
Duration (min) | int | alias=Duration
Linked Appointment ID | int | fk=appointment
Deleted | bool | req
Last Modified | datetime
"""

_CUSTOM_FIELDS = """
Record Type | code | pk
Record ID | int | pk
Field Key | text | pk
Field Label | text | req
Field Type | code | req
Value | text
Last Modified | datetime
"""


def _spec(
    entity: str, prefix: str, table: str, flavour: BoolFlavour, deleted: str | None = None
) -> FileSpec:
    columns = _parse_columns(table)
    pk = tuple(c.name for c in columns if c.is_pk)
    return FileSpec(entity, prefix, pk, columns, flavour, deleted)


_YN, _YES, _ONE, _TRUE = (
    BoolFlavour.YN,
    BoolFlavour.YES_NO,
    BoolFlavour.ONE_ZERO,
    BoolFlavour.TRUE_FALSE,
)

# In export order; `file_for_entity` and `match_file_name` read this table.
FILES: tuple[FileSpec, ...] = (
    _spec("practice", "practices", _PRACTICES, _ONE),
    _spec("provider", "providers", _PROVIDERS, _YN),
    _spec("patient", "patients", _PATIENTS, _YN),
    _spec("appointment", "appointments", _APPOINTMENTS, _YN, "deleted"),
    _spec("treatment_plan", "treatment_plans", _TREATMENT_PLANS, _YN, "deleted"),
    _spec("procedure", "treatment_plan_procedures", _PROCEDURES, _YN, "deleted"),
    _spec("insurance_policy", "insurance_policies", _POLICIES, _YN),
    _spec("claim", "insurance_claims", _CLAIMS, _YN),
    _spec("referral", "referrals", _REFERRALS, _YN),
    _spec("payment", "payments", _PAYMENTS, _YN),
    _spec("recall", "recalls", _RECALLS, _YN, "deleted"),
    _spec("attachment", "attachments", _ATTACHMENTS, _TRUE, "deleted"),
    _spec("communication", "communications", _COMMUNICATIONS, _YN, "deleted"),
    _spec("custom_field", "custom_fields", _CUSTOM_FIELDS, _YES),
)

ENTITIES: tuple[str, ...] = tuple(spec.entity for spec in FILES)
_BY_ENTITY = {spec.entity: spec for spec in FILES}
# Longest prefix first, so `treatment_plan_procedures*` wins over `treatment_plans*`.
_BY_PREFIX = sorted(FILES, key=lambda spec: len(spec.prefix), reverse=True)

EXPORT_INFO_PREFIX = "_export_info"


def file_for_entity(entity: str) -> FileSpec:
    """The file specification of an entity (`patient` -> patients.csv).

    Raises:
        KeyError: when the entity is not one of ENTITIES.
    """
    return _BY_ENTITY[entity]


def match_file_name(name: str) -> FileSpec | None:
    """The file a name belongs to, by case-insensitive prefix (`Patients_2025.csv`), or None."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if not base.endswith(".csv"):
        return None
    for spec in _BY_PREFIX:
        if base.startswith(spec.prefix):
            return spec
    # Single-table exports name files like `Patients_20250314.csv`; singular forms too.
    for spec in _BY_PREFIX:
        if base.startswith(spec.prefix.rstrip("s")):
            return spec
    return None


CODE_SETS: dict[str, tuple[str, ...]] = {
    "role": (
        "Dentist",
        "Specialist",
        "Hygienist",
        "Assistant",
        "Front Desk",
        "Office Manager",
        "Billing",
        "Other",
    ),
    "specialty": (
        "General",
        "Endodontics",
        "Periodontics",
        "Oral Surgery",
        "Orthodontics",
        "Pediatric",
        "Prosthodontics",
    ),
    "patient_status": (
        "Active",
        "Inactive",
        "Archived",
        "Non-Patient",
        "Prospect",
        "Deceased",
        "Deleted",
    ),
    "gender": ("M", "F", "U", "X"),
    "preferred_contact": ("Text", "Call", "Email", "Mail", "None"),
    "guarantor_relationship": ("Self", "Spouse", "Child", "Other"),
    "appointment_type": (
        "New Patient Exam",
        "Recall/Prophy",
        "Perio Maint",
        "SRP",
        "Restorative",
        "Crown Prep",
        "Crown Seat",
        "Endo",
        "Extraction",
        "Implant",
        "Ortho Adjust",
        "Consult",
        "Emergency",
        "Other",
    ),
    "appointment_status": (
        "Scheduled",
        "Arrived",
        "In Chair",
        "Completed",
        "Cancelled",
        "No-Show",
        "Broken",
        "ASAP",
        "Unscheduled",
    ),
    "confirmation": ("Confirmed", "Unconfirmed", "Left Message", "Texted", "Emailed"),
    "plan_status": (
        "Draft",
        "Presented",
        "Accepted",
        "Partially Accepted",
        "Rejected",
        "Completed",
        "Archived",
    ),
    "procedure_stage": (
        "Proposed",
        "Accepted",
        "Scheduled",
        "In Progress",
        "Completed",
        "Declined",
        "Existing",
        "Referred Out",
        "Deleted",
    ),
    "priority": ("High", "Medium", "Low"),
    "coverage_order": ("Primary", "Secondary", "Tertiary", "1", "2", "3"),
    "coverage_type": (
        "Dental PPO",
        "DHMO",
        "Indemnity",
        "Medicaid/CHIP",
        "Discount Plan",
        "Medical",
    ),
    "policy_relationship": (
        "Self",
        "Spouse",
        "Child",
        "Other",
        "S",
        "SP",
        "C",
        "O",
        "Dependent",
        "Significant Other",
        "Life Partner",
        "Employee",
        "Handicapped Dependent",
    ),
    "policy_status": ("Active", "Inactive", "Terminated"),
    "claim_type": ("Primary", "Secondary", "Pre-Auth"),
    "claim_status": (
        "Unsent",
        "Hold",
        "Sent",
        "Accepted",
        "Pending",
        "Paid",
        "Partial Pay",
        "Denied",
        "Rejected",
        "Voided",
        "Pre-Auth Sent",
        "Pre-Auth Received",
        "U",
        "H",
        "W",
        "S",
        "R",
        "I",
    ),
    "x12_claim_category": ("A1", "A2", "A3", "A6", "A7", "P1", "P2", "P3", "F0", "F1", "F2"),
    "referral_direction": ("In", "Out"),
    "referral_source_type": (
        "Doctor",
        "Patient",
        "Marketing",
        "Insurance",
        "Website",
        "Walk-In",
        "Other",
    ),
    "referral_status": ("New", "Scheduled", "Seen", "Closed"),
    "payment_method": (
        "Cash",
        "Check",
        "Visa",
        "MasterCard",
        "Amex",
        "Discover",
        "Credit Card",
        "Debit",
        "Insurance Check",
        "EFT/ERA",
        "CareCredit",
        "HSA/FSA",
        "Money Order",
        "Other",
    ),
    "payer_type": ("Patient", "Insurance"),
    "recall_category": (
        "Recall",
        "Hygiene",
        "Perio",
        "Follow-Up",
        "Call Back",
        "Collections",
        "Lab Case",
        "Other",
    ),
    "recall_type": (
        "Prophy",
        "Child Prophy",
        "Perio Maint",
        "Bitewings",
        "FMX",
        "Pano",
        "Fluoride",
        "Exam",
    ),
    "recall_status": ("Open", "Contacted", "Scheduled", "Completed", "Dismissed", "Disabled"),
    "attachment_record_type": ("Patient", "Claim", "Treatment Plan", "Appointment", "Referral"),
    "attachment_category": (
        "Radiograph",
        "Intraoral Photo",
        "Insurance Card",
        "Consent Form",
        "HIPAA Form",
        "Medical History",
        "Referral Letter",
        "EOB",
        "Treatment Plan",
        "Lab Rx",
        "Other",
    ),
    "comm_mode": ("Phone", "Text", "Email", "Letter", "In Person", "Portal", "None"),
    "comm_direction": ("Sent", "Received"),
    "comm_type": (
        "Appointment Related",
        "Recall",
        "Financial",
        "Insurance",
        "Treatment",
        "Misc",
    ),
    "custom_record_type": (
        "Patient",
        "Provider",
        "Location",
        "Claim",
        "Policy",
        "Plan",
        "Procedure",
    ),
    "custom_field_type": ("Text", "YesNo", "Date", "Number", "List"),
    "tooth_numbering": ("Universal", "FDI"),
}

# Custom-field record types -> the entity whose file their Record ID points into.
CUSTOM_RECORD_ENTITY: dict[str, str] = {
    "patient": "patient",
    "provider": "provider",
    "location": "practice",
    "claim": "claim",
    "policy": "insurance_policy",
    "plan": "treatment_plan",
    "procedure": "procedure",
}

_MEDICAL_ALERTS = (
    "MA_ALLERGY_PENICILLIN",
    "MA_ALLERGY_LATEX",
    "MA_ALLERGY_CODEINE",
    "MA_ALLERGY_SULFA",
    "MA_ALLERGY_LOCAL_ANESTHETIC",
    "MA_ALLERGY_NSAID",
    "MA_ANTICOAGULANT",
    "MA_BISPHOSPHONATE",
    "MA_PREMED_REQUIRED",
    "MA_CARDIAC",
    "MA_JOINT_REPLACEMENT",
    "MA_DIABETES",
    "MA_HYPERTENSION",
    "MA_BLEEDING_DISORDER",
    "MA_PREGNANT",
    "MA_SMOKER",
)

# The custom-field keys the format knows (section 3.13), per record type, with their type.
KNOWN_CUSTOM_FIELDS: dict[str, dict[str, str]] = {
    "Patient": {
        "HIPAA_NPP_ACK": "YesNo",
        "HIPAA_NPP_SIGNED": "Date",
        "HIPAA_RELEASE_TO": "Text",
        "CONSENT_SMS": "YesNo",
        "CONSENT_EMAIL": "YesNo",
        **dict.fromkeys(_MEDICAL_ALERTS, "YesNo"),
        "MED_HX_UPDATED": "Date",
        "TOOTH_CHART": "Text",
    },
    "Provider": {"NPI": "Text", "TAXONOMY": "Text"},
    "Location": {"NPI_TYPE2": "Text"},
    "Claim": {"CLAIM_STATUS_CODE": "Text", "CLAIM_STATUS_DETAIL": "Text"},
    "Policy": {"ELIG_VERIFIED_BY": "Text"},
}

# Export-info keys (`_export_info.txt`) the reader understands.
EXPORT_INFO_KEYS = (
    "Product",
    "Exported",
    "Practice Code",
    "Locations",
    "Modified Since",
    "Include Deleted",
    "Encoding",
)

"""Code sets (specification section 4) and the custom-field keys the format knows (3.13)."""

from __future__ import annotations

# fmt: off
CODE_SETS: dict[str, tuple[str, ...]] = {
    "role": (
        "Dentist", "Specialist", "Hygienist", "Assistant", "Front Desk", "Office Manager",
        "Billing", "Other",
    ),
    "specialty": (
        "General", "Endodontics", "Periodontics", "Oral Surgery", "Orthodontics", "Pediatric",
        "Prosthodontics",
    ),
    "patient_status": (
        "Active", "Inactive", "Archived", "Non-Patient", "Prospect", "Deceased", "Deleted",
    ),
    "gender": ("M", "F", "U", "X"),
    "preferred_contact": ("Text", "Call", "Email", "Mail", "None"),
    "guarantor_relationship": ("Self", "Spouse", "Child", "Other"),
    "appointment_type": (
        "New Patient Exam", "Recall/Prophy", "Perio Maint", "SRP", "Restorative", "Crown Prep",
        "Crown Seat", "Endo", "Extraction", "Implant", "Ortho Adjust", "Consult", "Emergency",
        "Other",
    ),
    "appointment_status": (
        "Scheduled", "Arrived", "In Chair", "Completed", "Cancelled", "No-Show", "Broken", "ASAP",
        "Unscheduled",
    ),
    "confirmation": ("Confirmed", "Unconfirmed", "Left Message", "Texted", "Emailed"),
    "plan_status": (
        "Draft", "Presented", "Accepted", "Partially Accepted", "Rejected", "Completed", "Archived",
    ),
    "procedure_stage": (
        "Proposed", "Accepted", "Scheduled", "In Progress", "Completed", "Declined", "Existing",
        "Referred Out", "Deleted",
    ),
    "priority": ("High", "Medium", "Low"),
    "coverage_order": ("Primary", "Secondary", "Tertiary", "1", "2", "3"),
    "coverage_type": (
        "Dental PPO", "DHMO", "Indemnity", "Medicaid/CHIP", "Discount Plan", "Medical",
    ),
    "policy_relationship": (
        "Self", "Spouse", "Child", "Other", "S", "SP", "C", "O", "Dependent", "Significant Other",
        "Life Partner", "Employee", "Handicapped Dependent",
    ),
    "policy_status": ("Active", "Inactive", "Terminated"),
    "claim_type": ("Primary", "Secondary", "Pre-Auth"),
    "claim_status": (
        "Unsent", "Hold", "Sent", "Accepted", "Pending", "Paid", "Partial Pay", "Denied",
        "Rejected", "Voided", "Pre-Auth Sent", "Pre-Auth Received", "U", "H", "W", "S", "R", "I",
    ),
    "x12_claim_category": ("A1", "A2", "A3", "A6", "A7", "P1", "P2", "P3", "F0", "F1", "F2"),
    "referral_direction": ("In", "Out"),
    "referral_source_type": (
        "Doctor", "Patient", "Marketing", "Insurance", "Website", "Walk-In", "Other",
    ),
    "referral_status": ("New", "Scheduled", "Seen", "Closed"),
    "payment_method": (
        "Cash", "Check", "Visa", "MasterCard", "Amex", "Discover", "Credit Card", "Debit",
        "Insurance Check", "EFT/ERA", "CareCredit", "HSA/FSA", "Money Order", "Other",
    ),
    "payer_type": ("Patient", "Insurance"),
    "recall_category": (
        "Recall", "Hygiene", "Perio", "Follow-Up", "Call Back", "Collections", "Lab Case", "Other",
    ),
    "recall_type": (
        "Prophy", "Child Prophy", "Perio Maint", "Bitewings", "FMX", "Pano", "Fluoride", "Exam",
    ),
    "recall_status": ("Open", "Contacted", "Scheduled", "Completed", "Dismissed", "Disabled"),
    "attachment_record_type": ("Patient", "Claim", "Treatment Plan", "Appointment", "Referral"),
    "attachment_category": (
        "Radiograph", "Intraoral Photo", "Insurance Card", "Consent Form", "HIPAA Form",
        "Medical History", "Referral Letter", "EOB", "Treatment Plan", "Lab Rx", "Other",
    ),
    "comm_mode": ("Phone", "Text", "Email", "Letter", "In Person", "Portal", "None"),
    "comm_direction": ("Sent", "Received"),
    "comm_type": ("Appointment Related", "Recall", "Financial", "Insurance", "Treatment", "Misc"),
    "custom_record_type": (
        "Patient", "Provider", "Location", "Claim", "Policy", "Plan", "Procedure",
    ),
    "custom_field_type": ("Text", "YesNo", "Date", "Number", "List"),
    "tooth_numbering": ("Universal", "FDI"),
}
# fmt: on

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

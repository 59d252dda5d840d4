"""Default value maps: Dental-Exec codes (reference §4) -> Twenty select options.

Written as `name: target | fallback`, then indented `Code=OPTION, ...` lines. The proposer
copies them into `mapping.toml`, adds the codes it saw and lists those it could not place.
"""

from __future__ import annotations

from core.mapping.model import ValueMap

__all__ = ["CDT_CATEGORY_PREFIX", "VALUE_MAP_COLUMNS", "default_value_maps"]

_CDT_CODES = (
    "D0120 D0140 D0150 D0210 D0220 D0274 D0330 D1110 D1120 D1206 D1351 D2140 D2150 D2330 "
    "D2391 D2392 D2740 D2750 D2950 D3310 D3330 D4341 D4342 D4910 D5110 D6010 D7140 D7210 "
    "D8080 D9110 D9986 D9987"
)
# fmt: off
_MAPS = """
gender: person.gender |
    M=MALE, F=FEMALE, U=UNKNOWN, X=OTHER
preferred_contact: person.preferredContact |
    Text=TEXT, Call=CALL, Email=EMAIL, Mail=MAIL, None=NONE
patient_status: person.patientStatus |
    Active=ACTIVE, Inactive=INACTIVE, Archived=ARCHIVED, Non-Patient=NON_PATIENT,
    Prospect=PROSPECT, Deceased=DECEASED, Deleted=DELETED
appointment_task_status: task.status |
    Scheduled=TODO, ASAP=TODO, Unscheduled=TODO, Arrived=IN_PROGRESS, In Chair=IN_PROGRESS,
    Completed=DONE, Cancelled=DONE, No-Show=DONE, Broken=DONE
appointment_status: task.appointmentStatus |
    Scheduled=SCHEDULED, Arrived=ARRIVED, In Chair=IN_CHAIR, Completed=COMPLETED,
    Cancelled=CANCELLED, No-Show=NO_SHOW, Broken=NO_SHOW, ASAP=ASAP, Unscheduled=UNSCHEDULED
plan_status: treatment.planStatus |
    Draft=DRAFT, Presented=PRESENTED, Accepted=ACCEPTED, Partially Accepted=PARTIALLY_ACCEPTED,
    Rejected=REJECTED, Completed=COMPLETED, Archived=ARCHIVED
procedure_stage: procedure.stage |
    Proposed=PROPOSED, Accepted=ACCEPTED, Scheduled=SCHEDULED, In Progress=IN_PROGRESS,
    Completed=COMPLETED, Declined=DECLINED, Existing=EXISTING, Referred Out=REFERRED_OUT
cdt_category: procedure.category | OTHER
    D0=DIAGNOSTIC, D1=PREVENTIVE, D2=RESTORATIVE, D3=ENDODONTICS, D4=PERIODONTICS,
    D5=PROSTHODONTICS_REMOVABLE, D6=IMPLANTS_FIXED_PROSTHETICS, D7=ORAL_SURGERY,
    D8=ORTHODONTICS, D9=ADJUNCTIVE
coverage_order: insurance.coverageOrder |
    Primary=PRIMARY, Secondary=SECONDARY, Tertiary=TERTIARY, 1=PRIMARY, 2=SECONDARY,
    3=TERTIARY
coverage_type: insurance.coverageType |
    Dental PPO=DENTAL_PPO, DHMO=DHMO, Indemnity=INDEMNITY, Medicaid/CHIP=MEDICAID_CHIP,
    Discount Plan=DISCOUNT_PLAN, Medical=MEDICAL
policy_relationship: insurance.relationship |
    Self=SELF, Spouse=SPOUSE, Child=CHILD, Other=OTHER, S=SELF, SP=SPOUSE, C=CHILD, O=OTHER,
    Dependent=CHILD, Handicapped Dependent=CHILD, Significant Other=OTHER, Life Partner=OTHER,
    Employee=OTHER
policy_status: insurance.policyStatus |
    Active=ACTIVE, Inactive=INACTIVE, Terminated=INACTIVE
claim_type: claim.claimKind |
    Primary=PRIMARY, Secondary=SECONDARY, Pre-Auth=PRE_AUTH
claim_status: claim.claimStatus | OTHER
    Unsent=UNSENT, Hold=HOLD, Sent=SENT, Accepted=ACCEPTED, Pending=PENDING, Paid=PAID,
    Partial Pay=PARTIAL_PAY, Denied=DENIED, Rejected=REJECTED, Voided=VOIDED,
    Pre-Auth Sent=PRE_AUTH_SENT, Pre-Auth Received=PRE_AUTH_RECEIVED, U=UNSENT, H=HOLD,
    W=UNSENT, S=SENT, R=PAID, I=HOLD
payer_type: payment.payerKind |
    Patient=PATIENT, Insurance=INSURANCE
payment_method: payment.method | OTHER
    Cash=CASH, Check=CHECK, Money Order=CHECK, Visa=CARD, MasterCard=CARD, Amex=CARD,
    Discover=CARD, Credit Card=CARD, Debit=CARD, HSA/FSA=CARD, Insurance Check=INSURANCE,
    EFT/ERA=INSURANCE, CareCredit=FINANCING, Other=OTHER
comm_mode: communication.mode | OTHER
    Phone=CALL, Text=TEXT, Email=EMAIL, Letter=LETTER, In Person=IN_PERSON, Portal=PORTAL,
    None=OTHER
comm_direction: communication.direction |
    Sent=SENT, Received=RECEIVED
comm_type: communication.topic | MISC
    Appointment Related=APPOINTMENT, Recall=RECALL, Financial=FINANCIAL, Insurance=INSURANCE,
    Treatment=TREATMENT, Misc=MISC
referral_source: person.referralSource | OTHER
    Doctor=DOCTOR, Patient=PATIENT, Marketing=MARKETING, Insurance=INSURANCE, Website=WEBSITE,
    Walk-In=WALK_IN, Other=OTHER
recall_category: task.taskType | REMINDER
    Recall=RECALL, Hygiene=RECALL, Perio=RECALL, Follow-Up=REMINDER, Call Back=REMINDER,
    Collections=REMINDER, Lab Case=REMINDER, Other=REMINDER
recall_status: task.status |
    Open=TODO, Contacted=IN_PROGRESS, Scheduled=IN_PROGRESS, Completed=DONE, Dismissed=DONE,
    Disabled=DONE
recall_type: task.title |
    Prophy=PROPHY, Child Prophy=CHILD_PROPHY, Perio Maint=PERIO_MAINT,
    Perio Maintenance=PERIO_MAINT, Perio=PERIO_MAINT, Bitewings=BITEWINGS, BWX=BITEWINGS,
    FMX=FMX, Pano=PANO, Panoramic=PANO, Fluoride=FLUORIDE, Exam=EXAM
"""
# fmt: on

# value map -> the (entity, column) pairs whose codes it converts (the proposer profiles them).
VALUE_MAP_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "gender": (("patient", "gender"),),
    "preferred_contact": (("patient", "preferred_contact"),),
    "patient_status": (("patient", "status"),),
    "appointment_task_status": (("appointment", "status"),),
    "appointment_status": (("appointment", "status"),),
    "plan_status": (("treatment_plan", "status"),),
    "procedure_stage": (("procedure", "stage"),),
    "cdt_code": (("procedure", "cdt_code"),),
    "cdt_category": (),
    "coverage_order": (("insurance_policy", "coverage_order"),),
    "coverage_type": (("insurance_policy", "coverage_type"),),
    "policy_relationship": (("insurance_policy", "relationship"),),
    "policy_status": (("insurance_policy", "status"),),
    "claim_type": (("claim", "claim_type"),),
    "claim_status": (("claim", "status"),),
    "payer_type": (("payment", "payer_type"),),
    "payment_method": (("payment", "method"),),
    "comm_mode": (("communication", "mode"),),
    "comm_direction": (("communication", "direction"),),
    "comm_type": (("communication", "type"),),
    "referral_source": (("referral", "source_type"),),
    "recall_category": (("recall", "category"),),
    "recall_status": (("recall", "status"),),
    "recall_type": (("recall", "recall_type"),),
}
CDT_CATEGORY_PREFIX = 2  # `D2740` -> `D2`


def _parse() -> dict[str, ValueMap]:
    maps: dict[str, ValueMap] = {}
    current: ValueMap | None = None
    for raw in _MAPS.strip().splitlines():
        if not raw.startswith(" "):
            name, _, rest = raw.partition(":")
            target, _, fallback = rest.partition("|")
            current = ValueMap(target=target.strip(), fallback=fallback.strip())
            maps[name.strip()] = current
            continue
        assert current is not None
        for pair in raw.strip().rstrip(",").split(", "):
            code, _, option = pair.partition("=")
            current.values[code.strip()] = option.strip()
    codes = {code: code for code in _CDT_CODES.split()}
    maps["cdt_code"] = ValueMap(target="treatment.procedureCodes", values=codes, fallback="OTHER")
    return maps


def default_value_maps() -> dict[str, ValueMap]:
    """A fresh copy of every default value map, by name."""
    return _parse()

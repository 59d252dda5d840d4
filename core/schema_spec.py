"""The desired data model in Twenty: custom objects, their fields, custom fields on standard ones.

A `SchemaSpec` is plain data. `default_spec()` builds Ferry's default from the mapping table
of the Dental-Exec reference (§6); the confirmed mapping can build its own and hand it to
`core.schema.plan`. Names follow Twenty's metadata rules: camelCase `^[a-z][a-zA-Z0-9]*$`, at
most 63 characters, no reserved words (`type`, `event`, `plan`, ...), singular ≠ plural;
select values are UPPER_SNAKE.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

__all__ = [
    "FieldSpec",
    "ObjectSpec",
    "OptionSpec",
    "SchemaSpec",
    "default_spec",
    "validate_spec",
]

FieldType = Literal[
    "TEXT",
    "NUMBER",
    "BOOLEAN",
    "DATE",
    "DATE_TIME",
    "SELECT",
    "MULTI_SELECT",
    "CURRENCY",
    "ADDRESS",
    "RICH_TEXT_V2",
    "RELATION",
]
_NAME = re.compile(r"^[a-z][a-zA-Z0-9]{0,62}$")
_VALUE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
_RESERVED = {
    "plan", "plans", "event", "events", "field", "fields", "link", "links", "currency",
    "currencies", "fullNames", "address", "addresses", "type", "types", "object", "objects",
    "index", "relation", "relations", "aggregate", "user", "users", "workspace", "workspaces",
    "role", "roles",
}  # fmt: skip
_COLORS = ("green", "turquoise", "sky", "blue", "purple", "pink", "red", "orange", "yellow", "gray")


class OptionSpec(msgspec.Struct, frozen=True):
    """One select option: the API value (UPPER_SNAKE) and its label (no commas)."""

    value: str
    label: str


class FieldSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A field Ferry needs; RELATION fields are many-to-one towards `relation_to`."""

    name: str
    label: str
    type: FieldType
    options: tuple[OptionSpec, ...] = ()
    is_unique: bool = False
    relation_to: str = ""  # target object's nameSingular
    inverse_label: str = ""  # label of the one-to-many field created on the target
    description: str = ""


class ObjectSpec(msgspec.Struct, frozen=True, kw_only=True):
    """An object Ferry writes to; standard objects (`is_custom=False`) only gain fields."""

    name_singular: str
    name_plural: str
    label_singular: str
    label_plural: str
    is_custom: bool = True
    icon: str = "IconBox"
    fields: tuple[FieldSpec, ...] = ()


class SchemaSpec(msgspec.Struct, frozen=True):
    """The whole desired model."""

    objects: tuple[ObjectSpec, ...]

    def object(self, name_singular: str) -> ObjectSpec | None:
        """The object spec called `name_singular`, or None."""
        return next((o for o in self.objects if o.name_singular == name_singular), None)


def validate_spec(spec: SchemaSpec) -> list[str]:
    """Problems with names and options that Twenty would refuse (empty when valid)."""
    problems: list[str] = []
    for obj in spec.objects:
        for name in (obj.name_singular, obj.name_plural):
            if obj.is_custom and (not _NAME.match(name) or name in _RESERVED):
                problems.append(f"object name {name!r} breaks Twenty's naming rules")
        if obj.name_singular.lower() == obj.name_plural.lower():
            problems.append(f"object {obj.name_singular!r}: singular and plural must differ")
        for field in obj.fields:
            where = f"{obj.name_singular}.{field.name}"
            if not _NAME.match(field.name) or field.name in _RESERVED:
                problems.append(f"field name {where!r} breaks Twenty's naming rules")
            if field.type in ("SELECT", "MULTI_SELECT") and not field.options:
                problems.append(f"select field {where!r} needs at least one option")
            for option in field.options:
                if not _VALUE.match(option.value) or "," in option.label:
                    problems.append(f"option {option.value!r} of {where!r} is not valid")
            if field.type == "RELATION" and not (field.relation_to and field.inverse_label):
                problems.append(f"relation {where!r} needs a target and an inverse label")
    return problems


def options_of(values: str) -> tuple[OptionSpec, ...]:
    """Options from `VALUE VALUE ...`, labelled `Value value`."""
    return tuple(OptionSpec(v, v.replace("_", " ").capitalize()) for v in values.split())


def _f(name: str, label: str, kind: FieldType, values: str = "", unique: bool = False) -> FieldSpec:
    return FieldSpec(
        name=name, label=label, type=kind, options=options_of(values), is_unique=unique
    )


def _rel(name: str, label: str, target: str, inverse: str) -> FieldSpec:
    return FieldSpec(
        name=name, label=label, type="RELATION", relation_to=target, inverse_label=inverse
    )


def _key() -> FieldSpec:
    return _f("dentalExecId", "Dental-Exec ID", "TEXT", unique=True)


def _obj(singular: str, plural: str, labels: tuple[str, str], *fields: FieldSpec) -> ObjectSpec:
    return ObjectSpec(
        name_singular=singular,
        name_plural=plural,
        label_singular=labels[0],
        label_plural=labels[1],
        fields=(_key(), *fields),
    )


def _standard(singular: str, plural: str, *fields: FieldSpec) -> ObjectSpec:
    label = singular.capitalize()
    return ObjectSpec(
        name_singular=singular,
        name_plural=plural,
        label_singular=label,
        label_plural=plural.capitalize(),
        is_custom=False,
        fields=(_key(), *fields),
    )


_CDT = (
    "D0120 D0140 D0150 D0210 D0220 D0274 D0330 D1110 D1120 D1206 D1351 D2140 D2150 D2330 "
    "D2391 D2392 D2740 D2750 D2950 D3310 D3330 D4341 D4342 D4910 D5110 D6010 D7140 D7210 "
    "D8080 D9110 D9986 D9987 OTHER"
)
_ALERTS = (
    "ALLERGY_PENICILLIN ALLERGY_LATEX ALLERGY_CODEINE ALLERGY_SULFA ALLERGY_LOCAL_ANESTHETIC "
    "ALLERGY_NSAID ANTICOAGULANT BISPHOSPHONATE PREMED_REQUIRED CARDIAC JOINT_REPLACEMENT "
    "DIABETES HYPERTENSION BLEEDING_DISORDER PREGNANT SMOKER"
)


def _custom_objects() -> tuple[ObjectSpec, ...]:
    treatment = _obj(
        "treatment", "treatments", ("Treatment", "Treatments"),
        _f("planStatus", "Plan status", "SELECT",
           "DRAFT PRESENTED ACCEPTED PARTIALLY_ACCEPTED REJECTED COMPLETED ARCHIVED"),
        _f("stage", "Stage", "SELECT", "PROPOSED IN_PROGRESS COMPLETED DECLINED"),
        _f("procedureCodes", "Procedure codes", "MULTI_SELECT", _CDT),
        _f("teeth", "Teeth", "TEXT"),
        _f("totalFee", "Total fee", "CURRENCY"),
        _f("signed", "Signed", "BOOLEAN"),
        _f("signedDate", "Signed date", "DATE"),
        _f("notes", "Notes", "TEXT"),
        _rel("patient", "Patient", "person", "Treatments"),
    )  # fmt: skip
    procedure = _obj(
        "procedure", "procedures", ("Procedure", "Procedures"),
        _f("cdtCode", "CDT code", "TEXT"),
        _f("rawCode", "Raw code", "TEXT"),
        _f("description", "Description", "TEXT"),
        _f("tooth", "Tooth (Universal)", "TEXT"),
        _f("surface", "Surface", "TEXT"),
        _f("area", "Area", "TEXT"),
        _f("stage", "Stage", "SELECT",
           "PROPOSED ACCEPTED SCHEDULED IN_PROGRESS COMPLETED DECLINED EXISTING REFERRED_OUT"),
        _f("fee", "Fee", "CURRENCY"),
        _f("insuranceEstimate", "Insurance estimate", "CURRENCY"),
        _f("patientEstimate", "Patient estimate", "CURRENCY"),
        _f("datePlanned", "Date planned", "DATE"),
        _f("dateCompleted", "Date completed", "DATE"),
        _f("providerCode", "Provider code", "TEXT"),
        _rel("treatment", "Treatment", "treatment", "Procedures"),
        _rel("patient", "Patient", "person", "Procedures"),
    )  # fmt: skip
    insurance = _obj(
        "insurance", "insurances", ("Insurance", "Insurances"),
        _f("carrier", "Carrier", "TEXT"),
        _f("payerId", "Payer ID", "TEXT"),
        _f("policyNumber", "Policy number", "TEXT"),
        _f("groupNumber", "Group number", "TEXT"),
        _f("groupName", "Group name", "TEXT"),
        _f("subscriberId", "Subscriber ID", "TEXT"),
        _f("relationship", "Relationship", "SELECT", "SELF SPOUSE CHILD OTHER"),
        _f("coverageType", "Coverage type", "SELECT",
           "DENTAL_PPO DHMO INDEMNITY MEDICAID_CHIP DISCOUNT_PLAN MEDICAL"),
        _f("coverageOrder", "Coverage order", "SELECT", "PRIMARY SECONDARY TERTIARY"),
        _f("policyStatus", "Policy status", "SELECT", "ACTIVE INACTIVE"),
        _f("effectiveDate", "Effective date", "DATE"),
        _f("terminationDate", "Termination date", "DATE"),
        _f("annualMax", "Annual maximum", "CURRENCY"),
        _f("claimCount", "Claim count", "NUMBER"),
        _f("lastClaimDate", "Last claim date", "DATE"),
        _f("lastClaimStatus", "Last claim status", "TEXT"),
        _rel("patient", "Patient", "person", "Insurances"),
    )  # fmt: skip
    claim = _obj(
        "claim", "claims", ("Claim", "Claims"),
        _f("claimNumber", "Claim number", "TEXT"),
        _f("claimKind", "Claim kind", "SELECT", "PRIMARY SECONDARY PRE_AUTH"),
        _f("claimStatus", "Claim status", "SELECT",
           "UNSENT HOLD SENT ACCEPTED PENDING PAID PARTIAL_PAY DENIED REJECTED VOIDED "
           "PRE_AUTH_SENT PRE_AUTH_RECEIVED OTHER"),
        _f("rawStatus", "Raw status", "TEXT"),
        _f("x12Category", "X12 status category", "TEXT"),
        _f("dateOfService", "Date of service", "DATE"),
        _f("dateSent", "Date sent", "DATE"),
        _f("dateClosed", "Date closed", "DATE"),
        _f("billed", "Billed", "CURRENCY"),
        _f("paid", "Paid", "CURRENCY"),
        _f("writeOff", "Write-off", "CURRENCY"),
        _f("procedureCodes", "Procedure codes", "TEXT"),
        _f("providerCode", "Treating provider code", "TEXT"),
        _rel("insurance", "Insurance", "insurance", "Claims"),
        _rel("patient", "Patient", "person", "Claims"),
    )  # fmt: skip
    payment = _obj(
        "payment", "payments", ("Payment", "Payments"),
        _f("amount", "Amount", "CURRENCY"),
        _f("paymentDate", "Payment date", "DATE"),
        _f("method", "Method", "SELECT", "CASH CHECK CARD INSURANCE FINANCING OTHER"),
        _f("payerKind", "Payer", "SELECT", "PATIENT INSURANCE"),
        _f("reference", "Reference", "TEXT"),
        _f("balanceAfter", "Outstanding balance", "CURRENCY"),
        _f("voided", "Voided", "BOOLEAN"),
        _rel("patient", "Patient", "person", "Payments"),
        _rel("treatment", "Treatment", "treatment", "Payments"),
    )  # fmt: skip
    communication = _obj(
        "communication", "communications", ("Communication", "Communications"),
        _f("mode", "Mode", "SELECT", "CALL TEXT EMAIL LETTER IN_PERSON PORTAL OTHER"),
        _f("direction", "Direction", "SELECT", "SENT RECEIVED"),
        _f("topic", "Topic", "SELECT",
           "APPOINTMENT RECALL FINANCIAL INSURANCE TREATMENT MISC"),
        _f("subject", "Subject", "TEXT"),
        _f("body", "Note", "RICH_TEXT_V2"),
        _f("occurredAt", "Occurred at", "DATE_TIME"),
        _f("durationMinutes", "Duration (min)", "NUMBER"),
        _f("staffCode", "Staff code", "TEXT"),
        _rel("patient", "Patient", "person", "Communications"),
    )  # fmt: skip
    return (treatment, procedure, insurance, claim, payment, communication)


def _standard_objects() -> tuple[ObjectSpec, ...]:
    person = _standard(
        "person", "people",
        _f("birthDate", "Date of birth", "DATE"),
        _f("gender", "Gender", "SELECT", "MALE FEMALE UNKNOWN OTHER"),
        _f("patientStatus", "Patient status", "SELECT",
           "ACTIVE INACTIVE ARCHIVED NON_PATIENT PROSPECT DECEASED DELETED"),
        _f("chartNumber", "Chart number", "TEXT"),
        _f("balance", "Balance", "CURRENCY"),
        _f("homeAddress", "Home address", "ADDRESS"),
        _f("sharedEmail", "Shared family email", "TEXT"),
        _f("preferredContact", "Preferred contact", "SELECT", "TEXT CALL EMAIL MAIL NONE"),
        _f("medicalAlerts", "Medical alerts", "MULTI_SELECT", _ALERTS),
        _f("hipaaAcknowledged", "HIPAA notice acknowledged", "BOOLEAN"),
        _f("hipaaSignedDate", "HIPAA notice signed", "DATE"),
        _f("toothChart", "Tooth chart", "TEXT"),
        _f("referralSource", "Referral source", "SELECT",
           "DOCTOR PATIENT MARKETING INSURANCE WEBSITE WALK_IN OTHER"),
        _f("referralDetail", "Referral detail", "TEXT"),
        _f("legacyCreatedAt", "Created in Dental-Exec", "DATE_TIME"),
    )  # fmt: skip
    company = _standard(
        "company", "companies",
        _f("locationCode", "Location code", "TEXT"),
        _f("npi", "NPI (type 2)", "TEXT"),
        _f("mainPhone", "Main phone", "TEXT"),
    )  # fmt: skip
    task = _standard(
        "task", "tasks",
        _f("taskType", "Task type", "SELECT", "APPOINTMENT RECALL REMINDER"),
        _f("appointmentStatus", "Appointment status", "SELECT",
           "SCHEDULED ARRIVED IN_CHAIR COMPLETED CANCELLED NO_SHOW UNSCHEDULED ASAP"),
        _f("recurrence", "Recurrence", "TEXT"),
        _f("providerCode", "Provider code", "TEXT"),
    )  # fmt: skip
    note = _standard(
        "note", "notes",
        _f("noteType", "Note type", "SELECT", "ATTACHMENT REFERRAL OTHER"),
        _f("storagePath", "Storage path", "TEXT"),
        _f("oversized", "Oversized file", "BOOLEAN"),
    )  # fmt: skip
    return (person, company, task, note)


def default_spec() -> SchemaSpec:
    """Ferry's default model: the six custom objects and the custom fields of §6."""
    return SchemaSpec((*_standard_objects(), *_custom_objects()))


def color_of(position: int) -> str:
    """A select option colour from the palette every Twenty version accepts."""
    return _COLORS[position % len(_COLORS)]

"""The default column tables of the 14 files (reference §6), one line per column.

`column | transform | target | args`; see core.mapping.defaults for the notation.
"""

from __future__ import annotations

__all__ = ["TABLES"]

_DELTA = "reason=Dental-Exec's own change time; the pipeline reads it for deltas"
_DELETED = "reason=soft delete: rows with Deleted = Y are skipped (SOURCE_DELETED)"
_MEMBER = "reason=providers are workspace members (ferry members check), not records"
_FOLDED = "reason=folded into the owner record while preparing the run"

TABLES: dict[str, str] = {
    "practice": f"""
location_id | key | dentalExecId
location_code | text | locationCode
practice_name | extra | dentalExecExtra
location_name | text | name
address_1 | text | address.addressStreet1
address_2 | text | address.addressStreet2
city | text | address.addressCity
state | text | address.addressState
zip | zip | address.addressPostcode
phone | phone_text | mainPhone
fax | extra | dentalExecExtra
email | extra | dentalExecExtra
website | website | domainName
tax_id | ignore | | reason=masked in the export (**-***1234); nothing to migrate
time_zone | context | | label=converts this location's local times to UTC
tooth_numbering | context | | label=converts this location's tooth numbers to Universal
is_primary | context | | label=the shared website goes on the primary location only
active | extra | dentalExecExtra
opened_date | extra | dentalExecExtra
closed_date | extra | dentalExecExtra
last_modified | ignore | | {_DELTA}
""",
    "provider": f"""
staff_id | ignore | | {_MEMBER}
code | member_code | | label=matched to a member through its email
last_name | ignore | | {_MEMBER}
first_name | ignore | | {_MEMBER}
credential | ignore | | {_MEMBER}
role | ignore | | {_MEMBER}
specialty | ignore | | {_MEMBER}
is_provider | ignore | | {_MEMBER}
email | member_email | | label=matched to workspace member emails
phone | ignore | | {_MEMBER}
location_ids | ignore | | {_MEMBER}
default_location_id | ignore | | {_MEMBER}
state_license_number | ignore | | {_MEMBER}
username | ignore | | {_MEMBER}
hire_date | ignore | | {_MEMBER}
termination_date | ignore | | {_MEMBER}
active | ignore | | {_MEMBER}
last_modified | ignore | | {_DELTA}
""",
    "patient": f"""
patient_id | key | dentalExecId
chart_number | text | chartNumber
last_name | text | name.lastName
first_name | text | name.firstName
middle_initial | extra | dentalExecExtra
preferred_name | extra | dentalExecExtra
suffix | extra | dentalExecExtra
gender | select | gender | map=gender
birth_date | date | birthDate
ssn | ignore | | reason=masked in the export (***-**-1234); not migrated
address_1 | text | homeAddress.addressStreet1
address_2 | text | homeAddress.addressStreet2
city | text | homeAddress.addressCity
state | text | homeAddress.addressState
zip | zip | homeAddress.addressPostcode
home_phone | phone | phones | rank=2
work_phone | phone | phones | rank=3
work_ext | extra | dentalExecExtra
cell_phone | phone | phones | rank=1
email | email_unique | emails.primaryEmail
preferred_contact | select | preferredContact | map=preferred_contact
text_ok | extra | dentalExecExtra
email_ok | extra | dentalExecExtra
status | select | patientStatus | map=patient_status
home_location_id | ref | companyId | entity=practice;optional
primary_provider | provider_code | providerCode
hygienist | extra | dentalExecExtra
guarantor_id | extra | dentalExecExtra
relationship_to_guarantor | extra | dentalExecExtra
first_visit | extra | dentalExecExtra
last_visit | extra | dentalExecExtra
next_appt | ignore | | reason=derived from appointments and often stale (they migrate as tasks)
balance | money | balance
medical_alerts | extra | dentalExecExtra
premed | extra | dentalExecExtra
employer | extra | dentalExecExtra
language | extra | dentalExecExtra
patient_note | extra | dentalExecExtra
created | date_as_datetime | legacyCreatedAt
last_modified | ignore | | {_DELTA}
""",
    "appointment": f"""
appointment_id | key | dentalExecId
patient_id | target | targetPersonId | entity=patient
location_id | location | | label=Location ID
appt_date | due_date | dueAt
start_time | due_time | dueAt
duration_min | body | bodyV2 | label=Duration (min)
provider | member | assigneeId | rank=1
hygienist | member | assigneeId | rank=2
operatory | body | bodyV2
appt_type | title | title
procedures | body | bodyV2
status | appointment_status | status | map=appointment_task_status
confirmation | body | bodyV2
asap | body | bodyV2
new_patient | body | bodyV2
cancel_reason | body | bodyV2
cancelled_on | body | bodyV2
note | body | bodyV2
created | body | bodyV2
created_by | body | bodyV2
deleted | ignore | | {_DELETED}
last_modified | ignore | | {_DELTA}
""",
    "treatment_plan": f"""
plan_id | key | dentalExecId
patient_id | ref | patientId | entity=patient
location_id | location | | label=Location ID
plan_name | text | name
status | select | planStatus | map=plan_status
created_date | extra | dentalExecExtra
presented_date | extra | dentalExecExtra
presented_by | extra | dentalExecExtra
signed | bool | signed
signed_date | date | signedDate
total_fee | money | totalFee
total_ins_est | extra | dentalExecExtra
total_pt_est | extra | dentalExecExtra
notes | text | notes
deleted | ignore | | {_DELETED}
last_modified | ignore | | {_DELTA}
""",
    "procedure": f"""
procedure_id | key | dentalExecId
plan_id | ref | treatmentId | entity=treatment_plan
patient_id | ref | patientId | entity=patient
seq | extra | dentalExecExtra
phase | extra | dentalExecExtra
cdt_code | cdt | cdtCode
description | text | description
tooth | tooth | tooth
surface | surfaces | surface
area | text | area
stage | select | stage | map=procedure_stage
provider | provider_code | providerCode
fee | money | fee
ins_est | money | insuranceEstimate
pt_est | money | patientEstimate
appointment_id | extra | dentalExecExtra
date_planned | date | datePlanned
date_completed | date | dateCompleted
diagnosis | extra | dentalExecExtra
priority | extra | dentalExecExtra
note | extra | dentalExecExtra
deleted | ignore | | {_DELETED}
last_modified | ignore | | {_DELTA}
""",
    "insurance_policy": f"""
policy_id | key | dentalExecId
patient_id | ref | patientId | entity=patient
coverage_order | select | coverageOrder | map=coverage_order
carrier_name | text | carrier
payer_id | text | payerId
carrier_phone | extra | dentalExecExtra
coverage_type | select | coverageType | map=coverage_type
group_name | text | groupName
group_number | text | groupNumber
policy_number | text | policyNumber
subscriber_id | text | subscriberId
subscriber_patient_id | extra | dentalExecExtra
subscriber_name | extra | dentalExecExtra
subscriber_dob | extra | dentalExecExtra
relationship | select | relationship | map=policy_relationship
employer | extra | dentalExecExtra
effective_date | date | effectiveDate
termination_date | date | terminationDate
status | select | policyStatus | map=policy_status
annual_max | money | annualMax
deductible | extra | dentalExecExtra
remaining_benefit | extra | dentalExecExtra
coverage_pct | extra | dentalExecExtra
renewal_month | extra | dentalExecExtra
last_verified | extra | dentalExecExtra
notes | extra | dentalExecExtra
last_modified | ignore | | {_DELTA}
""",
    "claim": f"""
claim_id | key | dentalExecId
policy_id | ref | insuranceId | entity=insurance_policy
patient_id | ref | patientId | entity=patient
location_id | location | | label=Location ID
claim_type | select | claimKind | map=claim_type
date_of_service | date | dateOfService
date_sent | date | dateSent
date_closed | date | dateClosed
status | select | claimStatus | map=claim_status
procedure_codes | list | procedureCodes
billed | money | billed
est_ins_pay | extra | dentalExecExtra
paid | money | paid
write_off | money | writeOff
deductible_applied | extra | dentalExecExtra
treating_provider | provider_code | providerCode
clearinghouse_claim_number | text | claimNumber
payer_claim_number | extra | dentalExecExtra
denial_reason | extra | dentalExecExtra
notes | extra | dentalExecExtra
last_modified | ignore | | {_DELTA}
""",
    "referral": f"""
referral_id | folded | | {_FOLDED}
patient_id | folded | | {_FOLDED}
direction | folded | | {_FOLDED}
source_type | folded | referralSource | map=referral_source
source_code | folded | referralDetail
source_name | folded | referralDetail
referring_patient_id | folded | referralDetail
referring_npi | folded | referralDetail
specialty | folded | referralDetail
phone | folded | referralDetail
email | folded | referralDetail
referral_date | folded | referralDetail
reason | folded | referralDetail
status | folded | referralDetail
note | folded | referralDetail
last_modified | ignore | | {_DELTA}
""",
    "payment": f"""
payment_id | key | dentalExecId
patient_id | ref | patientId | entity=patient
guarantor_id | extra | dentalExecExtra
location_id | location | | label=Location ID
payment_date | date | paymentDate
amount | money | amount
method | select | method | map=payment_method
payer_type | select | payerKind | map=payer_type
check_ref_number | text | reference
card_last_4 | extra | dentalExecExtra
claim_id | extra | dentalExecExtra
linked_plan_id | ref | treatmentId | entity=treatment_plan;optional
linked_procedure_ids | extra | dentalExecExtra
unapplied_amount | extra | dentalExecExtra
balance_after | money | balanceAfter
voided | bool | voided
void_reason | extra | dentalExecExtra
entered_by | extra | dentalExecExtra
entered_on | extra | dentalExecExtra
note | extra | dentalExecExtra
last_modified | ignore | | {_DELTA}
""",
    "recall": f"""
reminder_id | key | dentalExecId
patient_id | target | targetPersonId | entity=patient
category | recall_category | taskType | map=recall_category
subject | title | title
recall_type | recall_type | title | map=recall_type
interval | interval | bodyV2
due_date | due_date | dueAt
last_completed | body | bodyV2
recurrence | text | recurrence
assigned_to | member | assigneeId | rank=1
linked_appointment_id | body | bodyV2
status | select | status | map=recall_status
contact_attempts | body | bodyV2
last_contact | body | bodyV2
note | body | bodyV2
created | body | bodyV2
deleted | ignore | | {_DELETED}
last_modified | ignore | | {_DELTA}
""",
    "attachment": f"""
attachment_id | key | dentalExecId
patient_id | target | targetPersonId | entity=patient
linked_record_type | body | bodyV2
linked_record_id | body | bodyV2
category | body | bodyV2
file_name | title | title
file_size | file_size | oversized
mime_type | body | bodyV2
storage_path | text | storagePath
download_url | body | bodyV2 | label=Download URL (signed and expiring: use the storage path)
tooth_numbers | body | bodyV2
taken_date | body | bodyV2
uploaded_on | body | bodyV2
uploaded_by | body | bodyV2
description | body | bodyV2
deleted | ignore | | {_DELETED}
last_modified | ignore | | {_DELTA}
""",
    "communication": f"""
comm_id | key | dentalExecId
patient_id | ref | patientId | entity=patient
date_time | datetime_local | occurredAt
mode | select | mode | map=comm_mode
direction | select | direction | map=comm_direction
type | select | topic | map=comm_type
subject | text | subject
note | rich_text | body
staff | provider_code | staffCode
duration_min | int | durationMinutes
linked_appointment_id | extra | dentalExecExtra
deleted | ignore | | {_DELETED}
last_modified | ignore | | {_DELTA}
""",
    "custom_field": f"""
record_type | folded | | {_FOLDED}
record_id | folded | | {_FOLDED}
field_key | folded | | {_FOLDED}
field_label | folded | | {_FOLDED}
field_type | folded | | {_FOLDED}
value | folded | | {_FOLDED}
last_modified | ignore | | {_DELTA}
""",
}

"""The column tables of the 14 files, in export order (specification section 3).

One line per column: `Label | type | flags`; see core.export_format for the flags.
"""

PRACTICES = """
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

PROVIDERS = """
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

PATIENTS = """
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

APPOINTMENTS = """
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

TREATMENT_PLANS = """
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

PROCEDURES = """
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

POLICIES = """
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

CLAIMS = """
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

REFERRALS = """
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

PAYMENTS = """
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

RECALLS = """
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

ATTACHMENTS = """
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

COMMUNICATIONS = """
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

CUSTOM_FIELDS = """
Record Type | code | pk
Record ID | int | pk
Field Key | text | pk
Field Label | text | req
Field Type | code | req
Value | text
Last Modified | datetime
"""

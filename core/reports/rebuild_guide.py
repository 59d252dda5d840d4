"""The guide to rebuilding natively in Twenty what a CSV export cannot carry.

Each section is derived from what the export holds (`core.reports.rebuild_facts`) and says
three things: what the export holds (counts, codes, keys; never a patient value), what to
build in Twenty (a workflow, a view, a role), and where to click, step by step. A section
whose data the export does not hold says so in one line instead of giving steps.
"""

from __future__ import annotations

from collections import Counter

from core.reports.rebuild_facts import NO_TYPE, RebuildFacts

__all__ = ["render_rebuild_guide"]


def _counts(counter: Counter[str], limit: int = 12) -> str:
    items = counter.most_common(limit)
    text = ", ".join(f"`{name}` {count}" for name, count in items)
    more = len(counter) - len(items)
    return text + (f" and {more} more" if more > 0 else "")


def _section(title: str, holds: str, build: str, steps: list[str]) -> list[str]:
    lines = [f"## {title}", "", f"**What the export holds.** {holds}", ""]
    lines += [f"**What to build in Twenty.** {build}", "", "**Steps.**", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(steps, 1)]
    return [*lines, ""]


def _absent(title: str, what: str) -> list[str]:
    return [f"## {title}", "", f"The export holds no {what}: nothing to rebuild.", ""]


def _recalls(f: RebuildFacts) -> list[str]:
    total = sum(f.recall_types.values())
    if not total:
        return _absent("Recall reminder workflows", "recalls")
    types = len([t for t in f.recall_types if t != NO_TYPE])
    untyped = f.recall_types.get(NO_TYPE, 0)
    without = (
        f" {untyped} recall(s) have no type: give them one in Dental-Exec, or let a general "
        "workflow (no title filter) remind them."
        if untyped
        else ""
    )
    return _section(
        "Recall reminder workflows",
        f"{total} recall(s) migrated as tasks, by recall type: {_counts(f.recall_types)}; "
        f"by interval: {_counts(f.recall_intervals)}; by status: {_counts(f.recall_status)}. "
        "Dental-Exec sent the reminders itself; Twenty does not until a workflow does.",
        f"One workflow per recall type ({types}), triggered daily, that finds "
        "open recall tasks due within the reminder window and emails or texts the patient, "
        f"then marks the contact attempt on the task.{without}",
        [
            "Open **Workflows** in the left menu, click **+ New record**, name it "
            "`Recall reminder - <recall type>`.",
            "Click the trigger, choose **On a schedule**, set it to every day at 08:00.",
            "Add a **Search records** step on **Tasks**: filter `Title` contains the recall "
            "type, `Status` is not Done, `Due date` is within the next 14 days.",
            "Add a **Send email** step (connect the practice mailbox in Settings → Accounts "
            "first) to the task's person, with the practice's recall wording.",
            "Add an **Update record** step on the task that appends the contact date to its "
            "body; click **Activate**.",
            "Repeat for each recall type listed above; test with one staff-owned record first.",
        ],
    )


def _balances(f: RebuildFacts) -> list[str]:
    if not (f.payments or f.patients_with_balance):
        return _absent("Unpaid-balance follow-up workflows", "payments or balances")
    return _section(
        "Unpaid-balance follow-up workflows",
        f"{f.payments} payment(s) migrated as `payment` records, {f.payments_with_balance} of "
        f"them leaving a balance; {f.patients_with_balance} of {f.patients} patient(s) carry a "
        "balance (field `balance` on People).",
        "A weekly workflow that finds people with a balance above zero and creates a "
        "follow-up task for the front desk (statements themselves stay in the billing system).",
        [
            "Open **Workflows**, click **+ New record**, name it `Unpaid balance follow-up`.",
            "Trigger: **On a schedule**, every Monday at 09:00.",
            "Add **Search records** on **People**: filter `Balance` greater than 0.",
            "Add **Create record** on **Tasks**: title `Balance follow-up`, assignee the "
            "billing coordinator, due in 7 days, linked to the person.",
            "Click **Activate**; on People create a view `Balance due` (filter `Balance` > 0, "
            "sort by `Balance` descending) for the billing coordinator.",
        ],
    )


def _schedules(f: RebuildFacts) -> list[str]:
    if not f.providers:
        return _absent("Per-provider schedule views", "providers")
    hygienists = (
        f"; hygienist code(s), not counted as providers: {_counts(f.hygienists, 20)} (an "
        "appointment is assigned to its hygienist only when it has no provider)"
        if f.hygienists
        else ""
    )
    return _section(
        "Per-provider schedule views",
        f"{len(f.providers)} provider code(s) with appointments: {_counts(f.providers, 20)}"
        f"{hygienists}; appointments by status: {_counts(f.appointment_status)}. Appointments "
        "migrated as tasks assigned to the provider's workspace member (see the "
        "member-defaults report for codes that matched no member).",
        "One view per provider on Tasks: a calendar-like list of their upcoming appointments.",
        [
            "Open **Tasks**, click the view name at the top left, then **+ Add view**.",
            "Name it `Schedule - <provider code>`, layout **Table** (or **Kanban** grouped by "
            "status).",
            "Click **Filter** → `Assignee` is the provider's member; add `Due date` is in the "
            "future.",
            "Click **Sort** → `Due date` ascending; save the view.",
            "Repeat for each provider code listed above.",
        ],
    )


def _plans(f: RebuildFacts) -> list[str]:
    if not f.plan_status:
        return _absent("Open treatment plan views", "treatment plans")
    return _section(
        "Open treatment plan views",
        f"{sum(f.plan_status.values())} treatment plan(s) by status: {_counts(f.plan_status)}; "
        f"{f.plans_with_open_stages} plan(s) with procedures still open, open procedures by "
        f"stage: {_counts(f.open_stages)}.",
        "A view of treatment plans with open procedures, grouped by stage, for case "
        "presentation follow-up; optionally a workflow reminding the provider of accepted "
        "plans not yet scheduled.",
        [
            "Open **Procedures** (object `procedure`), click the view name → **+ Add view**, "
            "name it `Open treatment`.",
            "Layout **Kanban**, group by `Stage`; **Filter** → `Stage` is not Completed.",
            "Open **Treatments**, add a view `Accepted, not finished` filtered on `Status`.",
            "Optional: **Workflows** → **+ New record**, trigger **Record is updated** on "
            "Treatments, condition `Status` is Accepted, action **Create record** task for "
            "the provider.",
        ],
    )


def _roles(f: RebuildFacts) -> list[str]:
    if not f.roles:
        return _absent("Permission sets (roles)", "staff roles")
    return _section(
        "Permission sets (roles)",
        f"{f.staff} staff member(s) by role: {_counts(f.roles)}. Dental-Exec's security "
        "groups are not in the export; the roles are.",
        "One Twenty role per Dental-Exec role, with object permissions matching what that "
        "role may see (clinical notes and medical alerts for clinicians only).",
        [
            "Open **Settings** → **Roles**, click **+ Create role**, name it after the role.",
            "Under **Permissions**, set object access: e.g. front desk reads People and Tasks, "
            "no access to `medicalAlerts`/`toothChart` fields; billing edits Payments.",
            "Under **Assignment**, add the workspace members who hold that role.",
            "Repeat per role listed above; keep the API key's role limited to what Ferry needs.",
        ],
    )


def _custom_fields(f: RebuildFacts) -> list[str]:
    if not f.custom_fields:
        return _absent("Custom field keys", "custom fields")
    keys = "\n".join(
        f"   - `{key}`: {count} value(s)" for key, count in sorted(f.custom_fields.items())
    )
    return _section(
        "Custom field keys",
        f"{len(f.custom_fields)} custom field key(s) (record type / key / label):\n\n{keys}\n\n"
        "Known keys were folded into Twenty fields by the mapping; unknown ones went into "
        "`dentalExecExtra` as text.",
        "A real field for each key the practice still uses (instead of the text in "
        "`dentalExecExtra`), with a filterable type.",
        [
            "Open **Settings** → **Data model**, pick the object (People for Patient keys).",
            "Click **+ Add field**, choose the type (Boolean for Yes/No, Date, Text), name it.",
            "Map the key in `mapping.toml` to the new field and run `ferry delta` on the next "
            "export, or fill it by hand for the few records concerned.",
        ],
    )


def _attachments(f: RebuildFacts) -> list[str]:
    if not f.attachments:
        return _absent("Attachments", "attachments")
    return _section(
        "Attachments (files not uploaded)",
        f"{f.attachments} attachment(s) listed, by category: "
        f"{_counts(f.attachment_categories)}; by type: {_counts(f.attachment_types)}. The "
        "files themselves are not in the export: Ferry migrated a note per attachment with "
        "its metadata, not the file.",
        "Upload the files from the Dental-Exec document store to each person's **Files** "
        "tab, or keep them in the imaging system and link to them.",
        [
            "Export the documents from Dental-Exec's document store (its storage paths are in "
            "the attachment notes).",
            "Open the person in Twenty, tab **Files**, click **+ Add file** and upload.",
            "For imaging (DICOM), keep the imaging system as the record of truth and add its "
            "link to the note instead.",
        ],
    )


def _claims(f: RebuildFacts) -> list[str]:
    if not f.open_claims:
        return _absent("Open insurance claims", "open insurance claims")
    return _section(
        "Open insurance claims",
        f"{sum(f.open_claims.values())} claim(s) still open, by status: {_counts(f.open_claims)}.",
        "A view of open claims and a weekly workflow creating a follow-up task for claims "
        "sent more than 30 days ago.",
        [
            "Open **Claims**, **+ Add view** `Open claims`, **Filter** `Claim status` is not "
            "Paid/Closed, **Sort** `Date sent` ascending.",
            "**Workflows** → **+ New record**, trigger **On a schedule** weekly, **Search "
            "records** on Claims sent over 30 days ago and open, **Create record** task.",
        ],
    )


def render_rebuild_guide(facts: RebuildFacts) -> str:
    """The guide as Markdown."""
    lines = [
        "# Rebuilding in Twenty what does not migrate",
        "",
        "Derived from the export as recorded in the event store: counts, codes and keys "
        "only, no patient values. Work through the sections once the migration is verified.",
        "",
    ]
    for part in (_recalls, _balances, _schedules, _plans, _roles, _custom_fields,
                 _attachments, _claims):  # fmt: skip
        lines += part(facts)
    return "\n".join(lines)

"""Transforms of appointments and recalls (-> Task + TaskTarget), attachments (-> Note +
NoteTarget), communications (-> Communication, or Note) and referrals (folded or Note)."""

from __future__ import annotations

from datetime import datetime, time

from core.mapping.context import TransformContext
from core.mapping.engine import Build
from core.mapping.entities_people import int_value_of
from core.mapping.outcomes import Outcome, Reason, Rejected, Skipped, Transformed
from core.mapping.prepass import referral_detail
from core.mapping.records import assign_member, child_target, finish, require_person, start
from core.mapping.steps import cached_date, cached_time, first_column, utc_text
from core.ports.source import SourceRow
from core.values import ValueParseError

__all__ = [
    "transform_appointment",
    "transform_attachment",
    "transform_communication",
    "transform_recall",
    "transform_referral",
]


def _home_location(row: SourceRow, ctx: TransformContext) -> int | None:
    patient_id = int_value_of(row, ctx, "patient_id")
    return ctx.patient_location.get(patient_id) if patient_id is not None else None


def _due(build: Build, column: str) -> None:
    """dueAt from the collected date (and time) in the location's zone."""
    if build.due_date is None:
        return
    try:
        parsed = cached_date(build.due_date)
        clock = cached_time(build.due_time) if build.due_time else None
    except ValueParseError as error:
        build.reject(column, error.code.upper(), f"column {column!r}: {error}")
        return
    if parsed is None or parsed.value is None:
        return
    local = datetime.combine(parsed.value, clock or time(0, 0))
    build.payload["dueAt"] = utc_text(build, column, local)


def _option(build: Build, transform: str, text: str | None) -> str | None:
    column = first_column(build.ctx, build.entity, transform)
    if column is None or text is None:
        return None
    return build.value_option(column, text)


def _task(build: Build) -> Outcome:
    require_person(build)
    outcome = finish(build)
    if isinstance(outcome, Transformed):
        child_target(build, "task", outcome)
    return outcome


def transform_appointment(row: SourceRow, ctx: TransformContext) -> Outcome:
    """An appointment -> a Task (title, dueAt in UTC, assignee, status) + its TaskTarget."""
    build = start(row, ctx)
    status = build.values.get("status")
    task_status = _option(build, "appointment_status", status)
    if task_status is not None:
        build.payload["status"] = task_status
    if status is not None:
        value_map = ctx.mapping.value_maps.get("appointment_status")
        detail = ctx.option(value_map, status) if value_map is not None else None
        if detail is not None:
            build.payload["appointmentStatus"] = detail
    _due(build, "appt_date")
    code = assign_member(build, "assigneeId")
    if code:
        build.payload["providerCode"] = code
    kind = next((text for column, text in build.titles if column == "appt_type"), "Appointment")
    build.payload["title"] = f"Appt: {kind}" + (f" - {code}" if code else "")
    build.payload["taskType"] = "APPOINTMENT"
    due = build.payload.get("dueAt")
    is_scheduled = (status or "").lower() == "scheduled"
    if is_scheduled and due and ctx.export_date and due[:10] < ctx.export_date.isoformat():
        build.warnings.append("scheduled_in_past")
    return _task(build)


def _recall_type(build: Build) -> str:
    value_map = build.ctx.mapping.value_maps.get("recall_type")
    if value_map is None:
        return ""
    structured = build.values.get("recall_type")
    if structured:
        option = build.ctx.option(value_map, structured)
        if option is None:
            build.warnings.append(f"value_unmapped:recall_type:{structured}")
        return option or ""
    text = " ".join((build.values.get("subject") or "").lower().split())
    codes = sorted(value_map.values, key=len, reverse=True)
    for code in codes:
        if f" {code.lower()} " in f" {text} ":
            build.warnings.append("recall_type_from_subject")
            return value_map.values[code]
    return ""


def transform_recall(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A reminder -> a Task: recall categories titled `Recall: <type>`, the rest plain tasks."""
    build = start(row, ctx, _home_location(row, ctx))
    task_type = _option(build, "recall_category", build.values.get("category")) or "REMINDER"
    build.payload["taskType"] = task_type
    subject = build.values.get("subject") or ""
    if task_type == "RECALL":
        recall_type = _recall_type(build)
        label = recall_type.replace("_", " ").title() if recall_type else subject or "recall"
        build.payload["title"] = f"Recall: {label}"
        build.body.insert(0, f"**Subject:** {subject}")
    else:
        build.payload["title"] = f"{build.values.get('category') or 'Reminder'}: {subject}"
    _due(build, "due_date")
    code = assign_member(build, "assigneeId")
    if code:
        build.payload["providerCode"] = code
    return _task(build)


def transform_attachment(row: SourceRow, ctx: TransformContext) -> Outcome:
    """An attachment -> a Note (title = file name, metadata in the body) + its NoteTarget."""
    build = start(row, ctx, _home_location(row, ctx))
    title = next((text for column, text in build.titles if column == "file_name"), None)
    build.payload["title"] = title or f"Attachment {build.key}"
    build.payload["noteType"] = "ATTACHMENT"
    build.payload.setdefault("oversized", False)
    if not build.values.get("file_size"):
        build.warnings.append("size_unknown:file_size")
    mime = (build.values.get("mime_type") or "").lower()
    if mime in ("", "application/octet-stream"):
        build.warnings.append("mime_unknown:mime_type")
    return _note(build)


def _note(build: Build) -> Outcome:
    require_person(build)
    outcome = finish(build, "note", "notes")
    if isinstance(outcome, Transformed):
        child_target(build, "note", outcome)
    return outcome


def transform_communication(row: SourceRow, ctx: TransformContext) -> Outcome:
    """A communication -> a Communication (or a Note), `createdAt` = the original time."""
    build = start(row, ctx, _home_location(row, ctx))
    occurred = build.payload.get("occurredAt")
    subject = build.values.get("subject")
    mode = build.values.get("mode") or "Communication"
    if ctx.settings.communications_as == "notes":
        return _communication_note(row, ctx, build)
    build.payload["name"] = subject or f"{mode} {build.key}"
    if occurred:
        build.payload["createdAt"] = occurred
    return finish(build)


def _communication_note(row: SourceRow, ctx: TransformContext, build: Build) -> Outcome:
    note = Build(build.entity, build.key, build.values, ctx)
    note.reasons, note.warnings = build.reasons, build.warnings
    note.person_stream = f"patient:{int_value_of(row, ctx, 'patient_id')}"
    for label, column in (("Mode", "mode"), ("Direction", "direction"), ("Type", "type")):
        if build.values.get(column):
            note.body.append(f"**{label}:** {build.values[column]}")
    if build.values.get("note"):
        note.body.append(build.values["note"] or "")
    note.extra = build.extra
    note.payload = {
        "dentalExecId": build.key,
        "title": build.values.get("subject") or f"{build.values.get('mode')} {build.key}",
        "noteType": "OTHER",
    }
    if build.payload.get("occurredAt"):
        note.payload["createdAt"] = build.payload["occurredAt"]
    return _note(note)


def transform_referral(row: SourceRow, ctx: TransformContext) -> Outcome:
    """An incoming referral is folded into its Person; an outgoing one becomes a Note."""
    values = ctx.values(row)
    patient_id = int_value_of(row, ctx, "patient_id")
    if patient_id is None or patient_id not in ctx.patient_location:
        return Rejected(
            [Reason("patient_id", "ORPHAN", "the referral's patient is not in the export")]
        )
    if (values.get("direction") or "").strip().lower() != "out":
        return Skipped("FOLDED_INTO_OWNER", f"folded into patient:{patient_id} (referral source)")
    if ctx.settings.out_referrals == "skip":
        return Skipped("SKIPPED_BY_CONFIG", "outgoing referrals are skipped (out_referrals=skip)")
    assert row.key is not None
    build = Build(row.entity, row.key, values, ctx)
    build.person_stream = f"patient:{patient_id}"
    build.payload = {
        "dentalExecId": row.key,
        "title": f"Referral out: {values.get('specialty') or values.get('source_name') or ''}",
        "noteType": "REFERRAL",
    }
    build.body.append(referral_detail(values))
    return _note(build)

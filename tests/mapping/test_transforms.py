"""Per-transform tests: one quirk that matters to mapping per case, on the small fixtures."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.dental_exec import DentalExecExport
from core.mapping import Rejected, Skipped, TransformContext, Transformed, transform
from core.mapping.entities_records import derive_stage
from core.ports.source import RowError, SourceRow
from tests.mapping.conftest import context_for

Pair = tuple[DentalExecExport, TransformContext]


def _outcome(pair: Pair, entity: str, key: str) -> Any:
    source, ctx = pair
    row = next(r for r in source.rows(entity) if r.key == key)
    return transform(row, ctx)


def _payload(pair: Pair, entity: str, key: str) -> dict[str, Any]:
    outcome = _outcome(pair, entity, key)
    assert isinstance(outcome, Transformed), outcome
    return outcome.payload


@pytest.mark.parametrize(
    ("entity", "key", "field", "expected"),
    [
        ("patient", "10480", ("emails", "primaryEmail"), "laura.smith@mail.example"),
        ("patient", "10481", ("sharedEmail",), "laura.smith@mail.example"),
        ("patient", "10482", ("sharedEmail",), "laura.smith@mail.example"),
        ("patient", "10480", ("phones", "primaryPhoneNumber"), "5555550142"),
        ("patient", "10480", ("phones", "primaryPhoneCallingCode"), "+1"),
        ("patient", "10484", ("homeAddress", "addressPostcode"), "01852"),
        ("patient", "10484", ("balance", "amountMicros"), -20_000_000),
        ("patient", "10487", ("balance", "amountMicros"), 1_234_500_000),
        ("patient", "10493", ("birthDate",), "1988-02-29"),
        ("patient", "10497", ("birthDate",), "1998-03-04"),
        ("patient", "10489", ("patientStatus",), "DECEASED"),
        (
            "patient",
            "10481",
            ("medicalAlerts",),
            ["ALLERGY_PENICILLIN", "JOINT_REPLACEMENT", "PREMED_REQUIRED"],
        ),
        ("patient", "10480", ("referralSource",), "DOCTOR"),
        ("patient", "10480", ("hipaaSignedDate",), "2013-05-02"),
        ("practice", "1", ("domainName", "primaryLinkUrl"), "https://www.brightsmiles.example"),
        ("practice", "1", ("npi",), "2009384753"),
        ("appointment", "583301", ("dueAt",), "2025-01-20T17:40:00Z"),
        ("appointment", "583304", ("dueAt",), "2025-02-02T13:00:00Z"),
        ("appointment", "583306", ("appointmentStatus",), "CANCELLED"),
        ("appointment", "583308", ("appointmentStatus",), "NO_SHOW"),
        ("appointment", "583305", ("status",), "IN_PROGRESS"),
        ("appointment", "583301", ("title",), "Appt: Recall/Prophy - HYG1"),
        ("procedure", "902204", ("cdtCode",), "D2740"),
        ("procedure", "902204", ("rawCode",), "02740"),
        ("procedure", "902206", ("rawCode",), "D2740.1"),
        ("procedure", "902207", ("tooth",), "19"),
        ("procedure", "902210", ("category",), "OTHER"),
        ("treatment_plan", "77120", ("stage",), "IN_PROGRESS"),
        ("treatment_plan", "77122", ("stage",), "PROPOSED"),
        ("treatment_plan", "77120", ("procedureCodes",), ["D2391", "D2740", "D2950"]),
        ("insurance_policy", "5522", ("relationship",), "CHILD"),
        ("insurance_policy", "5526", ("policyStatus",), "INACTIVE"),
        ("insurance_policy", "5521", ("claimCount",), 2),
        ("claim", "31872", ("claimStatus",), "SENT"),
        ("claim", "31872", ("rawStatus",), "S"),
        ("claim", "31870", ("x12Category",), "F1"),
        ("claim", "31875", ("writeOff", "amountMicros"), -12_000_000),
        ("payment", "118204", ("amount", "amountMicros"), -40_000_000),
        ("payment", "118205", ("method",), "FINANCING"),
        ("payment", "118206", ("voided",), True),
        ("recall", "640023", ("title",), "Recall: Perio Maint"),
        ("recall", "640026", ("taskType",), "REMINDER"),
        ("attachment", "44123", ("oversized",), True),
        ("communication", "310077", ("occurredAt",), "2024-11-03T08:30:00Z"),
        ("communication", "310073", ("createdAt",), "2024-10-02T22:10:00Z"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, tuple) else str(v)[:24],
)
def test_field_value(
    utf8_context: Pair, entity: str, key: str, field: tuple[str, ...], expected: Any
) -> None:
    value: Any = _payload(utf8_context, entity, key)
    for part in field:
        value = value[part]
    assert value == expected


@pytest.mark.parametrize(
    ("entity", "key", "code"),
    [
        ("patient", "10494", "SOURCE_DELETED"),
        ("appointment", "583315", "SOURCE_DELETED"),
        ("procedure", "902211", "SOURCE_DELETED"),
        ("provider", "11", "PROVIDER_IS_MEMBER"),
        ("referral", "2290", "FOLDED_INTO_OWNER"),
        (
            "custom_field",
            "Patient:10484:MA_SMOKER",
            "FOLDED_INTO_OWNER",
        ),
        ("custom_field", "Location:1:NPI_TYPE2", "FOLDED_INTO_OWNER"),
    ],
    ids=[
        "deleted-patient",
        "deleted-appointment",
        "deleted-line",
        "provider",
        "referral-in",
        "custom",
        "custom-location",
    ],
)
def test_skipped(utf8_context: Pair, entity: str, key: str, code: str) -> None:
    outcome = _outcome(utf8_context, entity, key)
    assert isinstance(outcome, Skipped)
    assert outcome.code == code


@pytest.mark.parametrize(
    ("entity", "key", "warning"),
    [
        ("patient", "10485", "placeholder_email_dropped:email"),
        ("patient", "10484", "placeholder_email_dropped:email"),
        ("patient", "10481", "email_shared_with:patient:10480"),
        ("appointment", "583312", "dst_ambiguous:appt_date"),
        ("appointment", "583311", "scheduled_in_past"),
        ("appointment", "583301", "member_defaulted:assigneeId:HYG1"),
        ("treatment_plan", "77121", "status_vs_lines"),
        ("treatment_plan", "77120", "total_vs_lines"),
        ("insurance_policy", "5525", "status_vs_dates:termination_date"),
        ("practice", "2", "website_on_primary_only"),
        ("practice", "2", "npi_invalid:NPI_TYPE2:not_digits"),
        ("recall", "640024", "recall_type_from_subject"),
        ("attachment", "44124", "mime_unknown:mime_type"),
        ("patient", "10482", "custom_field_unknown:FAV_FLAVOR"),
    ],
    ids=lambda v: str(v),
)
def test_warning(utf8_context: Pair, entity: str, key: str, warning: str) -> None:
    outcome = _outcome(utf8_context, entity, key)
    assert isinstance(outcome, Transformed)
    assert warning in outcome.warnings


def test_matched_member_is_assigned_without_warning(utf8_context: Pair) -> None:
    outcome = _outcome(utf8_context, "appointment", "583302")
    assert outcome.payload["assigneeId"] == "11111111-1111-4111-8111-111111111111"
    assert not [w for w in outcome.warnings if w.startswith("member_defaulted")]


def test_appointment_has_task_target_child_with_refs(utf8_context: Pair) -> None:
    outcome = _outcome(utf8_context, "appointment", "583301")
    assert "targetPersonId" not in outcome.payload
    (child,) = outcome.children
    assert child.stream_id == "task_target:appointment:583301"
    assert child.target_object == "taskTarget"
    assert child.refs["taskId"].stream_id == "appointment:583301"
    assert child.refs["targetPersonId"].stream_id == "patient:10480"
    assert outcome.refs["requires:patient"].write is False


def test_relations_are_refs_not_ids(utf8_context: Pair) -> None:
    outcome = _outcome(utf8_context, "procedure", "902201")
    assert outcome.refs["treatmentId"].stream_id == "treatment_plan:77120"
    assert outcome.refs["patientId"].stream_id == "patient:10481"
    assert "treatmentId" not in outcome.payload and "patientId" not in outcome.payload


def test_unplanned_line_links_to_person_only(utf8_context: Pair) -> None:
    outcome = _outcome(utf8_context, "procedure", "902209")
    assert set(outcome.refs) == {"patientId"}


def test_cp1252_lost_character_is_warned() -> None:
    source, ctx = context_for("small_cp1252")
    row = next(r for r in source.rows("patient") if r.key == "10486")
    outcome = transform(row, ctx)
    assert isinstance(outcome, Transformed)
    assert "lost_characters:last_name" in outcome.warnings


def test_row_errors_become_reasons_without_values(utf8_context: Pair) -> None:
    source, ctx = utf8_context
    row = next(r for r in source.rows("patient") if r.key == "10480")
    broken = SourceRow(
        row.entity, row.file, row.line, row.key, row.content_hash, row.values,
        (RowError(row.file, row.line, "birth_date", "bad_value", "not a date"),),
    )  # fmt: skip
    outcome = transform(broken, ctx)
    assert isinstance(outcome, Rejected)
    assert outcome.reasons[0].code == "BAD_VALUE"
    assert "Laura" not in outcome.reasons[0].message


def test_unmapped_code_without_fallback_rejects(utf8_context: Pair) -> None:
    source, ctx = utf8_context
    row = next(r for r in source.rows("appointment") if r.key == "583301")
    odd = SourceRow(
        row.entity,
        row.file,
        row.line,
        row.key,
        row.content_hash,
        {**row.values, "status": "Teleported"},
    )
    outcome = transform(odd, ctx)
    assert isinstance(outcome, Rejected)
    assert {r.code for r in outcome.reasons} == {"UNMAPPED_VALUE"}


def test_referral_for_unknown_patient_is_orphan(utf8_context: Pair) -> None:
    source, ctx = utf8_context
    row = next(r for r in source.rows("referral") if r.key == "2290")
    orphan = SourceRow(
        row.entity,
        row.file,
        row.line,
        row.key,
        row.content_hash,
        {**row.values, "patient_id": "99999"},
    )
    outcome = transform(orphan, ctx)
    assert isinstance(outcome, Rejected)
    assert outcome.reasons[0].code == "ORPHAN"


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        (set(), "PROPOSED"),
        ({"COMPLETED"}, "COMPLETED"),
        ({"COMPLETED", "EXISTING"}, "COMPLETED"),
        ({"COMPLETED", "PROPOSED"}, "IN_PROGRESS"),
        ({"SCHEDULED"}, "IN_PROGRESS"),
        ({"DECLINED"}, "DECLINED"),
        ({"PROPOSED", "ACCEPTED"}, "PROPOSED"),
    ],
    ids=["none", "all-done", "done-existing", "mixed", "scheduled", "declined", "proposed"],
)
def test_derive_stage(stages: set[str], expected: str) -> None:
    assert derive_stage(stages) == expected


def test_out_referral_note_or_skip() -> None:
    source, ctx = context_for("small_utf8", out_referrals="skip")
    row = next(r for r in source.rows("referral") if r.key == "2292")
    outcome = transform(row, ctx)
    assert isinstance(outcome, Skipped) and outcome.code == "SKIPPED_BY_CONFIG"


def test_communications_as_notes_keep_original_time() -> None:
    source, ctx = context_for("small_utf8", communications_as="notes")
    row = next(r for r in source.rows("communication") if r.key == "310073")
    outcome = transform(row, ctx)
    assert isinstance(outcome, Transformed)
    assert outcome.target_object == "note"
    assert outcome.payload["createdAt"] == "2024-10-02T22:10:00Z"
    assert outcome.children[0].refs["noteId"].stream_id == "communication:310073"

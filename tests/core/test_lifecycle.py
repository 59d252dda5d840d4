"""The lifecycle guard table and the one machine that runs it."""

from __future__ import annotations

import pytest

from core.lifecycle import TRANSITIONS, Lifecycle, State
from events.errors import IllegalTransitionError
from events.types import RECORD_EVENT_TYPES

LIFECYCLE = Lifecycle()


def test_every_record_event_type_is_a_trigger_and_nothing_else() -> None:
    assert {t["trigger"] for t in TRANSITIONS} == RECORD_EVENT_TYPES


@pytest.mark.parametrize(
    ("path", "end"),
    [
        (
            [
                "RecordExtracted",
                "RecordTransformed",
                "RecordValidated",
                "LoadRequested",
                "RecordLoaded",
                "RecordVerified",
            ],
            "verified",
        ),
        (["RecordExtracted", "RecordRejected"], "rejected"),
        (["RecordExtracted", "RecordSkipped"], "skipped"),
        (
            [
                "RecordExtracted",
                "RecordTransformed",
                "RecordValidated",
                "LoadRequested",
                "LoadFailed",
                "LoadRequested",
                "RecordLoaded",
            ],
            "loaded",
        ),
        (
            [
                "RecordExtracted",
                "RecordTransformed",
                "RecordValidated",
                "LoadRequested",
                "RecordLoaded",
                "RecordVerified",
                "RecordExtracted",
            ],
            "extracted",
        ),
        (
            [
                "RecordExtracted",
                "RecordTransformed",
                "RecordValidated",
                "LoadRequested",
                "RecordLoaded",
                "VerificationFailed",
                "RollbackRequested",
                "RecordRolledBack",
            ],
            "rolled_back",
        ),
        (
            [
                "RecordExtracted",
                "RecordTransformed",
                "RecordValidated",
                "LoadRequested",
                "LoadRequested",
                "RecordLoaded",
            ],
            "loaded",
        ),
    ],
    ids=["happy", "rejected", "skipped", "retry", "delta-reentry", "rollback", "resend"],
)
def test_legal_paths(path: list[str], end: str) -> None:
    state: str | None = None
    for event_type in path:
        state = LIFECYCLE.fire(state, event_type)
    assert state == end


@pytest.mark.parametrize(
    ("state", "event_type"),
    [
        (None, "RecordLoaded"),
        ("extracted", "LoadRequested"),
        ("rejected", "LoadRequested"),
        ("loaded", "RecordTransformed"),
        ("rolled_back", "RecordLoaded"),
        ("verified", "LoadFailed"),
        ("skipped", "RecordVerified"),
    ],
    ids=[
        "load-before-extract",
        "load-unvalidated",
        "load-rejected",
        "transform-loaded",
        "reload-rolled-back",
        "fail-verified",
        "verify-skipped",
    ],
)
def test_illegal_transitions_raise(state: str | None, event_type: str) -> None:
    with pytest.raises(IllegalTransitionError):
        LIFECYCLE.fire(state, event_type, "patient:1")
    assert LIFECYCLE.next_state(state, event_type) is None


def test_compiled_table_agrees_with_the_machine_everywhere() -> None:
    for state in State:
        for event_type in sorted(RECORD_EVENT_TYPES):
            try:
                fired: str | None = LIFECYCLE.fire(state.value, event_type)
            except IllegalTransitionError:
                fired = None
            assert fired == LIFECYCLE.next_state(state.value, event_type), (state, event_type)


def test_unknown_event_type_is_illegal() -> None:
    with pytest.raises(IllegalTransitionError):
        LIFECYCLE.fire("extracted", "RecordTeleported")

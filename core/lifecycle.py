"""The record lifecycle: a guard table kept as data, run by one `transitions.Machine`.

Per-record state is data (the `record_state` projection); the machine holds no record.
The trigger of each transition is the name of the event that causes it, so the event log is
the machine's input tape. `next_state` answers from a table compiled from the machine once,
because the store asks it for every appended record event.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from transitions import Machine, MachineError

from events.errors import IllegalTransitionError


class State(StrEnum):
    """Where a record is in its journey from the export to Twenty and back."""

    NEW = "new"  # no event yet: not a stored state
    EXTRACTED = "extracted"
    TRANSFORMED = "transformed"
    VALIDATED = "validated"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    LOADING = "loading"  # write intent recorded, outcome unknown until reconciled
    LOADED = "loaded"
    LOAD_FAILED = "load_failed"
    VERIFIED = "verified"
    VERIFY_FAILED = "verify_failed"
    ROLLING_BACK = "rolling_back"  # rollback intent recorded, outcome unknown
    ROLLED_BACK = "rolled_back"
    REMOVED = "removed"  # absent from a later full export; the Twenty copy may still be there
    DELETED = "deleted"  # removed in the source and soft-deleted in Twenty by `ferry delta`


S = State
_BEFORE_LOAD = [S.EXTRACTED, S.TRANSFORMED, S.VALIDATED]
_IN_TWENTY = [S.LOADED, S.VERIFIED, S.VERIFY_FAILED]
# A record may hold our writes in Twenty in any state it reaches after a load: a delta sends
# a loaded record back through extraction, a soft delete or a refused update leaves it there.
# The rollback planner decides from the events whether there is anything to undo.
_UNDOABLE = [s for s in State if s not in (S.NEW, S.ROLLED_BACK)]

# The guard table. Each row: trigger (event type), the states it may fire from, the state it
# leads to. Anything not listed is illegal.
TRANSITIONS: list[dict[str, Any]] = [
    # First extraction, a re-extraction of a changed row before loading, and re-entry after a
    # delta (a changed source row sends a loaded/verified record back to extraction).
    {
        "trigger": "RecordExtracted",
        "source": [
            S.NEW,
            *_BEFORE_LOAD,
            S.REJECTED,
            S.SKIPPED,
            S.LOAD_FAILED,
            *_IN_TWENTY,
            S.ROLLED_BACK,
            S.REMOVED,
            S.DELETED,
        ],
        "dest": S.EXTRACTED,
    },
    {"trigger": "RecordTransformed", "source": [S.EXTRACTED], "dest": S.TRANSFORMED},
    {"trigger": "RecordValidated", "source": [S.TRANSFORMED], "dest": S.VALIDATED},
    {"trigger": "RecordRejected", "source": _BEFORE_LOAD, "dest": S.REJECTED},
    {"trigger": "RecordSkipped", "source": [S.EXTRACTED, S.TRANSFORMED], "dest": S.SKIPPED},
    # Retry moves load_failed back to loading; a resend after reconciliation stays in loading;
    # a verification mismatch may be repaired by loading again. From removed or skipped (a
    # source-deleted row) only `ferry delta --apply-deletes` requests a write: a soft delete.
    {
        "trigger": "LoadRequested",
        "source": [S.VALIDATED, S.LOADING, S.LOAD_FAILED, S.VERIFY_FAILED, S.REMOVED, S.SKIPPED],
        "dest": S.LOADING,
    },
    # A delta: the re-extracted record's payload is what Twenty already holds; nothing is sent.
    {"trigger": "RecordUpToDate", "source": [S.VALIDATED], "dest": S.LOADED},
    # A later full export lacks the row (a hard delete in the source).
    {
        "trigger": "RecordRemovedInSource",
        "source": [*_BEFORE_LOAD, S.REJECTED, S.SKIPPED, S.LOAD_FAILED, *_IN_TWENTY, S.ROLLED_BACK],
        "dest": S.REMOVED,
    },
    {"trigger": "RecordSoftDeleted", "source": [S.LOADING], "dest": S.DELETED},
    {"trigger": "RecordLoaded", "source": [S.LOADING], "dest": S.LOADED},
    {"trigger": "LoadFailed", "source": [S.LOADING], "dest": S.LOAD_FAILED},
    {"trigger": "RecordVerified", "source": _IN_TWENTY, "dest": S.VERIFIED},
    {"trigger": "VerificationFailed", "source": _IN_TWENTY, "dest": S.VERIFY_FAILED},
    # A record soft-deleted by a delta is still ours in Twenty: a rollback deletes it for good.
    {
        "trigger": "RollbackRequested",
        "source": _UNDOABLE,
        "dest": S.ROLLING_BACK,
    },
    {
        "trigger": "RecordRolledBack",
        "source": _UNDOABLE,
        "dest": S.ROLLED_BACK,
    },
    # A rollback undid only later writes: the record is still ours, behind the source.
    {"trigger": "RecordReverted", "source": [S.ROLLING_BACK], "dest": S.VALIDATED},
    # A rollback found the record edited in Twenty since our write and left it alone.
    {"trigger": "RollbackWithheld", "source": [S.ROLLING_BACK], "dest": S.LOADED},
]

TERMINAL_STATES = frozenset({S.REJECTED, S.SKIPPED, S.VERIFIED, S.ROLLED_BACK, S.DELETED})


class _Cursor:
    """The machine's one model: a cursor set to a record's state before each trigger."""

    state: str


class Lifecycle:
    """One machine for all records; per-record state is passed in, never held."""

    def __init__(self) -> None:
        self._cursor = _Cursor()
        self._machine = Machine(
            model=self._cursor,
            states=[s.value for s in State],
            transitions=[
                {
                    "trigger": t["trigger"],
                    "source": [s.value for s in t["source"]],
                    "dest": t["dest"].value,
                }
                for t in TRANSITIONS
            ],
            initial=S.NEW.value,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        self._table = self._compile()

    def _compile(self) -> dict[tuple[str, str], str]:
        table: dict[tuple[str, str], str] = {}
        for trigger, event in self._machine.events.items():
            for source, transitions in event.transitions.items():
                table[(source, trigger)] = str(transitions[0].dest)
        return table

    def fire(self, state: str | None, event_type: str, stream_id: str = "") -> str:
        """Run the machine from `state` on `event_type`; the state it arrives in.

        Raises:
            IllegalTransitionError: when the machine refuses the trigger in that state.
        """
        self._machine.set_state(state or S.NEW.value, model=self._cursor)
        try:
            trigger = getattr(self._cursor, event_type)
        except AttributeError as error:
            raise IllegalTransitionError(stream_id, state, event_type) from error
        try:
            trigger()
        except MachineError as error:
            raise IllegalTransitionError(stream_id, state, event_type) from error
        return self._cursor.state

    def next_state(self, state: str | None, event_type: str) -> str | None:
        """The state after `event_type` from `state`, or None when that is illegal."""
        return self._table.get((state or "new", event_type))

    def allowed(self, state: str | None) -> list[str]:
        """The event types that may follow `state`."""
        source = state or "new"
        return sorted(trigger for (s, trigger) in self._table if s == source)

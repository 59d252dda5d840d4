"""The sample approval gate: `ferry run` starts only after a reviewed sample was approved."""

from __future__ import annotations

from events.store import EventStore, NewEvent
from events.types import SampleApproved


def approve_sample(store: EventStore, run_id: str, diff_hash: str, user: str) -> SampleApproved:
    """Record that `user` approved the sample run `run_id` whose diff hashes to `diff_hash`."""
    event = SampleApproved(run_id=run_id, diff_hash=diff_hash, user=user)
    store.append([NewEvent("migration", event)])
    return event


def last_approval(store: EventStore) -> SampleApproved | None:
    """The latest sample approval, or None."""
    found = None
    for stored in store.read("stream_id = 'migration' AND type = 'SampleApproved'"):
        assert isinstance(stored.event, SampleApproved)
        found = stored.event
    return found


def is_sample_approved(store: EventStore) -> bool:
    """True once a sample was approved in this work directory."""
    return last_approval(store) is not None

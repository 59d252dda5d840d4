"""The sample approval on record: SampleApproved events, the auditor's view of the gate.

`ferry sample approve` appends one; `ferry run` needs the latest one to match the confirmed
mapping (and `core.pipeline.sample_approval` checks that the reviewed diff is the current one).
"""

from __future__ import annotations

from events.store import EventStore, NewEvent
from events.types import SampleApproved


def approve_sample(
    store: EventStore, run_id: str, diff_hash: str, user: str, mapping_hash: str = ""
) -> SampleApproved:
    """Record that `user` approved the sample run `run_id` whose diff hashes to `diff_hash`."""
    event = SampleApproved(run_id=run_id, diff_hash=diff_hash, user=user, mapping_hash=mapping_hash)
    store.append([NewEvent("migration", event)])
    return event


def last_approval(store: EventStore) -> SampleApproved | None:
    """The latest sample approval, or None."""
    found = None
    for stored in store.read("stream_id = 'migration' AND type = 'SampleApproved'"):
        assert isinstance(stored.event, SampleApproved)
        found = stored.event
    return found


def is_sample_approved(store: EventStore, mapping_hash: str | None = None) -> bool:
    """True when a sample was approved (under `mapping_hash`, when given)."""
    approval = last_approval(store)
    if approval is None:
        return False
    return mapping_hash is None or approval.mapping_hash == mapping_hash

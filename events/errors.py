"""The event store's exception tree, rooted at `EventStoreError`."""

from __future__ import annotations


class EventStoreError(Exception):
    """Root of every error the event store raises on purpose."""


class StoreMissingError(EventStoreError):
    """No store exists at the given path (and creating one was not asked for)."""


class CorruptStoreError(EventStoreError):
    """The file is not a Ferry event store, or its schema is damaged."""


class ConcurrencyError(EventStoreError):
    """Another writer appended to a stream first; reload its state and decide again.

    Attributes:
        stream_id: the stream whose expected version did not match.
        expected: the version the caller expected the stream to be at.
        actual: the version the stream is at.
    """

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, expected {expected}: "
            "another writer appended first; reload and retry"
        )


class IllegalTransitionError(EventStoreError):
    """An event does not follow from the record's current lifecycle state.

    Attributes:
        stream_id: the record's stream.
        state: the state the record is in (None before its first event).
        event_type: the event that was refused.
    """

    def __init__(self, stream_id: str, state: str | None, event_type: str) -> None:
        self.stream_id = stream_id
        self.state = state
        self.event_type = event_type
        super().__init__(
            f"{event_type} is not allowed for {stream_id!r} in state {state or 'new'!r}"
        )

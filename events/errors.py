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


class StoreReplacedError(EventStoreError):
    """The store's file was deleted or replaced while it was open: stop before writing more."""


class StoreReadOnlyError(EventStoreError):
    """The store (or its folder) cannot be written."""


def store_error(path: object, error: Exception) -> EventStoreError:
    """SQLite's error on the store at `path` as one clear line saying what to do."""
    text = str(error)
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return StoreReadOnlyError(
            f"{path} is read-only ({text}); make it and its folder writable by this user, "
            "or copy the work directory somewhere writable"
        )
    if "locked" in lowered or "busy" in lowered:
        return EventStoreError(
            f"{path} is locked by another process ({text}); wait for it to finish, then retry"
        )
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return CorruptStoreError(
            f"{path} is damaged ({text}); restore it from a backup, or move it aside and run "
            "`ferry init` again in the same folder (ids derive from ferry.toml's namespace)"
        )
    return EventStoreError(
        f"{path} could not be used ({text}); check the file and its folder, then retry"
    )

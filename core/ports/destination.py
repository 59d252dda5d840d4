"""The destination port: what core needs from a CRM (records, data model, members).

Written from Twenty's behaviour but in terms the pipeline can use without knowing HTTP:
objects are named by their plural API name (`people`, `treatments`), records are plain JSON
mappings, every write either succeeds, fails for one record, fails for the run, or ends with
an unknown outcome that the caller must reconcile by looking the records up by id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

import msgspec

from core.errors import FatalForRecordError, FatalForRunError, OutcomeUnknownError, RetryableError

__all__ = [
    "BatchOutcome",
    "BatchTooLargeError",
    "Destination",
    "DestinationAuthError",
    "DestinationSettings",
    "DuplicateRecordError",
    "FieldInfo",
    "Member",
    "MetadataStore",
    "ObjectInfo",
    "OptionInfo",
    "RateLimitedError",
    "RecordNotFoundError",
    "RecordRejectedError",
    "RequestGate",
    "WriteOutcomeUnknownError",
    "stamp_of",
]

Record = dict[str, Any]


class DestinationSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How to reach the destination; the API key itself is never stored, only its variable.

    Attributes:
        url: base URL of the workspace API, e.g. `https://api.twenty.com`.
        api_key_env: name of the environment variable holding the API key.
        batch_size: records per batch create (Twenty Cloud guidance 60, server cap 200).
        mutation_max_records: records one delete-, restore- or update-many request may
            touch; its ids travel in the URL (`id[in]:[...]`), about 39 bytes each.
        timeout_s: seconds before a request is abandoned (its outcome is then unknown).
        max_throttled_attempts: how many 429 answers one request may get before giving up.
    """

    url: str
    api_key_env: str = "TWENTY_API_KEY"
    batch_size: int = 60
    mutation_max_records: int = 100
    timeout_s: float = 30.0
    max_throttled_attempts: int = 8


# --- errors: what the caller should do ------------------------------------------------------


class RateLimitedError(RetryableError):
    """The destination kept answering 429 after every allowed wait; try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class WriteOutcomeUnknownError(OutcomeUnknownError):
    """A write may or may not have been applied (timeout, dropped connection, 5xx).

    Attributes:
        ids: the destination ids the write carried; look them up before resending any.
        reason: short technical cause (`timeout`, `connection dropped`, `HTTP 503`).
    """

    def __init__(self, reason: str, *, ids: Sequence[str] = ()) -> None:
        self.ids = tuple(ids)
        self.reason = reason
        super().__init__(
            f"outcome unknown ({reason}) for {len(self.ids)} record(s); "
            "look them up by id before resending"
        )


class RecordRejectedError(FatalForRecordError):
    """The destination refused this record (HTTP 400): fix the data or the mapping.

    Attributes:
        status: HTTP status.
        message: the destination's message with quoted values redacted.
        field: the field the message names, when it names one.
        record_id: the destination id of the record, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        field: str | None = None,
        record_id: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.field = field
        self.record_id = record_id
        where = f" (field {field})" if field else ""
        super().__init__(f"rejected by the destination{where}: {message}")


class BatchTooLargeError(RecordRejectedError):
    """The destination refused a request for carrying too many records; nothing was written.

    Not a fault of any record: resend the same records in smaller requests.

    Attributes:
        limit: the largest number the destination said it accepts, when it said one.
    """

    def __init__(self, message: str, *, status: int = 400, limit: int | None = None) -> None:
        self.limit = limit
        super().__init__(message, status=status)


class DuplicateRecordError(RecordRejectedError):
    """A unique value (id, email, domain, dentalExecId) is already held by another record."""


class RecordNotFoundError(FatalForRecordError):
    """The record addressed by id does not exist (HTTP 404)."""


class DestinationAuthError(FatalForRunError):
    """The API key is missing, invalid, expired or lacks a permission: stop the run."""


# --- values ---------------------------------------------------------------------------------


class BatchOutcome(msgspec.Struct, frozen=True):
    """What became of one batch create after any splitting.

    Attributes:
        created: the records as the destination returned them (with their ids).
        rejected: destination id -> why that one record was refused.
        requests: how many HTTP requests the batch took (1 unless it was split).
    """

    created: tuple[Record, ...]
    rejected: Mapping[str, RecordRejectedError]
    requests: int = 1


class Member(msgspec.Struct, frozen=True):
    """A workspace member (a user of the CRM) that records can be assigned to."""

    id: str
    email: str | None
    first_name: str = ""
    last_name: str = ""


class OptionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A SELECT / MULTI_SELECT option as the destination stores it.

    Twenty pairs the options of an update with the stored ones by `id`: an option sent back
    without its id is a new one, and stored values of an option whose id is not sent back are
    lost. So an update must resend every existing option as it is, id included.
    """

    id: str
    value: str
    label: str
    color: str = ""
    position: int = 0


class FieldInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A field as the destination's data model reports it."""

    id: str
    name: str
    type: str
    label: str = ""
    is_custom: bool = False
    is_unique: bool = False
    is_nullable: bool = True
    options: tuple[str, ...] = ()
    relation_target: str | None = None
    # The options in full (id, label, colour, position), in the order the destination gave.
    option_details: tuple[OptionInfo, ...] = ()


class ObjectInfo(msgspec.Struct, frozen=True, kw_only=True):
    """An object (record type) with its fields, as the destination reports it."""

    id: str
    name_singular: str
    name_plural: str
    label_singular: str = ""
    is_custom: bool = False
    fields: tuple[FieldInfo, ...] = ()

    def field(self, name: str) -> FieldInfo | None:
        """The field called `name`, or None."""
        return next((f for f in self.fields if f.name == name), None)


# --- protocols ------------------------------------------------------------------------------


class RequestGate(Protocol):
    """Admission control shared by every request (the rate limiter implements it)."""

    async def acquire(self) -> bool:
        """Wait until one more request may be sent; True when let through without waiting."""
        ...

    def answered(self, immediate: bool) -> None:
        """A request came back with anything but 429; `immediate` is what `acquire` returned."""
        ...

    def throttled(self, delay_s: float) -> None:
        """The destination answered 429: lower the rate and hold everyone back `delay_s`."""
        ...


class Destination(Protocol):
    """Record operations; objects are addressed by plural API name, records by id."""

    @property
    def batch_size(self) -> int:
        """Records per batch create or upsert."""
        ...

    @property
    def mutation_max_records(self) -> int:
        """Records one update-, delete- or restore-many request may touch."""
        ...

    async def create_batch(self, object_name: str, records: Sequence[Record]) -> BatchOutcome:
        """Create records in one request, splitting the batch when one record is refused.

        Raises:
            WriteOutcomeUnknownError: the outcome of some records is unknown (their ids given).
            DestinationAuthError: the run must stop.
        """
        ...

    async def create_one(self, object_name: str, record: Record) -> Record:
        """Create one record.

        Raises:
            RecordRejectedError: the record was refused.
            WriteOutcomeUnknownError: the outcome is unknown.
        """
        ...

    async def update_one(self, object_name: str, record_id: str, values: Record) -> Record:
        """Change the given fields of one record; return it as it is now.

        Raises:
            RecordRejectedError, RecordNotFoundError, WriteOutcomeUnknownError.
        """
        ...

    async def delete_one(self, object_name: str, record_id: str, *, soft: bool) -> None:
        """Delete one record, permanently unless `soft`.

        Raises:
            RecordNotFoundError, WriteOutcomeUnknownError.
        """
        ...

    async def restore_one(self, object_name: str, record_id: str) -> Record:
        """Bring back a soft-deleted record.

        Raises:
            RecordNotFoundError, RecordRejectedError, WriteOutcomeUnknownError.
        """
        ...

    async def delete_many(
        self,
        object_name: str,
        ids: Sequence[str],
        *,
        soft: bool,
        unchanged_since: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Delete the records among `ids` (permanently unless `soft`); return the ids deleted.

        Sends as few requests as the destination's caps allow. Ids already gone are not an
        error: they are simply not in the answer. With `unchanged_since` (each id's
        `updatedAt` after our last write to it) only records not written since are deleted;
        the others are left, and not in the answer.

        Raises:
            WriteOutcomeUnknownError: carrying the ids of the request whose outcome is unknown.
            RecordRejectedError: the destination refused a request (e.g. an invalid id).
            DestinationAuthError: the run must stop.
        """
        ...

    async def restore_many(self, object_name: str, ids: Sequence[str]) -> list[Record]:
        """Bring back the soft-deleted records among `ids`; return those restored.

        Raises:
            WriteOutcomeUnknownError: carrying the ids of the request whose outcome is unknown.
            RecordRejectedError: the destination refused a request.
            DestinationAuthError: the run must stop.
        """
        ...

    async def upsert_many(self, object_name: str, records: Sequence[Record]) -> list[Record]:
        """Create or update records matched by id (Twenty: also by unique values), in chunks.

        Every record carries its `id`; a matched record gets exactly the fields sent (absent
        ones are left as they are) and is restored if it was soft-deleted.

        Raises:
            WriteOutcomeUnknownError: carrying the ids of the request whose outcome is unknown.
            RecordRejectedError: the destination refused a chunk (nothing of it was written).
            DestinationAuthError: the run must stop.
        """
        ...

    async def find_by_ids(
        self, object_name: str, ids: Sequence[str], *, include_deleted: bool = False
    ) -> list[Record]:
        """The records among `ids` that exist (soft-deleted ones too when asked)."""
        ...

    def find(
        self, object_name: str, filter_expr: str | None = None, *, include_deleted: bool = False
    ) -> AsyncIterator[Record]:
        """Every record matching a filter, page by page."""
        ...

    async def list_members(self) -> list[Member]:
        """The workspace members."""
        ...


def stamp_of(record: Record) -> str:
    """The record's `updatedAt` as the destination answered it (empty when it did not say)."""
    value = record.get("updatedAt")
    return value if isinstance(value, str) else ""


class MetadataStore(Protocol):
    """The destination's data model: list and change objects and fields."""

    async def list_objects(self) -> list[ObjectInfo]:
        """Every object with its fields."""
        ...

    async def create_object(self, body: Mapping[str, Any]) -> ObjectInfo:
        """Create a custom object from a metadata body.

        Raises:
            RecordRejectedError: the destination refused the definition.
        """
        ...

    async def create_field(self, body: Mapping[str, Any]) -> FieldInfo:
        """Create a field from a metadata body.

        Raises:
            RecordRejectedError: the destination refused the definition.
        """
        ...

    async def update_field(self, field_id: str, body: Mapping[str, Any]) -> FieldInfo:
        """Change a field (label, options, ...)."""
        ...

    async def delete_field(self, field_id: str) -> None:
        """Delete a field."""
        ...

    async def delete_object(self, object_id: str) -> None:
        """Deactivate then delete a custom object."""
        ...

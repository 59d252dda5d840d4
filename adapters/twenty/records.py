"""Twenty's REST data API: create, update, delete, restore, find (reference §2, §9).

A request Twenty refuses as too large (BatchTooLargeError: nothing was written) is resent in
smaller ones, and the smaller size is kept for the rest of the session (`batch_size`,
`learned_batch_size`, `mutation_max_records`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from adapters.twenty._http import Http
from core.errors import FatalForRunError
from core.ports.destination import (
    BatchOutcome,
    BatchTooLargeError,
    Member,
    Record,
    RecordRejectedError,
    WriteOutcomeUnknownError,
)

QUERY_MAX_RECORDS = 200  # Twenty's cap on records per batch create/upsert (and page size)
IDS_PER_LOOKUP = 100  # keeps the filter URL around 4 KB (Node's limit is 16 KB, nginx's 8 KB)
# A filter that names `deletedAt` reads soft-deleted rows too (Twenty's query parser looks for
# the key at any depth): this one matches every row, live or deleted, in one request.
_LIVE_OR_DELETED = "or(deletedAt[is]:NULL,deletedAt[is]:NOT_NULL)"
_PAGE = QUERY_MAX_RECORDS  # Twenty's maximum page size

T = TypeVar("T")


def payload(body: Any) -> Any:
    """The single value inside Twenty's `{"data": {"<operation>": ...}}` envelope."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if isinstance(data, Mapping) and len(data) == 1:
        return next(iter(data.values()))
    return data


def chunks(items: Sequence[T], size: Callable[[], int]) -> Iterator[Sequence[T]]:
    """Consecutive slices of `items`, each `size()` long as it stands when the slice is taken."""
    start = 0
    while start < len(items):
        part = items[start : start + size()]
        yield part
        start += len(part)


def smaller_size(error: BatchTooLargeError, sent: int) -> int:
    """The request size to use after Twenty refused `sent` records as too many.

    Raises:
        FatalForRunError: Twenty refused a request of a single record as too large.
    """
    if error.limit is not None and 1 <= error.limit < sent:
        return error.limit
    if sent <= 1:
        raise FatalForRunError(f"Twenty refuses even one record per request: {error.message}")
    return sent // 2


def _listing(body: Any) -> tuple[list[Record], str | None]:
    """Records of a list answer and the cursor of the next page (None on the last)."""
    records = payload(body)
    page_info = body.get("pageInfo") or {}
    cursor = page_info.get("endCursor") if page_info.get("hasNextPage") else None
    return list(records or []), cursor


class RecordApi:
    """Record operations on one workspace; mixed into `TwentyClient`."""

    _http: Http
    _learned_batch_size: int | None
    _learned_mutation_max: int | None
    _restore_prefix: bool

    @property
    def batch_size(self) -> int:
        """Records per batch create or upsert: as configured, or less once Twenty refused it."""
        configured = self._http.settings.batch_size
        learned = self._learned_batch_size
        return configured if learned is None else min(configured, learned)

    @property
    def learned_batch_size(self) -> int | None:
        """The batch size Twenty's "too many records" refusals taught (None: never refused)."""
        return self._learned_batch_size

    @learned_batch_size.setter
    def learned_batch_size(self, size: int | None) -> None:
        """Start from a size learned earlier (e.g. in a previous run).

        Raises:
            ValueError: outside 1 to 200.
        """
        if size is not None and not 1 <= size <= QUERY_MAX_RECORDS:
            raise ValueError(f"a batch size is 1 to {QUERY_MAX_RECORDS}, not {size}")
        self._learned_batch_size = size

    @property
    def mutation_max_records(self) -> int:
        """Records per delete- or restore-many request: as configured, or less once refused."""
        configured = self._http.settings.mutation_max_records
        learned = self._learned_mutation_max
        return configured if learned is None else min(configured, learned)

    def _learn_batch_size(self, error: BatchTooLargeError, sent: int) -> None:
        smaller = smaller_size(error, sent)
        learned = self._learned_batch_size
        self._learned_batch_size = smaller if learned is None else min(learned, smaller)

    def _learn_mutation_max(self, error: BatchTooLargeError, sent: int) -> None:
        smaller = smaller_size(error, sent)
        learned = self._learned_mutation_max
        self._learned_mutation_max = smaller if learned is None else min(learned, smaller)

    async def create_many(self, object_name: str, records: Sequence[Record]) -> list[Record]:
        """Create records in exactly one request (all or nothing on Twenty's side).

        Raises:
            RecordRejectedError, WriteOutcomeUnknownError, DestinationAuthError.
        """
        ids = [str(r.get("id", "")) for r in records]
        body = await self._http.request(
            "POST", f"/rest/batch/{object_name}", json=list(records), write=True, ids=ids
        )
        return list(payload(body) or [])

    async def create_batch(self, object_name: str, records: Sequence[Record]) -> BatchOutcome:
        """Create records, bisecting a refused batch so the good ones load.

        Sent in requests of at most `batch_size`; a request Twenty refuses as too large
        lowers `batch_size` and is resent in smaller ones (nothing of it was written).

        Raises:
            WriteOutcomeUnknownError: carrying every id whose outcome is not known.
            DestinationAuthError, FatalForRunError: the run must stop.
        """
        created: list[Record] = []
        rejected: dict[str, RecordRejectedError] = {}
        requests = 0

        async def attempt(chunk: Sequence[Record]) -> None:
            nonlocal requests
            requests += 1
            try:
                created.extend(await self.create_many(object_name, chunk))
            except BatchTooLargeError as error:
                self._learn_batch_size(error, len(chunk))
                for part in chunks(chunk, lambda: self.batch_size):
                    await attempt(part)
            except RecordRejectedError as error:
                if len(chunk) == 1:
                    error.record_id = str(chunk[0].get("id", "")) or None
                    rejected[error.record_id or f"#{len(rejected)}"] = error
                    return
                middle = len(chunk) // 2
                await attempt(chunk[:middle])
                await attempt(chunk[middle:])

        try:
            for part in chunks(records, lambda: self.batch_size):
                await attempt(part)
        except WriteOutcomeUnknownError as error:
            known = {str(r.get("id")) for r in created} | set(rejected)
            unknown = [str(r.get("id", "")) for r in records if str(r.get("id")) not in known]
            raise WriteOutcomeUnknownError(error.reason, ids=unknown) from error
        return BatchOutcome(tuple(created), rejected, requests)

    async def create_one(self, object_name: str, record: Record) -> Record:
        """Create one record.

        Raises:
            RecordRejectedError, WriteOutcomeUnknownError, DestinationAuthError.
        """
        ids = [str(record["id"])] if "id" in record else []
        body = await self._http.request(
            "POST", f"/rest/{object_name}", json=dict(record), write=True, ids=ids
        )
        return dict(payload(body))

    async def update_one(self, object_name: str, record_id: str, values: Record) -> Record:
        """Change the given fields of one record; return it as it is now.

        Raises:
            RecordRejectedError, RecordNotFoundError, WriteOutcomeUnknownError.
        """
        body = await self._http.request(
            "PATCH",
            f"/rest/{object_name}/{record_id}",
            json=dict(values),
            write=True,
            ids=[record_id],
        )
        return dict(payload(body))

    async def delete_one(self, object_name: str, record_id: str, *, soft: bool) -> None:
        """Delete one record: permanently, or soft (kept under "Deleted records").

        Raises:
            RecordNotFoundError, WriteOutcomeUnknownError.
        """
        params = {"soft_delete": "true"} if soft else None
        await self._http.request(
            "DELETE", f"/rest/{object_name}/{record_id}", params=params, write=True, ids=[record_id]
        )

    async def restore_one(self, object_name: str, record_id: str) -> Record:
        """Restore a soft-deleted record (current suffix route, else the 1.x prefix route).

        Raises:
            RecordNotFoundError, RecordRejectedError, WriteOutcomeUnknownError.
        """
        try:
            body = await self._http.request(
                "PATCH", f"/rest/{object_name}/{record_id}/restore", write=True, ids=[record_id]
            )
        except RecordRejectedError:
            # 1.x servers only know the prefix restore-many (their restore-one answered 400).
            body = await self._http.request(
                "PATCH",
                f"/rest/restore/{object_name}",
                params={"filter": f"id[eq]:{record_id}"},
                write=True,
                ids=[record_id],
            )
        restored = payload(body)
        if isinstance(restored, list):
            restored = restored[0] if restored else {"id": record_id}
        return dict(restored)

    async def find_by_ids(
        self, object_name: str, ids: Sequence[str], *, include_deleted: bool = False
    ) -> list[Record]:
        """The records among `ids` that exist (soft-deleted ones too when asked)."""
        found: list[Record] = []
        for start in range(0, len(ids), IDS_PER_LOOKUP):
            chunk = ",".join(ids[start : start + IDS_PER_LOOKUP])
            async for record in self.find(
                object_name, f"id[in]:[{chunk}]", include_deleted=include_deleted
            ):
                found.append(record)
        return found

    async def find(
        self, object_name: str, filter_expr: str | None = None, *, include_deleted: bool = False
    ) -> AsyncIterator[Record]:
        """Every record matching a filter, following cursors (soft-deleted ones too when
        asked: one query whose filter names `deletedAt`)."""
        expr = filter_expr
        if include_deleted and "deletedAt" not in (filter_expr or ""):
            expr = f"{filter_expr},{_LIVE_OR_DELETED}" if filter_expr else _LIVE_OR_DELETED
        async for record in self._pages(f"/rest/{object_name}", expr):
            yield record

    async def _pages(self, path: str, filter_expr: str | None) -> AsyncIterator[Record]:
        cursor: str | None = None
        while True:
            params = {"limit": str(_PAGE)}
            if filter_expr:
                params["filter"] = filter_expr
            if cursor:
                params["starting_after"] = cursor
            body = await self._http.request("GET", path, params=params, write=False)
            records, cursor = _listing(body)
            for record in records:
                yield record
            if cursor is None or not records:
                return

    async def list_members(self) -> list[Member]:
        """The workspace members (id, login email, name)."""
        members = []
        async for row in self._pages("/rest/workspaceMembers", None):
            name = row.get("name") or {}
            members.append(
                Member(
                    id=str(row["id"]),
                    email=row.get("userEmail"),
                    first_name=name.get("firstName") or "",
                    last_name=name.get("lastName") or "",
                )
            )
        return members

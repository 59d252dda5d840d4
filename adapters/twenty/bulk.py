"""Twenty's bulk writes: delete-, restore- and upsert-many (docs/destination.md, "Bulk writes").

Ids travel in the URL as `id[in]:[id1,id2]`, without spaces: Twenty splits the list on commas
and trims nothing. Deletes and restores go `mutation_max_records` ids a request (100 UUIDs are
about 4 KB of URL, far below Node's 16 KB header limit), upserts `batch_size` records.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from adapters.twenty.records import RecordApi, payload
from core.ports.destination import BatchTooLargeError, Record, RecordRejectedError

T = TypeVar("T")
R = TypeVar("R")


def _id_filter(ids: Sequence[str]) -> str:
    """`id[in]:[a,b]`: Twenty splits the list on commas and does not trim, so no spaces."""
    return f"id[in]:[{','.join(ids)}]"


def _unchanged_filter(ids: Sequence[str], stamps: Mapping[str, str]) -> str:
    """The records among `ids` whose `updatedAt` is still the one given for each.

    Ids sharing a stamp (the records of one batch write) go in one `id[in]` list. Twenty
    keeps microseconds but answers milliseconds, so "still the one given" is `updatedAt`
    before the next millisecond: a record edited within the same millisecond as our write
    would pass, one edited any later does not.
    """
    groups: dict[str, list[str]] = {}
    for record_id in ids:
        groups.setdefault(next_millisecond(stamps[record_id]), []).append(record_id)
    parts = [f'and({_id_filter(same)},updatedAt[lt]:"{until}")' for until, same in groups.items()]
    return parts[0] if len(parts) == 1 else f"or({','.join(parts)})"


def next_millisecond(stamp: str) -> str:
    """An ISO instant one millisecond later, as Twenty writes them (UTC, ms, `Z`).

    Raises:
        ValueError: `stamp` is not an ISO instant.
    """
    instant = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError("an instant without a time zone")
    later = (instant + timedelta(milliseconds=1)).astimezone(UTC)
    return later.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BulkApi(RecordApi):
    """Bulk record writes; mixed into `TwentyClient`."""

    async def _in_chunks(
        self,
        items: Sequence[T],
        size: Callable[[], int],
        send: Callable[[Sequence[T]], Awaitable[list[R]]],
        learn: Callable[[BatchTooLargeError, int], None],
    ) -> list[R]:
        """Send `items` in chunks of `size()`, resending a chunk refused as too large.

        `learn` lowers `size()` strictly below the refused chunk's length (or raises), so
        this ends.
        """
        done: list[R] = []
        start = 0
        while start < len(items):
            chunk = items[start : start + size()]
            try:
                done.extend(await send(chunk))
            except BatchTooLargeError as error:
                learn(error, len(chunk))
                continue
            start += len(chunk)
        return done

    async def upsert_many(self, object_name: str, records: Sequence[Record]) -> list[Record]:
        """Create or update records by id (and Twenty's unique values), `batch_size` a request.

        A matched record gets exactly the fields sent, absent ones untouched, and is
        restored if soft-deleted (docs/destination.md, "Bulk writes").

        Raises:
            ValueError: a record has no `id`.
            WriteOutcomeUnknownError: carrying the ids of the request whose outcome is unknown.
            RecordRejectedError, DestinationAuthError, FatalForRunError.
        """
        if any(not record.get("id") for record in records):
            raise ValueError("upsert_many needs an id on every record")

        async def send(chunk: Sequence[Record]) -> list[Record]:
            body = await self._http.request(
                "POST",
                f"/rest/batch/{object_name}",
                params={"upsert": "true"},
                json=list(chunk),
                write=True,
                ids=[str(record["id"]) for record in chunk],
            )
            return list(payload(body) or [])

        return await self._in_chunks(records, lambda: self.batch_size, send, self._learn_batch_size)

    async def delete_many(
        self,
        object_name: str,
        ids: Sequence[str],
        *,
        soft: bool,
        unchanged_since: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Delete records by id, `mutation_max_records` a request; return the ids deleted.

        Ids already gone are not in Twenty's answer and are no error. With
        `unchanged_since` (id -> `updatedAt`, for every id) a record is deleted only while
        its `updatedAt` is still that one: one edited since is left, and not in the answer.

        Raises:
            WriteOutcomeUnknownError: carrying the ids of the request whose outcome is unknown.
            RecordRejectedError, DestinationAuthError, FatalForRunError.
        """
        extra = {"soft_delete": "true"} if soft else {}
        stamps = None if unchanged_since is None else dict(unchanged_since)

        async def send(chunk: Sequence[str]) -> list[str]:
            where = _id_filter(chunk) if stamps is None else _unchanged_filter(chunk, stamps)
            body = await self._http.request(
                "DELETE",
                f"/rest/{object_name}",
                params={**extra, "filter": where},
                write=True,
                ids=chunk,
            )
            return [str(record["id"]) for record in payload(body) or []]

        unique = list(dict.fromkeys(ids))
        return await self._in_chunks(
            unique, lambda: self.mutation_max_records, send, self._learn_mutation_max
        )

    async def restore_many(self, object_name: str, ids: Sequence[str]) -> list[Record]:
        """Restore soft-deleted records by id, `mutation_max_records` a request.

        Uses the current suffix route, else (once it answers 400) the 1.x prefix route for
        the rest of the session.

        Raises:
            WriteOutcomeUnknownError: carrying the ids of the request whose outcome is unknown.
            RecordRejectedError, DestinationAuthError, FatalForRunError.
        """

        async def send(chunk: Sequence[str]) -> list[Record]:
            return await self._restore_chunk(object_name, chunk)

        unique = list(dict.fromkeys(ids))
        return await self._in_chunks(
            unique, lambda: self.mutation_max_records, send, self._learn_mutation_max
        )

    async def _restore_chunk(self, object_name: str, ids: Sequence[str]) -> list[Record]:
        params = {"filter": _id_filter(ids)}
        if not self._restore_prefix:
            try:
                body = await self._http.request(
                    "PATCH", f"/rest/{object_name}/restore", params=params, write=True, ids=ids
                )
                return list(payload(body) or [])
            except BatchTooLargeError:
                raise
            except RecordRejectedError as suffix_refused:
                # A 1.x server reads `/people/restore` as an update of a record 'restore'.
                try:
                    body = await self._http.request(
                        "PATCH", f"/rest/restore/{object_name}", params=params, write=True, ids=ids
                    )
                except RecordRejectedError:
                    raise suffix_refused from None
                self._restore_prefix = True
                return list(payload(body) or [])
        body = await self._http.request(
            "PATCH", f"/rest/restore/{object_name}", params=params, write=True, ids=ids
        )
        return list(payload(body) or [])

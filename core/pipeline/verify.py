"""Verification: read every migrated record back from Twenty by id and compare it field by field.

Records in `loaded`, `verified` or `verify_failed` are read in pages of `page_size` stream
ids (grouped by object, looked up by id, never through Twenty's export, which stops at 20,000
rows and shows only visible columns). What was sent is the stream's latest RecordTransformed
payload plus each relation join column resolved to its parent's Twenty id, as the loader
sent it. Each record gets RecordVerified or VerificationFailed (the differing fields, or
`missing`); a soft-deleted record counts as a difference on `deletedAt`. Memory holds one
page at a time.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import msgspec

from core.pipeline.comparison import FieldCheck, compare_record
from core.pipeline.pending import latest_transforms, parent_states
from core.ports.destination import Destination
from core.schema_spec import default_spec
from events.store import EventStore, NewEvent
from events.types import (
    FieldDiff,
    RecordTransformed,
    RecordVerified,
    RunFinished,
    RunStarted,
    VerificationFailed,
)

__all__ = [
    "EntityVerification",
    "Expected",
    "RecordCheck",
    "VerifySettings",
    "VerifySummary",
    "check_records",
    "expected_payloads",
    "migrated_pages",
    "verify",
    "verify_run",
]

MIGRATED = ("loaded", "verified", "verify_failed")
MAX_PAGE = 200  # ids per page: Twenty's largest page


class MigratedRow(msgspec.Struct, frozen=True):
    """A record Twenty should hold: its stream, version and Twenty id."""

    stream_id: str
    version: int
    destination_id: str


class Expected(msgspec.Struct, frozen=True):
    """What was sent for one record: the object's plural name and the full payload."""

    object_plural: str
    payload: dict[str, Any]


class RecordCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The comparison of one record: found or not, soft-deleted or not, each field sent."""

    stream_id: str
    object_plural: str
    destination_id: str
    found: bool
    deleted_at: str | None = None
    fields: tuple[FieldCheck, ...] = ()

    @property
    def agrees(self) -> bool:
        """True when the record is there, live, and every field sent reads back the same."""
        return self.found and self.deleted_at is None and all(f.agrees for f in self.fields)

    def diffs(self) -> list[FieldDiff]:
        """The differing fields (with `deletedAt` for a soft-deleted record)."""
        out = [FieldDiff(field=f.path, expected=f.sent, actual=f.read) for f in self.fields]
        out = [d for d, f in zip(out, self.fields, strict=True) if not f.agrees]
        if self.deleted_at is not None:
            out.append(FieldDiff(field="deletedAt", expected=None, actual=self.deleted_at))
        return out

    def event(self) -> RecordVerified | VerificationFailed:
        """The event that records this outcome."""
        if self.agrees:
            return RecordVerified(destination_id=self.destination_id)
        return VerificationFailed(
            destination_id=self.destination_id, diffs=self.diffs(), missing=not self.found
        )


class VerifySettings(msgspec.Struct, frozen=True, kw_only=True):
    """What to verify: one entity or all, the page size, the run the events belong to."""

    entity: str | None = None
    page_size: int = MAX_PAGE
    run_id: str | None = None


class EntityVerification(msgspec.Struct, kw_only=True):
    """Counts of one entity's verification."""

    checked: int = 0
    verified: int = 0
    mismatched: int = 0
    missing: int = 0


class VerifySummary(msgspec.Struct, kw_only=True):
    """What a verification pass found, per entity, and the field paths that differed."""

    entities: dict[str, EntityVerification] = msgspec.field(default_factory=dict)
    fields: dict[str, int] = msgspec.field(default_factory=dict)  # object.path -> records

    @property
    def checked(self) -> int:
        """Records compared."""
        return sum(e.checked for e in self.entities.values())

    @property
    def failed(self) -> int:
        """Records mismatched or missing."""
        return sum(e.mismatched + e.missing for e in self.entities.values())

    def add(self, check: RecordCheck) -> None:
        """Count one record's outcome."""
        entity = check.stream_id.partition(":")[0]
        counts = self.entities.setdefault(entity, EntityVerification())
        counts.checked += 1
        if check.agrees:
            counts.verified += 1
            return
        if not check.found:
            counts.missing += 1
            return
        counts.mismatched += 1
        for diff in check.diffs():
            key = f"{check.object_plural}.{diff.field}"
            self.fields[key] = self.fields.get(key, 0) + 1


def _plurals() -> dict[str, str]:
    plurals = {o.name_singular: o.name_plural for o in default_spec().objects}
    return {**plurals, "taskTarget": "taskTargets", "noteTarget": "noteTargets"}


_PLURALS = _plurals()


def _plural_of(transform: RecordTransformed) -> str:
    if transform.target_plural:
        return transform.target_plural
    return _PLURALS.get(transform.target_object, f"{transform.target_object}s")


def migrated_pages(
    conn: sqlite3.Connection, entity: str | None = None, page_size: int = MAX_PAGE
) -> Iterator[list[MigratedRow]]:
    """Pages of records Twenty should hold, in stream order (read before each yield)."""
    after = ""
    where = "state IN ('loaded', 'verified', 'verify_failed') AND destination_id IS NOT NULL"
    params: list[Any] = []
    if entity:
        where += " AND stream_id >= ? AND stream_id < ?"
        params += [f"{entity}:", f"{entity};"]
    sql = (
        f"SELECT stream_id, version, destination_id FROM record_state WHERE {where} "
        "AND stream_id > ? ORDER BY stream_id LIMIT ?"
    )
    while True:
        rows = conn.execute(sql, (*params, after, min(page_size, MAX_PAGE))).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield [MigratedRow(sid, int(version), str(dest)) for sid, version, dest in rows]


def expected_payloads(conn: sqlite3.Connection, stream_ids: Sequence[str]) -> dict[str, Expected]:
    """What was sent for each stream: payload plus relations resolved to the parents' ids."""
    transforms = latest_transforms(conn, stream_ids)
    parents = parent_states(conn, {p for t in transforms.values() for p in t.refs.values()})
    expected = {}
    for stream_id, transform in transforms.items():
        payload = dict(transform.payload)
        for field, parent in transform.refs.items():
            payload[field] = parents.get(parent, ("", None))[1]
        expected[stream_id] = Expected(_plural_of(transform), payload)
    return expected


async def check_records(
    conn: sqlite3.Connection, destination: Destination, rows: Sequence[MigratedRow]
) -> list[RecordCheck]:
    """Read the records back by id (grouped by object) and compare them with what was sent."""
    expected = expected_payloads(conn, [r.stream_id for r in rows])
    by_object: dict[str, list[MigratedRow]] = {}
    for row in rows:
        if row.stream_id in expected:
            by_object.setdefault(expected[row.stream_id].object_plural, []).append(row)
    checks: dict[str, RecordCheck] = {}
    for plural, group in by_object.items():
        read = await _read_back(destination, plural, [r.destination_id for r in group])
        for row in group:
            record = read.get(row.destination_id.lower())
            checks[row.stream_id] = _check(row, plural, expected[row.stream_id], record)
    return [checks[r.stream_id] for r in rows if r.stream_id in checks]


async def _read_back(destination: Destination, plural: str, ids: list[str]) -> dict[str, Any]:
    """Records by lower-cased id, live ones first.

    Only the ids not found are looked up again among the soft-deleted, so a clean pass costs
    one lookup per id (the client puts 50 ids in one request).
    """
    found = await destination.find_by_ids(plural, ids)
    read = {str(record.get("id", "")).lower(): record for record in found}
    absent = [i for i in ids if i.lower() not in read]
    if absent:
        for record in await destination.find_by_ids(plural, absent, include_deleted=True):
            read[str(record.get("id", "")).lower()] = record
    return read


def _check(
    row: MigratedRow, plural: str, expected: Expected, record: dict[str, Any] | None
) -> RecordCheck:
    if record is None:
        return RecordCheck(
            stream_id=row.stream_id, object_plural=plural,
            destination_id=row.destination_id, found=False,
        )  # fmt: skip
    deleted = record.get("deletedAt")
    return RecordCheck(
        stream_id=row.stream_id,
        object_plural=plural,
        destination_id=row.destination_id,
        found=True,
        deleted_at=str(deleted) if deleted else None,
        fields=tuple(compare_record(expected.payload, record)),
    )


async def verify(
    store: EventStore,
    destination: Destination,
    settings: VerifySettings | None = None,
    on_page: Callable[[int], None] = lambda n: None,
) -> VerifySummary:
    """Verify every migrated record (or one entity's); append one event per record.

    Raises:
        ConcurrencyError: another process moved a record while it was being verified.
    """
    settings = settings or VerifySettings()
    summary = VerifySummary()
    conn = store.connection
    for page in migrated_pages(conn, settings.entity, settings.page_size):
        checks = await check_records(conn, destination, page)
        versions = {row.stream_id: row.version for row in page}
        events = [NewEvent(c.stream_id, c.event(), versions[c.stream_id]) for c in checks]
        store.append(events, run_id=settings.run_id)
        for check in checks:
            summary.add(check)
        on_page(len(page))
    return summary


async def verify_run(
    store: EventStore,
    destination: Destination,
    now: datetime,
    entity: str | None = None,
    on_page: Callable[[int], None] = lambda n: None,
) -> tuple[str, VerifySummary]:
    """A verification pass recorded as a run (RunStarted ... RunFinished); returns its id.

    Raises:
        ConcurrencyError: another process moved a record while it was being verified.
    """
    run_id = f"verify-{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"
    stream = f"run:{run_id}"
    entities = [entity] if entity else []
    start = RunStarted(run_id=run_id, command="verify", entities=entities)
    store.append([NewEvent(stream, start)], run_id=run_id)
    try:
        settings = VerifySettings(entity=entity, run_id=run_id)
        summary = await verify(store, destination, settings, on_page)
    except BaseException as error:
        stopped = isinstance(error, KeyboardInterrupt)
        message = "" if stopped else type(error).__name__
        end = RunFinished(outcome="interrupted" if stopped else "failed", message=message)
        store.append([NewEvent(stream, end)], run_id=run_id)
        raise
    counts = {
        "verified": sum(e.verified for e in summary.entities.values()),
        "mismatched": sum(e.mismatched for e in summary.entities.values()),
        "missing": sum(e.missing for e in summary.entities.values()),
    }
    store.append([NewEvent(stream, RunFinished(outcome="completed", counts=counts))], run_id=run_id)
    return run_id, summary

"""What is left to load, read from the event store: resume finishes pending work first.

A record is pending when it is `validated` (never sent), `loading` (sent or about to be,
outcome unknown: reconciled by id before anything is resent) or `load_failed` with a
retryable cause. Its payload is the latest RecordTransformed; each relation (`refs`) is
resolved to the parent's actual Twenty id through `record_state`, because a parent may have
been linked to a record that existed before the migration. A record whose parent has no
Twenty id yet is blocked, not sent: it stays `validated` and is reported.

A record that is in Twenty already (`landed_streams`: created, linked, updated or soft-deleted
by us and not rolled back) is never pending here, whatever its state: when its source row
changes, `ferry delta` updates it (core.updater); a create would collide with its own id.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

from core.identity import destination_id
from core.loader import LinkIntent, LoadItem
from events.chunks import rows_for_streams
from events.projections import PENDING_CONDITION
from events.queries import latest_events, record_states
from events.types import LoadRequested, RecordTransformed

# Causes of a load failure that a later run retries by itself.
RETRYABLE_CODES = frozenset(
    {
        "RATE_LIMITED",
        "OUTCOME_UNKNOWN",
        "HTTP_429",
        "HTTP_500",
        "HTTP_502",
        "HTTP_503",
        "HTTP_504",
        "TIMEOUT",
    }
)
IN_TWENTY = ("loaded", "verified", "verify_failed")
# The events after which a record is (or, rolled back, is no longer) in Twenty as ours.
# (RecordReverted: a rollback undid later writes only; the record is still ours.)
LANDING_EVENTS = (
    "RecordLoaded", "RecordUpToDate", "RecordSoftDeleted", "RecordReverted", "RecordRolledBack",
)  # fmt: skip


class Blocked(msgspec.Struct, frozen=True):
    """A record not sent because a parent it points to has no Twenty id yet."""

    stream_id: str
    field: str
    parent: str
    parent_state: str | None


def _entity_range(entity: str) -> tuple[str, str]:
    # Stream ids are `<entity>:<key>`: the PK range [entity:, entity;) holds exactly them.
    return f"{entity}:", f"{entity};"


def _pending_rows(
    conn: sqlite3.Connection, entity: str, after: str, limit: int, retry_all_failed: bool
) -> list[tuple[str, str, int, str | None, str | None]]:
    low, high = _entity_range(entity)
    # PENDING_CONDITION is the partial index's own condition: SQLite reads only pending
    # records through it, never the loaded ones (1.2 M of them at 100,000 patients).
    rows = conn.execute(
        "SELECT stream_id, state, version, destination_id, last_error_code FROM record_state "
        f"WHERE stream_id >= ? AND stream_id < ? AND stream_id > ? AND {PENDING_CONDITION} "
        "ORDER BY stream_id LIMIT ?",
        (low, high, after, limit),
    ).fetchall()
    return [
        r
        for r in rows
        if r[1] != "load_failed" or retry_all_failed or (r[4] or "") in RETRYABLE_CODES
    ]


def has_pending(conn: sqlite3.Connection) -> bool:
    """Whether any record waits to be loaded (or reconciled) from an earlier run."""
    row = conn.execute(f"SELECT 1 FROM record_state WHERE {PENDING_CONDITION} LIMIT 1").fetchone()
    return row is not None


def count_pending(conn: sqlite3.Connection, entity: str) -> int:
    """How many records of the entity wait to be loaded (for progress totals)."""
    low, high = _entity_range(entity)
    found = conn.execute(
        "SELECT COUNT(*) FROM record_state WHERE stream_id >= ? AND stream_id < ? "
        f"AND {PENDING_CONDITION}",
        (low, high),
    ).fetchone()
    return int(found[0])


def latest_transforms(
    conn: sqlite3.Connection, stream_ids: Sequence[str]
) -> dict[str, RecordTransformed]:
    """The latest RecordTransformed of each stream."""
    found = latest_events(conn, stream_ids, "RecordTransformed")
    return {sid: e for sid, e in found.items() if isinstance(e, RecordTransformed)}


def landed_streams(conn: sqlite3.Connection, stream_ids: Sequence[str]) -> set[str]:
    """The given streams whose record is in Twenty as ours (last landing is not a rollback)."""
    kinds = ",".join(f"'{k}'" for k in LANDING_EVENTS)
    sql = (
        "SELECT stream_id, type FROM events WHERE stream_id IN ({marks}) "
        f"AND type IN ({kinds}) ORDER BY position"
    )
    last = dict(rows_for_streams(conn, sql, stream_ids))
    return {sid for sid, kind in last.items() if kind != "RecordRolledBack"}


def parent_states(
    conn: sqlite3.Connection, stream_ids: set[str]
) -> dict[str, tuple[str, str | None]]:
    """state and destination id of each given stream that exists."""
    found = record_states(conn, sorted(stream_ids), "state, destination_id")
    return {sid: (row[0], row[1]) for sid, row in found.items()}


def pending(
    conn: sqlite3.Connection,
    entity: str,
    namespace: uuid.UUID,
    *,
    chunk: int = 500,
    retry_all_failed: bool = False,
) -> Iterator[list[LoadItem | Blocked]]:
    """Chunks of the entity's pending records, as LoadItems or Blocked, in stream order.

    Each chunk is read completely before it is yielded, so the caller may append events
    (which move these records on) between chunks.
    """
    after = ""
    while rows := _pending_rows(conn, entity, after, chunk, retry_all_failed):
        after = rows[-1][0]
        landed = landed_streams(conn, [r[0] for r in rows])
        rows = [r for r in rows if r[0] not in landed]
        transforms = latest_transforms(conn, [r[0] for r in rows])
        refs = {target for t in transforms.values() for target in t.refs.values()}
        parents = parent_states(conn, refs)
        # A parent changed by a delta (validated again, or a conflict) keeps its Twenty id.
        changed = [p for p, (state, _) in parents.items() if state not in IN_TWENTY]
        for parent in landed_streams(conn, changed):
            parents[parent] = ("loaded", parents[parent][1])
        intents = last_intents(conn, [r[0] for r in rows if r[1] != "validated"])
        out: list[LoadItem | Blocked] = []
        for stream_id, state, version, _, _ in rows:
            transform = transforms.get(stream_id)
            if transform is None:
                continue  # cannot happen: validated records were transformed first
            item = _item(stream_id, state, version, transform, parents, namespace)
            out.append(_with_intent(item, intents.get(stream_id)))
        yield out


def _with_intent(item: LoadItem | Blocked, intent: LoadRequested | None) -> LoadItem | Blocked:
    """An unfinished link is resumed as a link (with its recorded before-image), not a create."""
    if isinstance(item, Blocked) or intent is None or intent.operation not in ("link", "restore"):
        return item
    link = LinkIntent(
        holder_id=intent.destination_id,
        before_image=intent.before_image,
        was_deleted=intent.operation == "restore",
    )
    return msgspec.structs.replace(item, destination_id=intent.destination_id, link=link)


def last_intents(conn: sqlite3.Connection, stream_ids: Sequence[str]) -> dict[str, LoadRequested]:
    """The latest LoadRequested of each given stream."""
    found = latest_events(conn, stream_ids, "LoadRequested")
    return {sid: e for sid, e in found.items() if isinstance(e, LoadRequested)}


def _item(
    stream_id: str,
    state: str,
    version: int,
    transform: RecordTransformed,
    parents: dict[str, tuple[str, str | None]],
    namespace: uuid.UUID,
) -> LoadItem | Blocked:
    payload: dict[str, Any] = dict(transform.payload)
    for field, parent in transform.refs.items():
        parent_state, parent_dest = parents.get(parent, (None, None))
        if parent_state not in IN_TWENTY or not parent_dest:
            return Blocked(stream_id, field, parent, parent_state)
        payload[field] = parent_dest
    entity, _, key = stream_id.partition(":")
    return LoadItem(
        stream_id=stream_id,
        object_singular=transform.target_object,
        object_plural=transform.target_plural,
        # Creates always use the deterministic id: a Twenty id recorded earlier may be that
        # of a pre-existing record Ferry tried to link (resumed separately, see _with_intent).
        destination_id=destination_id(namespace, entity, key),
        payload=payload,
        version=version,
        in_doubt=state == "loading",
    )

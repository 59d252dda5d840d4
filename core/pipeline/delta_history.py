"""What a delta needs to know about records already in Twenty, read from their event streams.

For each stream: the payload Twenty was last sent (the RecordTransformed current at the last
RecordLoaded or RecordUpToDate), the latest payload, the last write request (its operation
and before-image) and the last landing event. From these `update_candidates` and
`delete_candidates` build the Updater's work, with every relation resolved to its parent's
Twenty id through `record_state`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

from core.pipeline.pending import IN_TWENTY, RETRYABLE_CODES, landed_streams, parent_states
from core.updater import UpdateItem
from events.chunks import rows_for_streams
from events.types import LoadRequested, RecordReverted, RecordTransformed, decode

__all__ = ["History", "delete_candidates", "histories", "resolve", "update_candidates"]

_KINDS = (
    "RecordTransformed",
    "LoadRequested",
    "RecordLoaded",
    "RecordUpToDate",
    "RecordSoftDeleted",
    "RecordRolledBack",
    "RecordReverted",
)
_LANDED = ("RecordLoaded", "RecordUpToDate")
# Landings after which the record is in Twenty as ours, live.
_LIVE = (*_LANDED, "RecordReverted")


class History(msgspec.Struct, kw_only=True):
    """One stream's facts for a delta (None where the stream has no such event)."""

    latest: RecordTransformed | None = None
    sent: RecordTransformed | None = None
    request: LoadRequested | None = None
    landing: str | None = None


def histories(conn: sqlite3.Connection, stream_ids: Sequence[str]) -> dict[str, History]:
    """The History of each given stream."""
    found: dict[str, History] = {}
    # Per stream, (position, payload sent) of each landing: a RecordReverted takes back the
    # landings from its `undone_from` on, so what Twenty holds is an earlier one's payload.
    sent: dict[str, list[tuple[int, RecordTransformed | None]]] = {}
    kinds = ",".join(f"'{k}'" for k in _KINDS)
    sql = (
        "SELECT stream_id, type, data, position FROM events WHERE stream_id IN ({marks}) "
        f"AND type IN ({kinds}) ORDER BY position"
    )
    for stream_id, kind, data, position in rows_for_streams(conn, sql, stream_ids):
        history = found.setdefault(stream_id, History())
        event = decode(data)
        if isinstance(event, RecordTransformed):
            history.latest = event
        elif isinstance(event, LoadRequested):
            history.request = event
        else:
            history.landing = kind
            landings = sent.setdefault(stream_id, [])
            if kind in _LANDED:
                landings.append((position, history.latest))
                history.sent = history.latest
            elif isinstance(event, RecordReverted):
                landings[:] = [x for x in landings if x[0] < event.undone_from]
                history.sent = landings[-1][1] if landings else None
            elif kind == "RecordRolledBack":
                landings.clear()
    return found


def resolve(
    transform: RecordTransformed, parents: dict[str, tuple[str, str | None]]
) -> dict[str, Any] | None:
    """The payload with each relation set to its parent's Twenty id; None when one has none."""
    payload: dict[str, Any] = dict(transform.payload)
    for field, parent in transform.refs.items():
        dest = parents.get(parent, (None, None))[1]
        if not dest:
            return None
        payload[field] = dest
    return payload


def _rows(
    conn: sqlite3.Connection, entity: str, states: Sequence[str]
) -> Iterator[list[tuple[str, str, int, str | None, str | None]]]:
    """Chunks of (stream, state, version, destination id, last error) of the entity."""
    after = ""
    marks = ",".join("?" * len(states))
    while True:
        rows = conn.execute(
            "SELECT stream_id, state, version, destination_id, last_error_code FROM record_state "
            f"WHERE stream_id >= ? AND stream_id < ? AND stream_id > ? AND state IN ({marks}) "
            # Only records with a Twenty id can be updated or deleted there (most skipped
            # rows, folded custom fields say, never had one).
            "AND destination_id IS NOT NULL ORDER BY stream_id LIMIT 500",
            (f"{entity}:", f"{entity};", after, *states),
        ).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield rows


def _parents(
    conn: sqlite3.Connection, found: dict[str, History]
) -> dict[str, tuple[str, str | None]]:
    refs = {
        p
        for h in found.values()
        for t in (h.latest, h.sent)
        if t is not None
        for p in t.refs.values()
    }
    parents = parent_states(conn, refs)
    changed = [p for p, (state, _) in parents.items() if state not in IN_TWENTY]
    for parent in landed_streams(conn, changed):
        parents[parent] = ("loaded", parents[parent][1])
    return {p: v for p, v in parents.items() if v[0] in IN_TWENTY}


def update_candidates(conn: sqlite3.Connection, entity: str) -> Iterator[list[UpdateItem]]:
    """Chunks of the entity's records in Twenty whose source changed: updates (or resumes)."""
    for rows in _rows(conn, entity, ("validated", "loading", "load_failed")):
        found = histories(conn, [r[0] for r in rows])
        parents = _parents(conn, found)
        items = []
        for stream_id, state, version, dest, code in rows:
            history = found.get(stream_id)
            if history is None or history.landing not in (*_LIVE, "RecordSoftDeleted"):
                continue  # never in Twenty: a create (core.pipeline.pending)
            request = history.request if state != "validated" else None
            if request is not None and request.operation == "soft_delete":
                continue
            if state == "load_failed" and code not in RETRYABLE_CODES:
                continue
            item = _update_item(stream_id, state, version, dest, history, parents, request)
            if item is not None:
                items.append(item)
        yield items


def _update_item(
    stream_id: str,
    state: str,
    version: int,
    dest: str | None,
    history: History,
    parents: dict[str, tuple[str, str | None]],
    request: LoadRequested | None,
) -> UpdateItem | None:
    latest, sent = history.latest, history.sent
    if latest is None or not dest:
        return None
    payload = resolve(latest, parents)
    last = resolve(sent, parents) if sent is not None else None
    if payload is None:
        return None  # a parent lost its Twenty id (rolled back): reported as blocked
    return UpdateItem(
        stream_id=stream_id,
        object_singular=latest.target_object,
        object_plural=latest.target_plural,
        destination_id=dest,
        version=version,
        operation="restore" if history.landing == "RecordSoftDeleted" else "update",
        payload=payload,
        last_sent=last or {},
        in_doubt=state == "loading",
        before_image=request.before_image if request is not None else None,
    )


def delete_candidates(conn: sqlite3.Connection, entity: str) -> Iterator[list[UpdateItem]]:
    """Chunks of the entity's records removed or deleted in the source but live in Twenty."""
    for rows in _rows(conn, entity, ("removed", "skipped", "loading", "load_failed")):
        found = histories(conn, [r[0] for r in rows])
        parents = _parents(conn, found)
        items = []
        for stream_id, state, version, dest, _ in rows:
            history = found.get(stream_id)
            if history is None or history.sent is None or not dest:
                continue
            in_flight = state in ("loading", "load_failed")
            request = history.request if in_flight else None
            if in_flight and (request is None or request.operation != "soft_delete"):
                continue
            if not in_flight and history.landing not in _LIVE:
                continue
            items.append(
                UpdateItem(
                    stream_id=stream_id,
                    object_singular=history.sent.target_object,
                    object_plural=history.sent.target_plural,
                    destination_id=dest,
                    version=version,
                    operation="soft_delete",
                    payload={},
                    last_sent=resolve(history.sent, parents) or {},
                    in_doubt=state == "loading",
                    before_image=request.before_image if request is not None else None,
                )
            )
        yield items

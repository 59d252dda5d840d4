"""What a rollback must undo, read from the event store, newest first.

A record is undone when it is in Twenty by our doing (`loaded`, `verified`, `verify_failed`)
and has a RecordLoaded in scope after its last RecordRolledBack. Its first such load decides
the action: `created` -> delete it permanently; `updated`/`linked` -> put back the
before-image of that load, only for the fields our writes in scope sent, and soft-delete it
again when that load restored it from soft deletion. Records left `rolling_back` by an
interrupted rollback are finished first, under the scope of the rollback that started them.

Records come in chunks ordered by the position of that first load, descending: children
(task and note targets, records pointing at a parent) were loaded after their parents, so
they are undone before them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Literal

import msgspec

from core.pipeline.pending import landed_streams
from events.queries import record_states
from events.types import (
    RecordExtracted,
    RecordLoaded,
    RecordRemovedInSource,
    RecordReverted,
    RecordRolledBack,
    RecordSoftDeleted,
    RecordTransformed,
    RollbackRequested,
    RollbackWithheld,
    RunStarted,
    decode,
)

__all__ = ["IN_TWENTY", "RollbackItem", "RollbackScope", "plan_chunks", "scope_of_rollback"]

# Every state in which a record may hold writes of ours (a delta re-extracts loaded records,
# soft-deletes removed ones, ...): the candidate query keeps those with a RecordLoaded after
# their last RecordRolledBack, i.e. with something to undo.
IN_TWENTY = (
    "loaded", "verified", "verify_failed", "extracted", "transformed", "validated", "rejected",
    "skipped", "loading", "load_failed", "removed", "deleted",
)  # fmt: skip
Action = Literal["delete", "restore_before_image"]


class RollbackScope(msgspec.Struct, frozen=True, kw_only=True):
    """Which of our writes to undo; every given criterion must hold (none: all of them).

    Attributes:
        run_id: only writes recorded by this run.
        entity: only records of this source entity (`patient`).
        since: only writes recorded at or after this ISO-8601 UTC instant.
    """

    run_id: str | None = None
    entity: str | None = None
    since: str | None = None

    def options(self) -> dict[str, str]:
        """The scope as RunStarted options (for resuming under the same scope)."""
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}


class RollbackItem(msgspec.Struct, frozen=True, kw_only=True):
    """One record to undo.

    Attributes:
        stream_id: the record's stream (`patient:10480`).
        version: the stream's current version (for the store's optimistic check).
        object_plural / object_singular: the Twenty object.
        destination_id: the Twenty record id.
        action: `delete` (we created it) or `restore_before_image` (we changed it).
        restore: field -> value before our first write in scope (patient values: never
            printed or logged; only the keys are shown).
        soft_delete_after: our first write restored it from soft deletion.
        written: what our last write in scope sent (to tell whether someone edited it since).
        written_at: Twenty's `updatedAt` after our last write to it, when its answer gave it
            (empty when unknown: a record deleted only while it still holds this stamp can
            go without being read first).
        pending: the action of a RollbackRequested without outcome (None: not in doubt).
        position: the position of the first load in scope (the order key).
        source_gone: the source no longer holds its row (a later full export lacked it):
            once deleted from Twenty it is `removed` again, not a record to migrate again.
        soft_deleted_by_us: our last write soft-deleted it (`ferry delta --apply-deletes`),
            so a `deletedAt` found on it is ours, not someone's edit.
        reverts: writes of ours older than the scope stay in Twenty (a rollback of a delta
            that updated a record an earlier run created): the record is put back to what
            they left and stays ours (RecordReverted), instead of being rolled back.
    """

    stream_id: str
    version: int
    object_plural: str
    object_singular: str
    destination_id: str
    action: Action
    restore: dict[str, Any] = msgspec.field(default_factory=dict)
    soft_delete_after: bool = False
    written: dict[str, Any] = msgspec.field(default_factory=dict)
    written_at: str = ""
    pending: str | None = None
    position: int = 0
    reverts: bool = False
    soft_deleted_by_us: bool = False
    source_gone: bool = False


_CANDIDATES = """
SELECT r.stream_id, MIN(e.position) AS first FROM record_state r
JOIN events e ON e.stream_id = r.stream_id AND e.type = 'RecordLoaded'
WHERE r.state IN ({states}) AND e.position > COALESCE((
    SELECT MAX(x.position) FROM events x
    WHERE x.stream_id = r.stream_id AND x.type = 'RecordRolledBack'), 0){extra}
GROUP BY r.stream_id ORDER BY first DESC
"""


def _scope_sql(scope: RollbackScope) -> tuple[str, list[str]]:
    extra, params = "", []
    for clause, value in (
        (" AND r.entity = ?", scope.entity),
        (" AND e.run_id = ?", scope.run_id),
        (" AND e.recorded_at >= ?", scope.since),
    ):
        if value is not None:
            extra += clause
            params.append(value)
    return extra, params


def _ordered_candidates(
    conn: sqlite3.Connection, scope: RollbackScope, states: Sequence[str]
) -> list[tuple[str, int]]:
    """(stream, position of its first load in scope), newest first."""
    extra, params = _scope_sql(scope)
    marks = ",".join(f"'{s}'" for s in states)
    sql = _CANDIDATES.format(states=marks, extra=extra)
    return [(row[0], row[1]) for row in conn.execute(sql, params)]


def undo_candidates(
    conn: sqlite3.Connection, scope: RollbackScope, states: Sequence[str]
) -> list[str]:
    """The streams with writes of ours in scope still to undo, newest first."""
    return [sid for sid, _ in _ordered_candidates(conn, scope, states)]


def _created_in_scope(
    conn: sqlite3.Connection, scope: RollbackScope, stream_ids: list[str]
) -> list[str]:
    """The given streams whose create (since their last rollback) is in scope: the rollback
    deletes them from Twenty."""
    extra, params = _scope_sql(scope)
    sql = (
        "SELECT e.stream_id FROM events e JOIN record_state r ON r.stream_id = e.stream_id "
        "WHERE e.type = 'RecordLoaded' AND json_extract(e.data, '$.outcome') = 'created' "
        "AND e.stream_id IN (SELECT value FROM json_each(?)) AND e.position > COALESCE(("
        "SELECT MAX(x.position) FROM events x WHERE x.stream_id = e.stream_id "
        f"AND x.type = 'RecordRolledBack'), 0){extra}"
    )
    return [row[0] for row in conn.execute(sql, [json.dumps(stream_ids), *params])]


def dependents(conn: sqlite3.Connection, parents: list[str]) -> set[str]:
    """Every record pointing at one of `parents` (through the relations of its payloads),
    and at those, and so on: Twenty empties a relation to a deleted record, so a record of
    ours left pointing at a deleted parent would no longer be what we wrote."""
    found: set[str] = set()
    frontier = set(parents)
    sql = (
        "SELECT DISTINCT e.stream_id FROM events e, json_each(e.data, '$.refs') r "
        "WHERE e.type = 'RecordTransformed' AND r.value IN (SELECT value FROM json_each(?))"
    )
    while frontier:
        rows = conn.execute(sql, (json.dumps(sorted(frontier)),))
        frontier = {sid for (sid,) in rows} - found - set(parents)
        found |= frontier
    return found


def scope_of_rollback(conn: sqlite3.Connection, rollback_id: str) -> RollbackScope:
    """The scope a rollback run was started with (empty when unknown)."""
    sql = "SELECT data FROM events WHERE stream_id = ? AND type = 'RunStarted' LIMIT 1"
    row = conn.execute(sql, (f"run:{rollback_id}",)).fetchone()
    if row is None:
        return RollbackScope()
    started = decode(row[0])
    assert isinstance(started, RunStarted)
    options = started.options
    return RollbackScope(
        run_id=options.get("run_id"), entity=options.get("entity"), since=options.get("since")
    )


def plan_chunks(
    conn: sqlite3.Connection, scope: RollbackScope, *, chunk: int = 100
) -> Iterator[list[RollbackItem]]:
    """Chunks of records to undo: interrupted ones first, then newest first.

    Each chunk is read completely before it is yielded, so the caller may append events
    (which move these records on) between chunks.
    """
    interrupted = undo_candidates(conn, RollbackScope(entity=scope.entity), ["rolling_back"])
    fresh, wide = _with_dependents(conn, scope)
    scopes: dict[str, RollbackScope] = {}
    for ids, is_resume in ((interrupted, True), (fresh, False)):
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            items = _items(conn, part, scope, scopes, is_resume, wide)
            if items:
                yield items


def _with_dependents(conn: sqlite3.Connection, scope: RollbackScope) -> tuple[list[str], set[str]]:
    """The candidates in scope, with (for a scoped rollback) the records of ours that depend on
    one it deletes, all newest first; and the set of those dependents (undone whole)."""
    ordered = _ordered_candidates(conn, scope, IN_TWENTY)
    if scope == RollbackScope():
        return [sid for sid, _ in ordered], set()
    in_scope = {sid for sid, _ in ordered}
    deleted = _created_in_scope(conn, scope, sorted(in_scope))
    wide = dependents(conn, deleted) - in_scope if deleted else set()
    if wide:
        extra = [x for x in _ordered_candidates(conn, RollbackScope(), IN_TWENTY) if x[0] in wide]
        wide = {sid for sid, _ in extra}
        ordered = sorted([*ordered, *extra], key=lambda x: x[1], reverse=True)
    return [sid for sid, _ in ordered], wide


def _items(
    conn: sqlite3.Connection,
    stream_ids: list[str],
    scope: RollbackScope,
    scopes: dict[str, RollbackScope],
    is_resume: bool,
    wide: AbstractSet[str] = frozenset(),
) -> list[RollbackItem]:
    events = _stream_events(conn, stream_ids)
    drafts: list[tuple[RollbackItem, dict[str, str]]] = []
    for stream_id in stream_ids:
        trail = events.get(stream_id, [])
        own = RollbackScope() if stream_id in wide else scope
        if is_resume:
            rollback_id = _pending_rollback(trail)
            if rollback_id is not None:
                if rollback_id not in scopes:
                    scopes[rollback_id] = scope_of_rollback(conn, rollback_id)
                own = scopes[rollback_id]
        draft = _item(stream_id, trail, own)
        if draft is not None:
            drafts.append(draft)
    parents = {parent for _, refs in drafts for parent in refs.values()}
    states = _states(conn, {item.stream_id for item, _ in drafts} | parents)
    landed = landed_streams(conn, sorted(parents))
    return [
        msgspec.structs.replace(
            item,
            version=states.get(item.stream_id, (0, None, None))[0],
            written={**item.written, **_relations_now(refs, states, landed)},
        )
        for item, refs in drafts
    ]


def _relations_now(
    refs: dict[str, str],
    states: dict[str, tuple[int, str | None, str | None]],
    landed: set[str],
) -> dict[str, str | None]:
    """The relations a record should hold now, for the conflict check: its parent's Twenty
    id while the parent is ours and live. A relation to a parent that a rollback (or
    `--apply-deletes`) took away is left out: Twenty empties it when the parent goes, and
    that is our doing, not someone's edit."""
    now: dict[str, str | None] = {}
    for field, parent in refs.items():
        state = states.get(parent)
        if state is not None and parent in landed and state[2] != "deleted":
            now[field] = state[1]
    return now


Trail = list[tuple[int, str | None, str, Any]]  # (position, run_id, recorded_at, event)


def _stream_events(conn: sqlite3.Connection, stream_ids: list[str]) -> dict[str, Trail]:
    marks = ",".join("?" * len(stream_ids))
    sql = (
        "SELECT stream_id, position, run_id, recorded_at, data, version FROM events "
        f"WHERE stream_id IN ({marks}) AND type IN ('RecordTransformed', 'RecordLoaded', "
        "'RollbackRequested', 'RecordRolledBack', 'RecordReverted', 'RecordSoftDeleted', "
        "'RecordExtracted', 'RecordRemovedInSource', 'RollbackWithheld') "
        "ORDER BY position"
    )
    found: dict[str, Trail] = {}
    for stream_id, position, run_id, recorded_at, data, _ in conn.execute(sql, stream_ids):
        found.setdefault(stream_id, []).append((position, run_id, recorded_at, decode(data)))
    return found


def _pending_rollback(trail: Trail) -> str | None:
    for _, _, _, event in reversed(trail):
        if isinstance(event, RecordRolledBack | RecordReverted | RollbackWithheld):
            return None
        if isinstance(event, RollbackRequested):
            return event.rollback_id
    return None


def _in_scope(scope: RollbackScope, run_id: str | None, recorded_at: str) -> bool:
    if scope.run_id is not None and run_id != scope.run_id:
        return False
    return scope.since is None or recorded_at >= scope.since


def _item(
    stream_id: str, trail: Trail, scope: RollbackScope
) -> tuple[RollbackItem, dict[str, str]] | None:
    """The record's action from its events after its last rollback (with the refs of its last
    write, resolved by the caller), or None when nothing of it is in scope."""
    transform: RecordTransformed | None = None
    loads: list[tuple[int, RecordLoaded, RecordTransformed | None]] = []
    earliest: int | None = None  # the first load of ours still in Twenty, in scope or not
    pending: str | None = None
    soft_deleted = source_gone = False
    stamp = ""  # Twenty's updatedAt after our last write, while known
    for position, run_id, recorded_at, event in trail:
        if isinstance(event, RecordExtracted | RecordRemovedInSource):
            source_gone = isinstance(event, RecordRemovedInSource)
        soft_deleted = isinstance(event, RecordSoftDeleted) or (
            soft_deleted and not isinstance(event, RecordLoaded | RecordRolledBack)
        )
        if isinstance(event, RecordTransformed):
            transform = event
        elif isinstance(event, RecordRolledBack):
            loads, pending, earliest = [], None, None
        elif isinstance(event, RecordReverted):
            loads, pending = [x for x in loads if x[0] < event.undone_from], None
            stamp = ""  # our write of the before-image moved it
        elif isinstance(event, RollbackWithheld):
            pending = None
        elif isinstance(event, RollbackRequested):
            pending = event.action
        elif isinstance(event, RecordSoftDeleted):
            stamp = ""
        elif isinstance(event, RecordLoaded):
            stamp = event.updated_at
            earliest = position if earliest is None else earliest
            if _in_scope(scope, run_id, recorded_at):
                loads.append((position, event, transform))
    if not loads or loads[-1][2] is None:
        return None
    position, first, _ = loads[0]
    last_transform = loads[-1][2]
    assert last_transform is not None
    written = dict(last_transform.payload)
    changed: set[str] = set()
    for _, _, sent in loads:
        if sent is not None:
            changed.update(sent.payload, sent.refs)
    before = first.before_image or {}
    is_delete = first.outcome == "created"
    item = RollbackItem(
        stream_id=stream_id,
        version=0,
        object_plural=last_transform.target_plural,
        object_singular=last_transform.target_object,
        destination_id=loads[-1][1].destination_id,
        action="delete" if is_delete else "restore_before_image",
        restore={} if is_delete else {k: before[k] for k in sorted(changed) if k in before},
        soft_delete_after=first.was_soft_deleted and not is_delete,
        written=written,
        written_at=stamp,
        pending=pending,
        position=position,
        reverts=not is_delete and earliest is not None and earliest < position,
        soft_deleted_by_us=soft_deleted,
        source_gone=source_gone,
    )
    return item, dict(last_transform.refs)


def _states(
    conn: sqlite3.Connection, stream_ids: set[str]
) -> dict[str, tuple[int, str | None, str | None]]:
    """version, Twenty id and state of each given stream."""
    found = record_states(conn, sorted(stream_ids), "version, destination_id, state")
    return {sid: (row[0], row[1], row[2]) for sid, row in found.items()}

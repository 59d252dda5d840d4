"""Local stages: extract, transform and validate every source row, one chunk per transaction.

For each row the stream's last content hash decides: unchanged rows send nothing and record
nothing; new or changed rows get RecordExtracted and then, in the same batch, RecordSkipped,
RecordRejected, or RecordTransformed + RecordValidated. A chunk is one store transaction, so a
crash leaves no record half-way through the local stages; a rerun re-reads the export and
picks up exactly the rows whose hash the store does not have yet.

Relations (`refs`) are checked here against the parents' states: a parent that is absent
from the store or was rejected or skipped makes the child ORPHAN (rejected). Entities are
processed in load order, so parents are always settled before their children.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Container, Iterable, Iterator
from itertools import islice

import msgspec

from core.mapping import (
    Outcome,
    Reason,
    Rejected,
    Skipped,
    TransformContext,
    Transformed,
    transform,
)
from core.mapping.validation import SpecChecks, validate
from core.pipeline.seen_keys import SeenKeys
from core.ports.source import SourceRow
from core.schema_spec import SchemaSpec
from events.queries import record_states
from events.store import EventStore, NewEvent
from events.types import (
    Event,
    RecordExtracted,
    RecordRejected,
    RecordSkipped,
    RecordTransformed,
    RecordValidated,
    RejectionReason,
)

# States from which the local stages start again when the source row changed.
SETTLED_BAD = ("rejected", "skipped")
# A parent in one of these states will never be in Twenty: its child is ORPHAN. A parent that
# was rolled back is not one of them: the same run (or the next) loads it again.
NO_PARENT = (None, "rejected", "skipped")
# States a row is extracted again from even when its content did not change: half-way
# through the local stages, removed by a later full export and back now, or rolled back
# (its record is no longer in Twenty: migrate it again).
EXTRACT_AGAIN = ("extracted", "transformed", "removed", "rolled_back")


class LocalSummary(msgspec.Struct, kw_only=True):
    """What the local stages did in one pass (per entity)."""

    read: int = 0
    unchanged: int = 0
    extracted: int = 0
    validated: int = 0
    rejected: int = 0
    skipped: int = 0


def _chunks(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _stream_of(row: SourceRow) -> str:
    # A row whose key cannot be read still gets a stream, named by its place in the file,
    # so that it is rejected on record rather than dropped.
    return row.stream_id or f"{row.entity}:@{row.file}:{row.line}"


def _known(conn: sqlite3.Connection, stream_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    found = record_states(conn, stream_ids, "state, content_hash")
    return {sid: (row[0], row[1]) for sid, row in found.items()}


class LocalStage:
    """Runs the local stages for one entity's rows into the store."""

    def __init__(
        self,
        store: EventStore,
        context: TransformContext,
        spec: SchemaSpec,
        *,
        run_id: str,
        mapping_hash: str,
        chunk_size: int = 2000,
        should_stop: Callable[[], bool] = lambda: False,
        refresh: Container[str] = frozenset(),
    ) -> None:
        # `refresh`: streams to transform again although their row is unchanged (a delta:
        # owners of changed custom fields, referrals, procedure lines and claims).
        self._refresh = refresh
        self._store = store
        self._context = context
        self._checks = SpecChecks(spec)
        self._run_id = run_id
        self._mapping_hash = mapping_hash
        self._chunk_size = chunk_size
        self._should_stop = should_stop

    def run(
        self, rows: Iterable[SourceRow], on_chunk: Callable[[int], None] = lambda n: None
    ) -> LocalSummary:
        """Process every row; returns the counts. Stops between chunks when asked."""
        summary = LocalSummary()
        # Keys met so far in this pass over the entity's rows: the first row with a key owns
        # its stream; a later row with the same key is rejected on a stream of its own
        # (named by its line), so the duplicate never overwrites the first one, in any run.
        # One entry per row of the entity, so they live in a scratch database, not in memory.
        seen = SeenKeys()
        try:
            for chunk in _chunks(rows, self._chunk_size):
                if self._should_stop():
                    break
                self._process(chunk, summary, seen)
                on_chunk(len(chunk))
        finally:
            seen.close()
        return summary

    def _process(self, chunk: list[SourceRow], summary: LocalSummary, seen: SeenKeys) -> None:
        firsts = seen.first_seen([row.stream_id for row in chunk])
        streams = [_own_stream(row, first) for row, first in zip(chunk, firsts, strict=True)]
        known = _known(self._store.connection, [sid for sid, _ in streams])
        events: list[NewEvent] = []
        outcomes: list[tuple[str, SourceRow, Outcome]] = []
        for (stream_id, is_duplicate), row in zip(streams, chunk, strict=True):
            summary.read += 1
            state, content_hash = known.get(stream_id, (None, None))
            if (
                content_hash == row.content_hash
                and state not in EXTRACT_AGAIN
                and stream_id not in self._refresh
            ):
                summary.unchanged += 1
                continue
            if is_duplicate:
                message = "the same key appears on an earlier line; that row is migrated"
                duplicate = Reason("", "DUPLICATE_KEY", message)
                outcomes.append((stream_id, row, Rejected(reasons=[duplicate])))
                continue
            outcome = validate(transform(row, self._context), self._checks)
            outcomes.append((stream_id, row, outcome))
        parents = self._parent_states(outcomes)
        # Records transformed in this very chunk count as present for their children (a task
        # and its targets, a patient and a guarantor further down the same chunk).
        for stream_id, _, outcome in outcomes:
            if isinstance(outcome, Transformed):
                parents[stream_id] = "validated"
        for stream_id, row, outcome in outcomes:
            events.extend(self._events(stream_id, row, outcome, parents, summary))
        if events:
            self._store.append(events, run_id=self._run_id)

    def _parent_states(
        self, outcomes: list[tuple[str, SourceRow, Outcome]]
    ) -> dict[str, str | None]:
        wanted = {
            ref.stream_id
            for _, _, outcome in outcomes
            if isinstance(outcome, Transformed)
            for item in (outcome, *outcome.children)
            for ref in item.refs.values()
        }
        known = _known(self._store.connection, sorted(wanted))
        return {sid: known.get(sid, (None, None))[0] for sid in wanted}

    def _events(
        self,
        stream_id: str,
        row: SourceRow,
        outcome: Outcome,
        parents: dict[str, str | None],
        summary: LocalSummary,
    ) -> list[NewEvent]:
        summary.extracted += 1
        extracted = RecordExtracted(
            source_file=row.file,
            line=row.line,
            source_key=row.key or f"@{row.file}:{row.line}",
            content_hash=row.content_hash,
            row=dict(row.values),
        )
        out = [NewEvent(stream_id, extracted)]
        if isinstance(outcome, Skipped):
            summary.skipped += 1
            return [
                *out,
                NewEvent(stream_id, RecordSkipped(code=outcome.code, reason=outcome.reason)),
            ]
        if isinstance(outcome, Rejected):
            summary.rejected += 1
            return [*out, NewEvent(stream_id, _rejected(outcome.reasons))]
        orphans = _orphans(outcome, parents)
        if orphans:
            summary.rejected += 1
            return [*out, NewEvent(stream_id, _rejected(orphans))]
        summary.validated += 1
        out += self._transformed(stream_id, outcome, parents)
        for child in outcome.children:
            child_stream = child.stream_id
            child_key = child_stream.partition(":")[2]
            child_extracted = msgspec.structs.replace(extracted, source_key=child_key, row={})
            out.append(NewEvent(child_stream, child_extracted))
            out += self._transformed(child_stream, child, parents)
        return out

    def _transformed(
        self, stream_id: str, outcome: Transformed, parents: dict[str, str | None]
    ) -> list[NewEvent]:
        # Only written relations travel on; an optional one whose parent will never exist
        # is left empty (check-only refs were settled by the orphan check).
        refs = {
            field: ref.stream_id
            for field, ref in outcome.refs.items()
            if ref.write and (ref.required or parents.get(ref.stream_id) not in NO_PARENT)
        }
        event: Event = RecordTransformed(
            target_object=outcome.target_object,
            target_plural=outcome.target_plural,
            payload=outcome.payload,
            refs=refs,
            mapping_hash=self._mapping_hash,
        )
        return [
            NewEvent(stream_id, event),
            NewEvent(stream_id, RecordValidated(warnings=list(outcome.warnings))),
        ]


def _own_stream(row: SourceRow, is_first: bool) -> tuple[str, bool]:
    """The row's stream, and whether its key was already taken by an earlier row."""
    if row.stream_id is None:
        return _stream_of(row), False
    if not is_first:
        return f"{row.entity}:@{row.file}:{row.line}", True
    return row.stream_id, False


def _orphans(outcome: Transformed, parents: dict[str, str | None]) -> list[Reason]:
    reasons = []
    for item in (outcome, *outcome.children):
        for field, ref in item.refs.items():
            if ref.required and parents.get(ref.stream_id) in NO_PARENT:
                state = parents.get(ref.stream_id) or "absent"
                message = f"the record it belongs to ({ref.stream_id}) is {state}"
                reasons.append(Reason(field, "ORPHAN", message))
    return reasons


def _rejected(reasons: Iterable[Reason]) -> RecordRejected:
    return RecordRejected(
        reasons=[RejectionReason(field=r.field, code=r.code, message=r.message) for r in reasons]
    )

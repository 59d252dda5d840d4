"""The sample's field-level diff: per record and field, source value, value sent, value read back.

After the sample ran, every record of the sample is read back from Twenty by id (the same
comparison as `ferry verify`) and each field sent becomes one row: the source value (the
export columns that feed the field, from the mapping), the value sent, the value Twenty holds,
and whether the last two agree. Records that were not sent (rejected, skipped, blocked,
failed) get one row saying so, with their codes, so that nothing in the sample is silent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import msgspec

from core.pipeline.verify import MIGRATED, MigratedRow, RecordCheck, check_records
from core.ports.destination import Destination
from events.queries import latest_events, record_states
from events.types import RecordExtracted

__all__ = ["DiffRow", "FieldSources", "SampleDiff", "build_sample_diff", "field_sources"]

# entity -> target field path (`name.firstName`, `emails`) -> the source columns feeding it
FieldSources = Mapping[str, Mapping[str, Sequence[str]]]
RECORD_FIELD = "(record)"


class DiffRow(msgspec.Struct, frozen=True, kw_only=True):
    """One field of one sample record (or one row for a record that was not sent)."""

    stream_id: str
    object_name: str
    field: str
    source: str = ""
    sent: Any = None
    read: Any = None
    agrees: bool | None = None  # None: nothing was sent to compare
    note: str = ""


class SampleDiff(msgspec.Struct, kw_only=True):
    """Every row of the diff and its counts."""

    run_id: str
    rows: list[DiffRow]

    @property
    def records(self) -> int:
        """Records in the diff."""
        return len({row.stream_id for row in self.rows})

    @property
    def disagreements(self) -> int:
        """Fields (or records) that did not read back as sent."""
        return sum(1 for row in self.rows if row.agrees is False)


class _ColumnLike(Protocol):
    column: str
    target: str
    transform: str


class _FileLike(Protocol):
    @property
    def columns(self) -> Sequence[_ColumnLike]:
        """The file's column mappings."""
        ...


class _MappingLike(Protocol):
    @property
    def files(self) -> Mapping[str, _FileLike]:
        """Entity -> its file mapping."""
        ...


def field_sources(mapping: _MappingLike) -> dict[str, dict[str, list[str]]]:
    """entity -> target field -> source columns, from a `core.mapping.Mapping`."""
    out: dict[str, dict[str, list[str]]] = {}
    for entity, file in mapping.files.items():
        targets = out.setdefault(entity, {})
        for column in file.columns:
            if column.column and column.target and column.transform != "ignore":
                targets.setdefault(column.target, []).append(column.column)
    return out


def _source_value(path: str, row: Mapping[str, str | None], targets: Mapping[str, Any]) -> str:
    parts = path.split(".")
    for end in range(len(parts), 0, -1):  # `emails.primaryEmail`, then `emails`
        columns = targets.get(".".join(parts[:end]))
        if columns:
            return " | ".join(v for c in columns if (v := row.get(c)))
    return ""


def _extracted_rows(
    conn: sqlite3.Connection, stream_ids: Sequence[str]
) -> dict[str, dict[str, str | None]]:
    found = latest_events(conn, stream_ids, "RecordExtracted")
    return {sid: e.row for sid, e in found.items() if isinstance(e, RecordExtracted)}


def _states(conn: sqlite3.Connection, stream_ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    return record_states(conn, stream_ids, "state, version, destination_id, last_error_code")


def _stream_ids(keys: Mapping[str, Iterable[str]]) -> list[str]:
    return sorted(f"{entity}:{key}" for entity, chosen in keys.items() for key in chosen)


async def build_sample_diff(
    conn: sqlite3.Connection,
    destination: Destination,
    keys: Mapping[str, Iterable[str]],
    sources: FieldSources,
    *,
    run_id: str = "",
    page_size: int = 200,
    on_page: Callable[[int], None] = lambda n: None,
) -> SampleDiff:
    """Read the sample's records back and lay out every field sent, one row each.

    `on_page(n)`: n more records were read back (for a progress bar)."""
    streams = _stream_ids(keys)
    states = _states(conn, streams)
    rows: list[DiffRow] = []
    for start in range(0, len(streams), page_size):
        page = streams[start : start + page_size]
        source_rows = _extracted_rows(conn, page)
        migrated = [
            MigratedRow(sid, int(states[sid][1]), str(states[sid][2]))
            for sid in page
            if sid in states and states[sid][0] in MIGRATED and states[sid][2]
        ]
        checks = {c.stream_id: c for c in await check_records(conn, destination, migrated)}
        for stream_id in page:
            entity = stream_id.partition(":")[0]
            targets = sources.get(entity, {})
            source_row = source_rows.get(stream_id, {})
            check = checks.get(stream_id)
            if check is None:
                rows.append(_not_sent(stream_id, states.get(stream_id)))
            else:
                rows += _field_rows(check, source_row, targets)
        on_page(len(page))
    return SampleDiff(run_id=run_id, rows=rows)


def _field_rows(
    check: RecordCheck, source_row: Mapping[str, str | None], targets: Mapping[str, Any]
) -> list[DiffRow]:
    base = {"stream_id": check.stream_id, "object_name": check.object_plural}
    if not check.found:
        note = "missing: not found in Twenty by id"
        return [DiffRow(**base, field=RECORD_FIELD, agrees=False, note=note)]
    rows = [
        DiffRow(
            **base,
            field=f.path,
            source=_source_value(f.path, source_row, targets),
            sent=f.sent,
            read=f.read,
            agrees=f.agrees,
        )
        for f in check.fields
    ]
    if check.deleted_at:
        deleted = DiffRow(**base, field="deletedAt", read=check.deleted_at, agrees=False)
        rows.append(msgspec.structs.replace(deleted, note="soft-deleted in Twenty"))
    return rows


def _not_sent(stream_id: str, state: tuple[Any, ...] | None) -> DiffRow:
    if state is None:
        note = "not in the store: the sample run did not reach it"
    else:
        code = f" ({state[3]})" if state[3] else ""
        note = f"not sent: {state[0]}{code}"
    return DiffRow(stream_id=stream_id, object_name="", field=RECORD_FIELD, note=note)

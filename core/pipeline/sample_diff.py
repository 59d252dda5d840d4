"""The sample's field-level diff: per record and field, source value, value sent, value read back.

After the sample ran, every record of the sample is read back from Twenty by id (the same
comparison as `ferry verify`) and each field sent becomes one row: the source value (the
export columns that feed the field, from the mapping, or the `custom_fields.csv` rows a value
was derived from, with their line), the transform that made the value sent, the value sent,
the value Twenty holds, whether the transform changed the value (`transformed`) and whether
sent and read back agree. Records that were not sent (rejected, skipped, blocked, failed) get
one row saying so, with their codes, so that nothing in the sample is silent.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import msgspec

from core.pipeline.verify import MIGRATED, MigratedRow, RecordCheck, check_records
from core.ports.destination import Destination
from events.queries import latest_events, record_states
from events.types import RecordExtracted

__all__ = [
    "DiffRow",
    "FieldSources",
    "FieldTransforms",
    "SampleDiff",
    "build_sample_diff",
    "field_sources",
    "field_transforms",
]

# entity -> target field path (`name.firstName`, `emails`) -> the source columns feeding it
FieldSources = Mapping[str, Mapping[str, Sequence[str]]]
# entity -> target field path -> the transform(s) that make it (`date`, `select`)
FieldTransforms = Mapping[str, Mapping[str, str]]
RECORD_FIELD = "(record)"
CUSTOM_TRANSFORM = "custom field"
# Fields derived from custom-field rows (core.mapping.entities_*): the field keys feeding them
# (a key ending in `_` is a prefix). Other custom values become lines of `dentalExecExtra`.
CUSTOM_TARGETS: dict[str, tuple[str, ...]] = {
    "hipaaAcknowledged": ("HIPAA_NPP_ACK",),
    "hipaaSignedDate": ("HIPAA_NPP_SIGNED",),
    "toothChart": ("TOOTH_CHART",),
    "medicalAlerts": ("MA_",),
    "npi": ("NPI_TYPE2",),
    "x12Category": ("CLAIM_STATUS_CODE",),
}
EXTRA_FIELD = "dentalExecExtra"


class _CustomRowLike(Protocol):
    @property
    def file(self) -> str:
        """The custom-fields file."""
        ...

    @property
    def line(self) -> int:
        """Its line."""
        ...

    @property
    def field_key(self) -> str:
        """The custom field's key (`HIPAA_NPP_ACK`)."""
        ...

    @property
    def value(self) -> str:
        """The value as exported."""
        ...


CustomRows = Mapping[str, Sequence[_CustomRowLike]]


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
    transform: str = ""
    transformed: bool = False  # the value sent is not the source text as it stands
    patient: str = ""  # the stream id of the patient the record belongs to, if any


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


def field_transforms(mapping: _MappingLike) -> dict[str, dict[str, str]]:
    """entity -> target field -> transform name(s), from a `core.mapping.Mapping`."""
    out: dict[str, dict[str, str]] = {}
    for entity, file in mapping.files.items():
        targets = out.setdefault(entity, {})
        for column in file.columns:
            if column.column and column.target and column.transform != "ignore":
                names = targets.get(column.target, "").split(" + ")
                if column.transform not in names:
                    targets[column.target] = " + ".join(n for n in (*names, column.transform) if n)
    return out


def _lookup(path: str, table: Mapping[str, Any]) -> Any:
    parts = path.split(".")
    for end in range(len(parts), 0, -1):  # `emails.primaryEmail`, then `emails`
        found = table.get(".".join(parts[:end]))
        if found:
            return found
    return None


def _source_value(path: str, row: Mapping[str, str | None], targets: Mapping[str, Any]) -> str:
    columns = _lookup(path, targets)
    return " | ".join(v for c in columns if (v := row.get(c))) if columns else ""


def _feeds(target: str, key: str) -> bool:
    wanted = CUSTOM_TARGETS.get(target)
    if wanted is None:
        known = (k for keys in CUSTOM_TARGETS.values() for k in keys)
        return target == EXTRA_FIELD and not any(_matches(key, k) for k in known)
    return any(_matches(key, k) for k in wanted)


def _matches(key: str, wanted: str) -> bool:
    return key.startswith(wanted) if wanted.endswith("_") else key == wanted


def _custom_source(path: str, rows: Sequence[_CustomRowLike]) -> str:
    """The custom-field rows a derived field comes from: `file line N: KEY=value`."""
    target = path.split(".")[0]
    found = (r for r in rows if _feeds(target, r.field_key))
    return " | ".join(f"{r.file} line {r.line}: {r.field_key}={r.value}" for r in found)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


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
    transforms: FieldTransforms | None = None,
    custom: CustomRows | None = None,
    patients: Mapping[str, str] | None = None,
    run_id: str = "",
    page_size: int = 200,
    on_page: Callable[[int], None] = lambda n: None,
) -> SampleDiff:
    """Read the sample's records back and lay out every field sent, one row each.

    `transforms`: the transform of each field (named in the diff); `custom`: the custom-field
    rows of each record, by stream id (the source of the values derived from them);
    `patients`: the patient's stream id of each record, by stream id: the rows are grouped
    per patient (the patient first, then its records), records of no patient first.
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
            origin = _Origin(
                row=source_rows.get(stream_id, {}),
                columns=sources.get(entity, {}),
                transforms=(transforms or {}).get(entity, {}),
                custom=(custom or {}).get(stream_id, ()),
            )
            check = checks.get(stream_id)
            if check is None:
                found = [_not_sent(stream_id, states.get(stream_id))]
            else:
                found = _field_rows(check, origin)
            if patient := (patients or {}).get(stream_id, ""):
                found = [msgspec.structs.replace(r, patient=patient) for r in found]
            rows += found
        on_page(len(page))
    rows.sort(key=lambda r: (r.patient, r.stream_id != r.patient, r.stream_id))  # stable
    return SampleDiff(run_id=run_id, rows=rows)


class _Origin(msgspec.Struct, frozen=True, kw_only=True):
    """Where a record's values come from: its source row, the mapping, its custom fields."""

    row: Mapping[str, str | None]
    columns: Mapping[str, Any]
    transforms: Mapping[str, str]
    custom: Sequence[_CustomRowLike]

    def source(self, path: str) -> tuple[str, str]:
        """The source text of a field and the transform that made the value sent."""
        text = _source_value(path, self.row, self.columns)
        transform = _lookup(path, self.transforms) or ""
        derived = _custom_source(path, self.custom)
        if derived:
            text = " | ".join(t for t in (text, derived) if t)
            transform = " + ".join(t for t in (transform, CUSTOM_TRANSFORM) if t)
        return text, transform


def _field_rows(check: RecordCheck, origin: _Origin) -> list[DiffRow]:
    sid, plural = check.stream_id, check.object_plural
    if not check.found:
        note = "missing: not found in Twenty by id"
        return [
            DiffRow(stream_id=sid, object_name=plural, field=RECORD_FIELD, agrees=False, note=note)
        ]
    rows = []
    for f in check.fields:
        source, transform = origin.source(f.path)
        rows.append(
            DiffRow(
                stream_id=sid,
                object_name=plural,
                field=f.path,
                source=source,
                sent=f.sent,
                read=f.read,
                agrees=f.agrees,
                transform=transform,
                transformed=_plain(f.sent) != source,
            )
        )
    if check.deleted_at:
        note = "soft-deleted in Twenty"
        deleted = DiffRow(stream_id=sid, object_name=plural, field="deletedAt", note=note)
        rows.append(msgspec.structs.replace(deleted, read=check.deleted_at, agrees=False))
    return rows


def _not_sent(stream_id: str, state: tuple[Any, ...] | None) -> DiffRow:
    if state is None:
        note = "not in the store: the sample run did not reach it"
    else:
        code = f" ({state[3]})" if state[3] else ""
        note = f"not sent: {state[0]}{code}"
    return DiffRow(stream_id=stream_id, object_name="", field=RECORD_FIELD, note=note)

"""`ferry export twenty-csv`: the migration as CSV files for Twenty's own import screen.

A fallback for an admin who imports through Settings rather than the API. The rows are the
payloads the run sends (the latest RecordTransformed of every record that passed validation,
rejected and skipped ones left out), with each record's Twenty id in `Id`: the deterministic
id the API run uses (or the id of the record it was linked to), so a later `ferry run`,
`ferry verify` or `ferry rollback` finds the imported records by id. A relation is the
parent's id in `<relation label> / Id`, which the import screen connects by id.

One object per file, at most 10,000 rows a file (more become numbered parts), in the order
Twenty needs (parents first, the order of the API run); a README in the folder lists them.
Primary emails and domains are unique within an object's files: a repeated one (compared as
Twenty does, case-insensitively) is moved to the record's additional emails or secondary
links, and the README counts how many. Every file is owner-only.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import msgspec

from core.errors import ConfigError
from core.identity import destination_id
from core.mapping import LOAD_ORDER, TARGET_LOAD_ORDER
from core.reports.tabular import csv_line, defused
from core.reports.twenty_csv_columns import columns_for, render
from core.schema_spec import SchemaSpec
from events.private_files import open_private, private_dir, write_private
from events.queries import latest_events, record_states
from events.types import RecordTransformed

__all__ = ["MAX_ROWS", "ObjectFiles", "TwentyCsvExport", "export_twenty_csv"]

MAX_ROWS = 10_000  # the import screen's limit per file
# Records that passed validation and are (or will be) in Twenty as ours.
_STATES = ("validated", "loading", "loaded", "load_failed", "verified", "verify_failed")
# Objects the import screen does not offer (system objects, morph relations).
_NOT_IMPORTABLE = {"taskTarget": "task links to patients", "noteTarget": "note links to patients"}
# Unique composite values, and where a repeated one is kept instead.
_UNIQUE = {"emails": ("primaryEmail", "additionalEmails"), "domainName": ("primaryLinkUrl", "")}
_OURS = re.compile(r"^\d{2}-[A-Za-z]+(-part\d+)?\.csv$")


class ObjectFiles(msgspec.Struct, kw_only=True):
    """One Twenty object's files, in import order."""

    object_name: str
    plural: str
    files: list[str] = msgspec.field(default_factory=list)
    file_rows: list[int] = msgspec.field(default_factory=list)
    rows: int = 0
    moved_duplicates: int = 0
    not_importable_fields: list[str] = msgspec.field(default_factory=list)


class TwentyCsvExport(msgspec.Struct, kw_only=True):
    """What was written: the folder, the objects in import order, what was left out."""

    out_dir: Path
    objects: list[ObjectFiles] = msgspec.field(default_factory=list)
    left_out: dict[str, int] = msgspec.field(default_factory=dict)
    defused_cells: int = 0

    @property
    def files(self) -> list[str]:
        """Every CSV file name, in import order."""
        return [name for obj in self.objects for name in obj.files]


class _Record(msgspec.Struct):
    id: str
    payload: dict[str, Any]


def _entity_range(entity: str) -> tuple[str, str]:
    return f"{entity}:", f"{entity};"


def _records(conn: sqlite3.Connection, entity: str, namespace: uuid.UUID) -> Iterator[_Record]:
    """The entity's exportable records in stream order, relations resolved to Twenty ids."""
    low, high = _entity_range(entity)
    marks = ",".join("?" for _ in _STATES)
    after = ""
    while True:
        rows = conn.execute(
            "SELECT stream_id, destination_id FROM record_state WHERE stream_id >= ? "
            f"AND stream_id < ? AND stream_id > ? AND state IN ({marks}) "
            "ORDER BY stream_id LIMIT 500",
            (low, high, after, *_STATES),
        ).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        found = latest_events(conn, [r[0] for r in rows], "RecordTransformed")
        transforms = {s: e for s, e in found.items() if isinstance(e, RecordTransformed)}
        parents = {p for t in transforms.values() for p in t.refs.values()}
        parent_ids = record_states(conn, sorted(parents), "destination_id")
        for stream_id, recorded in rows:
            transform = transforms.get(stream_id)
            if transform is None:
                continue
            payload = dict(transform.payload)
            for field, parent in transform.refs.items():
                payload[field] = _twenty_id(parent, parent_ids.get(parent, (None,))[0], namespace)
            yield _Record(_twenty_id(stream_id, recorded, namespace), payload)


def _twenty_id(stream_id: str, recorded: str | None, namespace: uuid.UUID) -> str:
    """The id recorded for the record in Twenty, else the deterministic id the run uses."""
    if recorded:
        return recorded
    entity, _, key = stream_id.partition(":")
    return destination_id(namespace, entity, key)


def _targets(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(entity, object, plural) of every entity with a transformed record, parents first."""
    entities = [r[0] for r in conn.execute("SELECT DISTINCT entity FROM record_state")]
    order = {e: i for i, e in enumerate((*LOAD_ORDER, *TARGET_LOAD_ORDER))}
    entities.sort(key=lambda e: (order.get(e, len(order)), e))
    out = []
    for entity in entities:
        low, high = _entity_range(entity)
        row = conn.execute(
            "SELECT data FROM events WHERE stream_id >= ? AND stream_id < ? "
            "AND type = 'RecordTransformed' LIMIT 1",
            (low, high),
        ).fetchone()
        if row is not None:
            event = msgspec.json.decode(row[0], type=RecordTransformed)
            out.append((entity, event.target_object, event.target_plural))
    return out


def export_twenty_csv(
    conn: sqlite3.Connection,
    spec: SchemaSpec,
    namespace: uuid.UUID,
    out_dir: Path,
    *,
    max_rows: int = MAX_ROWS,
) -> TwentyCsvExport:
    """Write one CSV per Twenty object (split at `max_rows`) and a README into `out_dir`.

    Files this command wrote before into the folder are replaced; nothing else is touched.

    Raises:
        ConfigError: the folder cannot be written.
    """
    try:
        return _export(conn, spec, namespace, out_dir, max_rows)
    except OSError as error:
        raise ConfigError(
            f"cannot write the CSV files in {out_dir} ({error.strerror or error}); choose a "
            "folder you can write to with --out"
        ) from error


def _export(
    conn: sqlite3.Connection, spec: SchemaSpec, namespace: uuid.UUID, out_dir: Path, max_rows: int
) -> TwentyCsvExport:
    private_dir(out_dir)
    for stale in out_dir.iterdir():
        if _OURS.match(stale.name) or stale.name == "README.md":
            stale.unlink()
    result = TwentyCsvExport(out_dir=out_dir)
    groups: dict[str, tuple[str, list[str]]] = {}
    for entity, object_name, plural in _targets(conn):
        groups.setdefault(object_name, (plural, []))[1].append(entity)
    index = 0
    for object_name, (plural, entities) in groups.items():
        if object_name in _NOT_IMPORTABLE:
            count = sum(1 for e in entities for _ in _records(conn, e, namespace))
            result.left_out[object_name] = count
            continue
        files = ObjectFiles(object_name=object_name, plural=plural)
        result.defused_cells += _write_object(conn, spec, namespace, entities, files, (
            out_dir, index + 1, max_rows))  # fmt: skip
        if files.rows:
            index += 1
            result.objects.append(files)
    write_private(out_dir / "README.md", render_readme(result))
    return result


def _write_object(
    conn: sqlite3.Connection,
    spec: SchemaSpec,
    namespace: uuid.UUID,
    entities: list[str],
    files: ObjectFiles,
    where: tuple[Path, int, int],
) -> int:
    """Write one object's files; return how many cells were defused."""
    out_dir, index, max_rows = where
    fields: set[str] = set()
    total = 0
    for entity in entities:
        for record in _records(conn, entity, namespace):
            fields.update(record.payload)
            total += 1
    columns, files.not_importable_fields = columns_for(spec, files.object_name, fields)
    parts = max(1, -(-total // max_rows))
    seen: dict[str, set[str]] = {field: set() for field in _UNIQUE}
    out: TextIO | None = None
    defused_cells = 0
    try:
        for number, record in enumerate(_all(conn, entities, namespace)):
            if number % max_rows == 0:
                if out is not None:
                    out.close()
                part = f"-part{number // max_rows + 1}" if parts > 1 else ""
                name = f"{index:02d}-{files.plural}{part}.csv"
                files.files.append(name)
                files.file_rows.append(0)
                out = open_private(out_dir / name)
                out.write(csv_line([c.header for c in columns]))
            files.moved_duplicates += _unique(record.payload, seen)
            cells = []
            for column in columns:
                value = record.id if column.field == "id" else record.payload.get(column.field)
                text = render(column, value)
                defused_cells += defused(text) != text  # csv_line defuses it as it writes
                cells.append(text)
            assert out is not None
            out.write(csv_line(cells))
            files.rows += 1
            files.file_rows[-1] += 1
    finally:
        if out is not None:
            out.close()
    return defused_cells


def _all(conn: sqlite3.Connection, entities: list[str], namespace: uuid.UUID) -> Iterator[_Record]:
    for entity in entities:
        yield from _records(conn, entity, namespace)


def _unique(payload: dict[str, Any], seen: dict[str, set[str]]) -> int:
    """Move a primary email or domain already used in this object's files; 1 when moved."""
    moved = 0
    for field, (primary, extra) in _UNIQUE.items():
        value = payload.get(field)
        if not isinstance(value, dict) or not value.get(primary):
            continue
        key = str(value[primary]).strip().lower()
        if key not in seen[field]:
            seen[field].add(key)
            continue
        changed = dict(value)
        changed[primary] = ""
        if extra:
            changed[extra] = [*(value.get(extra) or []), value[primary]]
        else:
            changed["secondaryLinks"] = [
                *(value.get("secondaryLinks") or []),
                {"url": value[primary], "label": ""},
            ]
        payload[field] = changed
        moved = 1
    return moved


def render_readme(result: TwentyCsvExport) -> str:
    """The folder's README: the files in import order and how to import them."""
    lines = [
        "# Import into Twenty with its import screen",
        "",
        "Import the files in this order (parents before the records that point to them), each",
        "into its object: open the object, then Import records, upload the file, check that",
        "every column is matched, and confirm.",
        "",
        "| Order | File | Twenty object | Rows |",
        "|---|---|---|---|",
    ]
    order = 0
    for obj in result.objects:
        for name, rows in zip(obj.files, obj.file_rows, strict=True):
            order += 1
            lines.append(f"| {order} | {name} | {obj.object_name} | {rows:,} |")
    lines += [
        "",
        "- `Id` is the record's Twenty id: the one `ferry run` would use, so a later run,",
        "  verification or rollback recognises the imported records.",
        "- A relation column (`Patient / Id`, `Treatment / Id`, ...) holds the parent's id;",
        "  the import screen connects the record to that parent, which must be imported first.",
        "- Select values are Twenty's API values, booleans TRUE/FALSE, lists JSON arrays,",
        "  amounts in currency units.",
        "- A cell starting with = + - @ (other than a plain number) carries a leading",
        f"  apostrophe so no spreadsheet runs it as a formula: {result.defused_cells} cell(s).",
    ]
    for obj in result.objects:
        if obj.moved_duplicates:
            lines.append(
                f"- {obj.object_name}: {obj.moved_duplicates} record(s) repeat a primary email "
                "or domain of an earlier row; it was moved to their additional emails or links."
            )
        if obj.not_importable_fields:
            fields = ", ".join(obj.not_importable_fields)
            lines.append(
                f"- {obj.object_name}: not importable by the import screen, left out: {fields}."
            )
    for object_name, count in result.left_out.items():
        lines.append(
            f"- {count} {object_name} record(s) ({_NOT_IMPORTABLE[object_name]}) are not "
            "importable by the import screen and were not written; `ferry run` creates them."
        )
    return "\n".join(lines) + "\n"

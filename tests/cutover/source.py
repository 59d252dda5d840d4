"""The source truth of the cutover model: what Dental-Exec holds now, as plain CSV rows.

The generated full export is read once with the `csv` module (not Ferry's reader); every
change set the state machine draws is applied here, then written out either as a delta bundle
(the changed, new and soft-deleted rows only, `Modified Since` set) or as a later full export
(every row of the truth, so the rows it lacks are hard deletes). The expected content of
Twenty is derived from these rows by the small rules in `tests/cutover/expected.py`.

Only the export *format* (file names, header aliases, keys, foreign keys: the specification
data in `core.export_format`) is borrowed from Ferry; nothing of its reader, mapping or store.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from core.export_format import FILES, FileSpec, header_key

EXPORT_FORMAT = "%m/%d/%Y %I:%M:%S %p"
DELETED_YES = {"y", "yes", "true", "1"}
# The parents a row needs in Twenty (else the loader refuses it as ORPHAN); optional links
# (a payment's plan, a patient's guarantor) are left out on purpose.
REQUIRED_PARENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "appointment": (("patient_id", "patient"),),
    "treatment_plan": (("patient_id", "patient"),),
    "procedure": (("patient_id", "patient"), ("plan_id", "treatment_plan")),
    "insurance_policy": (("patient_id", "patient"),),
    "claim": (("patient_id", "patient"), ("policy_id", "insurance_policy")),
    "payment": (("patient_id", "patient"),),
    "recall": (("patient_id", "patient"),),
    "attachment": (("patient_id", "patient"),),
    "communication": (("patient_id", "patient"),),
    "referral": (("patient_id", "patient"),),
}


def _canonical(spec: FileSpec, cell: str) -> str:
    wanted = header_key(cell)
    for column in spec.columns:
        if wanted in {header_key(column.label), *(header_key(a) for a in column.aliases)}:
            return column.name
    return ""


def _number(text: str) -> str | None:
    text = text.strip()
    return str(int(text)) if text.isdecimal() else None


@dataclass
class Table:
    """One export file: its header cells, data rows by key (in file order) and trailing lines."""

    spec: FileSpec
    name: str
    encoding: str
    header: list[str]
    names: list[str]
    rows: dict[str, list[str]] = field(default_factory=dict)
    trailer: list[list[str]] = field(default_factory=list)

    @property
    def entity(self) -> str:
        return self.spec.entity

    def key_of(self, cells: list[str]) -> str | None:
        """The row's key as Ferry's stream ids spell it (`10482`, composite keys joined)."""
        parts = []
        for pk in self.spec.pk:
            index = self.names.index(pk)
            value = cells[index] if index < len(cells) else ""
            number = _number(value)
            parts.append(number if number is not None else value.strip())
            if not parts[-1] or (len(self.spec.pk) == 1 and number is None):
                return None
        return ":".join(parts)

    def get(self, key: str, column: str) -> str:
        cells = self.rows[key]
        index = self.names.index(column)
        return cells[index] if index < len(cells) else ""

    def has(self, column: str) -> bool:
        return column in self.names

    def set(self, key: str, column: str, value: str) -> None:
        index = self.names.index(column)
        self.rows[key][index] = value

    def is_deleted(self, key: str) -> bool:
        """Deleted in Dental-Exec but still exported (`Deleted = Y`, patient `Status = Deleted`)."""
        if self.entity == "patient":
            return self.get(key, "status").strip().lower() == "deleted"
        column = self.spec.deleted_column
        return column is not None and self.get(key, column).strip().lower() in DELETED_YES

    def text(self, rows: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.header)
        writer.writerows(rows)
        for line in self.trailer:
            if line and line[0].startswith("Total Payments"):
                buffer.write(f'Total Payments: {len(rows):,},,,,"$0.00"\r\n')
            else:
                writer.writerow(line)
        data = buffer.getvalue().encode(self.encoding, errors="surrogateescape")
        return data


def _read_table(path: Path, spec: FileSpec) -> Table:
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "cp1252"
    text = raw.decode(encoding, errors="surrogateescape")
    lines = list(csv.reader(io.StringIO(text, newline="")))
    header = lines[0]
    table = Table(spec, path.name, encoding, header, [_canonical(spec, c) for c in header])
    for cells in lines[1:]:
        key = table.key_of(cells) if cells else None
        if key is None:
            table.trailer.append(cells)
        else:
            table.rows[key] = cells
    return table


@dataclass
class Truth:
    """Every file of the export as Dental-Exec would export it now."""

    tables: dict[str, Table]
    info: str
    exported_at: datetime
    rejected: set[tuple[str, str]]  # (entity, key): rows the generator broke on purpose

    @classmethod
    def read(cls, export: Path) -> Truth:
        tables = {}
        for spec in FILES:
            path = export / f"{spec.prefix}.csv"
            if path.exists():
                tables[spec.entity] = _read_table(path, spec)
        info = (export / "_export_info.txt").read_text(encoding="ascii")
        stamp = next(
            line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Exp")
        )
        manifest = json.loads((export / "_generator_manifest.json").read_text(encoding="utf-8"))
        by_file = {f"{spec.prefix}.csv": spec.entity for spec in FILES}
        rejected = {
            (by_file[error["file"]], str(int(error["key"])))
            for error in manifest["injected_errors"]
        }
        return cls(tables, info, datetime.strptime(stamp, EXPORT_FORMAT), rejected)

    def copy(self) -> Truth:
        tables = {}
        for entity, table in self.tables.items():
            rows = {key: list(cells) for key, cells in table.rows.items()}
            tables[entity] = Table(
                table.spec, table.name, table.encoding, table.header, table.names, rows,
                [list(line) for line in table.trailer],
            )  # fmt: skip
        return Truth(tables, self.info, self.exported_at, set(self.rejected))

    def write_full(self, out: Path, stamp: datetime) -> Path:
        """A later full export (`Modified Since` blank): every row the truth holds."""
        out.mkdir(parents=True)
        for table in self.tables.values():
            (out / table.name).write_bytes(table.text(list(table.rows.values())))
        self._write_info(out, stamp, since=None)
        return out

    def write_delta(self, out: Path, stamp: datetime, since: datetime, keys: set[str]) -> Path:
        """A delta bundle holding only the rows `entity:key` in `keys` (deleted ones included)."""
        out.mkdir(parents=True)
        for table in self.tables.values():
            rows = [c for k, c in table.rows.items() if f"{table.entity}:{k}" in keys]
            (out / table.name).write_bytes(table.text(rows))
        self._write_info(out, stamp, since=since)
        return out

    def _write_info(self, out: Path, stamp: datetime, since: datetime | None) -> None:
        lines = []
        for line in self.info.splitlines():
            if line.startswith("Exported:"):
                line = f"Exported: {stamp.strftime(EXPORT_FORMAT)}"
            elif line.startswith("Modified Since:"):
                line = "Modified Since: " + (since.strftime("%m/%d/%Y") if since else "")
            lines.append(line)
        (out / "_export_info.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))


def stamp_for(truth: Truth, step: int) -> datetime:
    """The export time of the `step`-th bundle after the base: one day apart, in order."""
    return truth.exported_at + timedelta(days=step, minutes=step)


def copy_export(source: Path, target: Path) -> Path:
    """A private copy of a generated export (the work directory's ferry.toml points at it)."""
    shutil.copytree(source, target)
    return target

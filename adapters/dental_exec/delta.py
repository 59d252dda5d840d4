"""Delta exports from a base export: rows changed, new, soft-deleted and hard-deleted (section 5).

The base is read with the reader, row by row; every decision is drawn from a seeded RNG, so a
delta is reproducible. `_generator_manifest.json` lists exactly which keys changed, are new,
were soft-deleted (present with `Deleted = Y` / `Status = Deleted`) or hard-deleted (silently
absent: only a full export can reveal them).
"""

from __future__ import annotations

import csv
import json
import random
from datetime import timedelta
from pathlib import Path

import msgspec

from adapters.dental_exec.generator import MANIFEST
from adapters.dental_exec.reader import DentalExecExport, open_export
from adapters.dental_exec.synth_writer import _ERRORS
from core.errors import BadInputError
from core.export_format import file_for_entity
from core.export_format.dialects import DIALECTS, dialect_headers
from core.ports.source import SourceRow

_CHANGEABLE = ("patient_note", "note", "notes", "description", "subject", "value", "status")
_KINDS = ("changed", "new", "soft_deleted", "hard_deleted")


class DeltaOptions(msgspec.Struct, frozen=True):
    """Where the base is, where the delta goes, and the per-row rates."""

    base: Path
    out: Path
    seed: int = 1
    change_rate: float = 0.05
    new_rate: float = 0.02
    delete_rate: float = 0.01


class DeltaResult(msgspec.Struct, frozen=True):
    """What the delta holds, per kind and entity (keys)."""

    out: Path
    keys: dict[str, dict[str, list[str]]]

    def summary(self) -> list[str]:
        """`changed 12`, `new 5`, ... for the terminal."""
        return [f"{kind} {sum(len(v) for v in self.keys[kind].values())}" for kind in _KINDS]


class _Delta:
    def __init__(self, options: DeltaOptions, base: DentalExecExport) -> None:
        self.options, self.base = options, base
        self.rng = random.Random(options.seed)
        info = base.export_info()
        exported = info.exported_at
        if exported is None:
            raise BadInputError(
                "base export has no Exported time in _export_info.txt", file=str(options.base)
            )
        self.since = exported.date()
        self.stamp = (exported + timedelta(days=14)).strftime("%m/%d/%Y %I:%M:%S %p")
        self.exported = exported + timedelta(days=14)
        self.keys: dict[str, dict[str, list[str]]] = {kind: {} for kind in _KINDS}

    def _note(self, kind: str, entity: str, key: str) -> None:
        self.keys[kind].setdefault(entity, []).append(key)

    def write_entity(self, entity: str) -> None:
        spec = file_for_entity(entity)
        source = self.base.describe(entity)
        encoding = "cp1252" if source.encoding in {"cp1252", "ascii"} else "utf-8-sig"
        cells = self.base.header_cells(entity)
        next_id = 1 + max(
            (int(r.key) for r in self.base.rows(entity) if r.key and r.key.isdecimal()), default=0
        )
        names = [source.headers_recognised.get(cell, "") for cell in cells]
        with open(
            self.options.out / Path(source.name).name,
            "w",
            encoding=encoding,
            errors=_ERRORS,
            newline="",
        ) as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(cells)
            for row in self.base.rows(entity):
                if row.errors or row.key is None or row.is_deleted:
                    continue
                decision = self._decide(row)
                if decision is not None:
                    writer.writerow([decision.get(n, "") or "" for n in names])
                if len(spec.pk) == 1 and self.rng.random() < self.options.new_rate:
                    new = dict(row.values)
                    new[spec.pk[0]] = str(next_id)
                    new["last_modified"] = self.stamp
                    self._note("new", entity, str(next_id))
                    next_id += 1
                    writer.writerow([new.get(n, "") or "" for n in names])

    def _decide(self, row: SourceRow) -> dict[str, str | None] | None:
        roll = self.rng.random()
        spec = file_for_entity(row.entity)
        key = row.key or ""
        if roll < self.options.delete_rate:
            soft = spec.deleted_column or ("status" if row.entity == "patient" else None)
            if soft is not None and self.rng.random() < 0.5:
                values = dict(row.values)
                values[soft] = (
                    "Deleted"
                    if soft == "status"
                    else ("True" if row.entity == "attachment" else "Y")
                )
                values["last_modified"] = self.stamp
                self._note("soft_deleted", row.entity, key)
                return values
            self._note("hard_deleted", row.entity, key)
            return None
        if roll < self.options.delete_rate + self.options.change_rate:
            values = dict(row.values)
            column = next((c for c in _CHANGEABLE if c in values and c != "status"), None)
            if column is not None:
                values[column] = ((values[column] or "") + " (updated)").strip()
            values["last_modified"] = self.stamp
            self._note("changed", row.entity, key)
            return values
        return None

    def write_info(self) -> None:
        text = (
            "Product: Dental-Exec 7.4.2\r\n"
            f"Exported: {self.stamp}\r\nPractice Code: BRSM\r\n"
            f"Modified Since: {self.since.strftime('%m/%d/%Y')}\r\nInclude Deleted: Yes\r\n"
        )
        (self.options.out / "_export_info.txt").write_bytes(text.encode("ascii"))


def generate_delta(options: DeltaOptions) -> DeltaResult:
    """Write a delta of `options.base` to `options.out` with its manifest.

    Raises:
        BadInputError: when the base cannot be read or `out` is not a new or empty directory.
    """
    base = open_export(options.base, _base_headers(options.base))
    if options.out.exists() and (not options.out.is_dir() or any(options.out.iterdir())):
        raise BadInputError(
            "output exists and is not an empty directory; choose a new --out", file=str(options.out)
        )
    options.out.mkdir(parents=True, exist_ok=True)
    delta = _Delta(options, base)
    for entity in base.entities():
        delta.write_entity(entity)
    delta.write_info()
    manifest = {
        "kind": "delta",
        "base": str(options.base),
        "seed": options.seed,
        "modified_since": delta.since.isoformat(),
        **delta.keys,
        "injected_errors": [],
    }
    (options.out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return DeltaResult(options.out, delta.keys)


def _base_headers(base: Path) -> dict[str, dict[str, str]] | None:
    """What a generated base's headers mean when its manifest names a dialect, else None."""
    try:
        manifest = json.loads((base / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    dialect = manifest.get("dialect") if isinstance(manifest, dict) else None
    return dialect_headers(dialect) if dialect in DIALECTS else None

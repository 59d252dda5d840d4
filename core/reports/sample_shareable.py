"""The de-identified sample diff, for the practice owner: keys replaced, personal values withheld.

Each record's stream id (`patient:10480`) becomes its object and a number in diff order
(`patient #1`), the same number on every row of the record. A value (source, sent, read back)
is kept only when its transform yields a code, a flag or an amount (a status, a procedure
code, a tooth, a recall interval, yes/no, money) or, for a field derived without a transform,
when it is a number or a flag; everything else (names, emails, phones, addresses, dates and
dates of birth, free text, ids and references, custom-field rows) reads `(withheld)`. Notes
name states and codes only and are kept. The transform, the transformed flag and the agreement
stay, so the owner sees what was done to each field and that Twenty holds it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.pipeline.sample_diff import CUSTOM_TRANSFORM, DiffRow, SampleDiff

__all__ = ["SHAREABLE_TRANSFORMS", "WITHHELD", "deidentify"]

WITHHELD = "(withheld)"
# Transforms whose values are codes, flags or amounts, never a person's data.
SHAREABLE_TRANSFORMS = frozenset(
    {
        "select",
        "money",
        "bool",
        "int",
        "appointment_status",
        "cdt",
        "tooth",
        "surfaces",
        "recall_category",
        "recall_type",
        "interval",
        "file_size",
        "provider_code",
        "location",
    }
)


def _is_shareable(row: DiffRow) -> bool:
    if not row.transform:
        return _is_plain_number(row.sent) and _is_plain_number(row.read)
    names = set(row.transform.split(" + "))
    return CUSTOM_TRANSFORM not in names and names <= SHAREABLE_TRANSFORMS


def _is_plain_number(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float)


def deidentify(diff: SampleDiff) -> SampleDiff:
    """A copy of the diff with keys replaced and personal values withheld."""
    numbers: dict[str, str] = {}
    per_entity: dict[str, int] = {}

    def number(stream_id: str) -> str:
        if stream_id and stream_id not in numbers:
            entity = stream_id.partition(":")[0]
            per_entity[entity] = per_entity.get(entity, 0) + 1
            numbers[stream_id] = f"{entity} #{per_entity[entity]}"
        return numbers.get(stream_id, "")

    rows = []
    for row in diff.rows:
        kept = _is_shareable(row)
        rows.append(
            msgspec.structs.replace(
                row,
                patient=number(row.patient),
                stream_id=number(row.stream_id),
                source=row.source if kept else (WITHHELD if row.source else ""),
                sent=row.sent if kept or row.sent is None else WITHHELD,
                read=row.read if kept or row.read is None else WITHHELD,
            )
        )
    return SampleDiff(run_id=diff.run_id, rows=rows)

"""Evidence the proposer reads beyond a column's own values: other files' keys, other systems'
header vocabularies.

A column whose values are the keys of another file is a reference to that file (a patients
file's `Resp Party` holding patient IDs is the guarantor), whatever its header says; a key
column's values are distinct whole numbers. Evidence texts give shapes and shares, never a
value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.export_format import ENTITIES, ColumnSpec, file_for_entity, header_key
from core.export_format.dialects import DIALECT_NAMES, DIALECTS

__all__ = ["KeySets", "key_fit", "normal_key", "vocabulary_match"]

MAX_KEYS = 2_000_000  # keys remembered per file (bounded memory)
_ANY = "*"


def normal_key(text: str) -> str:
    """A key as the reader writes it: whole numbers without leading zeros, codes trimmed."""
    text = text.strip()
    return str(int(text)) if text.isdecimal() else text.upper()


class KeySets:
    """The keys of the files proposed so far: entity (or `provider.code`) -> keys."""

    def __init__(self) -> None:
        self._keys: dict[str, set[str]] = {}
        self._files: dict[str, str] = {}

    def collect(
        self, file: str, readers: dict[str, str], rows: Iterable[dict[str, str | None]]
    ) -> None:
        """Remember the keys of one file from its rows: reader column name -> the name the
        keys are kept under (`patient`, `provider.code`); the first MAX_KEYS of each."""
        found: dict[str, set[str]] = {name: set() for name in readers.values()}
        for values in rows:
            for column, name in readers.items():
                value = values.get(column)
                if value and len(found[name]) < MAX_KEYS:
                    found[name].add(normal_key(value))
        for name, keys in found.items():
            self._keys[name], self._files[name] = keys, file

    def names(self) -> list[str]:
        """The files (and `provider.code`) whose keys are known."""
        return list(self._keys)

    def fit(self, target: str, values: Sequence[str]) -> tuple[float, str] | None:
        """Share of the values that are keys of `target`, and the words; None when unknown."""
        keys = self._keys.get(target)
        if not keys or not values:
            return None
        share = sum(1 for v in values if normal_key(v) in keys) / len(values)
        what = "provider codes" if target == "provider.code" else f"{target} ids"
        return share, f"{share:.0%} match {what} in {self._files[target]}"


def key_fit(values: Sequence[str]) -> tuple[float, str]:
    """How well values fit a file's own ID: whole numbers, each on one row only."""
    whole = [v for v in values if v.strip().isdecimal()]
    distinct = len({normal_key(v) for v in whole})
    share = distinct / len(values)
    return share, f"{share:.0%} distinct whole numbers"


def _vocabulary() -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """(entity, header key) -> [(column, system, header)] over every dialect."""
    found: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for dialect, words in DIALECTS.items():
        for (entity, column), header in words.items():
            entities = [entity] if entity != _ANY else _holders(column)
            for holder in entities:
                entry = (column, DIALECT_NAMES[dialect], header)
                bucket = found.setdefault((holder, header_key(header)), [])
                if entry not in bucket:
                    bucket.append(entry)
    return found


def _holders(column: str) -> list[str]:
    return [e for e in ENTITIES if any(c.name == column for c in file_for_entity(e).columns)]


_VOCABULARY = _vocabulary()


def vocabulary_match(entity: str, header: str, column: ColumnSpec) -> str | None:
    """The evidence words when another system spells this column this way, else None."""
    for name, system, spelled in _VOCABULARY.get((entity, header_key(header)), ()):
        if name == column.name:
            return f"header is {system}'s {spelled!r}"
    return None

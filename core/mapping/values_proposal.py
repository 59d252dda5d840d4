"""Value maps from the export: the codes seen in a bounded sample, placed or listed unplaced."""

from __future__ import annotations

from itertools import islice

from rapidfuzz import fuzz

from core.mapping.model import Mapping, ValueMap
from core.mapping.valuemaps import VALUE_MAP_COLUMNS
from core.ports.source import Source

__all__ = ["propose_value_maps"]

MAX_CODES = 60  # distinct codes kept per column: enumerations are small
_CLOSE = 88  # rapidfuzz ratio from which a spelling variant is placed with its neighbour


def _seen_codes(source: Source, mapping: Mapping, entity: str, column: str, rows: int) -> list[str]:
    file = mapping.files.get(entity)
    if file is None:
        return []
    readers = [c for c in file.columns if c.column == column and not c.is_ignored]
    if not readers:
        return []
    header = readers[0].header
    names = {column, f"?{header}"}
    seen: dict[str, None] = {}
    for row in islice(source.rows(entity), rows):
        for name in names:
            value = row.values.get(name)
            if value is not None and len(seen) < MAX_CODES:
                seen.setdefault(" ".join(value.split()), None)
    return list(seen)


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _place(value_map: ValueMap, code: str) -> str | None:
    best, best_option = 0.0, None
    for known, option in value_map.values.items():
        score = fuzz.ratio(_alnum(code), _alnum(known))
        if score > best:
            best, best_option = score, option
    return best_option if best >= _CLOSE else None


def propose_value_maps(source: Source, mapping: Mapping, rows: int) -> dict[str, list[str]]:
    """Add the export's codes to the mapping's value maps; return the unplaced ones by map."""
    unplaced: dict[str, list[str]] = {}
    for name, value_map in mapping.value_maps.items():
        for entity, column in VALUE_MAP_COLUMNS.get(name, ()):
            if entity not in source.entities():
                continue
            for code in _seen_codes(source, mapping, entity, column, rows):
                if name == "cdt_code" or value_map.lookup(code) is not None:
                    continue
                option = _place(value_map, code)
                if option is not None:
                    value_map.values[code] = option
                elif code not in value_map.unplaced:
                    value_map.unplaced.append(code)
        if value_map.unplaced:
            unplaced[name] = list(value_map.unplaced)
    return unplaced

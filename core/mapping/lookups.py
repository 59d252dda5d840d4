"""Read-only mappings over a scratch database, with small caches shaped for export order.

The transforms look facts up by an integer ID (a patient, a plan, a policy, an owner) while
the rows arrive mostly in ID order. `IdLookup` answers a first miss in a block of IDs with a
one-key query and a second miss in the same block with one query for the whole block, so an
export in ID order costs about one query per block and one in random order one per key; a
few recent blocks and keys are kept. Memory stays the same whatever the export's size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar, overload

from core.scratch import SQL_INT_MAX, SQL_INT_MIN

__all__ = ["Fetch", "IdLookup", "OwnerLookup", "TextLookup"]

V = TypeVar("V")
D = TypeVar("D")

# fetch(low, high) -> the values of every ID from low to high (inclusive) that has one.
Fetch = Callable[[int, int], dict[int, V]]

_BLOCK_BITS = 8
_BLOCKS = 8
_KEYS = 1024
_ABSENT = object()


class IdLookup(Mapping[int, V]):
    """A read-only mapping of integer IDs to values fetched on demand, cached by block."""

    def __init__(self, fetch: Fetch[V], keys: Callable[[], Iterator[int]]) -> None:
        self._fetch = fetch
        self._keys = keys
        self._blocks: OrderedDict[int, dict[int, V]] = OrderedDict()
        self._singles: OrderedDict[int, object] = OrderedDict()
        self._last_miss = -1

    @overload
    def get(self, key: int, /) -> V | None: ...

    @overload
    def get(self, key: int, default: V | D, /) -> V | D: ...

    def get(self, key: int, default: object = None) -> object:
        """The ID's value, or `default` (also for keys that are not integers)."""
        if type(key) is not int:
            return default
        found = self._find(key)
        return default if found is _ABSENT else found

    def _find(self, key: int) -> object:
        block_id = key >> _BLOCK_BITS
        block = self._blocks.get(block_id)
        if block is not None:
            return block.get(key, _ABSENT)
        if key in self._singles:
            return self._singles[key]
        if block_id == self._last_miss and SQL_INT_MIN <= key <= SQL_INT_MAX:
            return self._load_block(block_id).get(key, _ABSENT)
        self._last_miss = block_id
        found = self._fetch(key, key).get(key, _ABSENT)
        self._singles[key] = found
        if len(self._singles) > _KEYS:
            self._singles.popitem(last=False)
        return found

    def _load_block(self, block_id: int) -> dict[int, V]:
        low = max(block_id << _BLOCK_BITS, SQL_INT_MIN)
        high = min(((block_id + 1) << _BLOCK_BITS) - 1, SQL_INT_MAX)
        block = self._blocks[block_id] = self._fetch(low, high)
        if len(self._blocks) > _BLOCKS:
            self._blocks.popitem(last=False)
        return block

    def __getitem__(self, key: int) -> V:
        found = self._find(key) if type(key) is int else _ABSENT
        if found is _ABSENT:
            raise KeyError(key)
        return found  # type: ignore[return-value]

    def __contains__(self, key: object) -> bool:
        return type(key) is int and self._find(key) is not _ABSENT

    def __iter__(self) -> Iterator[int]:
        return self._keys()

    def __len__(self) -> int:
        return sum(1 for _ in self._keys())


class OwnerLookup(Mapping[tuple[str, int], V]):
    """A read-only mapping of (entity, ID) pairs: one IdLookup per entity."""

    def __init__(self, per_entity: Callable[[str], IdLookup[V]], entities: frozenset[str]) -> None:
        self._lookups = {entity: per_entity(entity) for entity in entities}

    @overload
    def get(self, key: tuple[str, int], /) -> V | None: ...

    @overload
    def get(self, key: tuple[str, int], default: V | D, /) -> V | D: ...

    def get(self, key: tuple[str, int], default: object = None) -> object:
        """The pair's value, or `default`."""
        lookup = self._lookups.get(key[0])
        return default if lookup is None else lookup.get(key[1], default)

    def __getitem__(self, key: tuple[str, int]) -> V:
        lookup = self._lookups.get(key[0])
        if lookup is None:
            raise KeyError(key)
        return lookup[key[1]]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        lookup = self._lookups.get(key[0])
        return lookup is not None and key[1] in lookup

    def __iter__(self) -> Iterator[tuple[str, int]]:
        for entity, lookup in self._lookups.items():
            for key in lookup:
                yield entity, key

    def __len__(self) -> int:
        return sum(len(lookup) for lookup in self._lookups.values())


class TextLookup(Mapping[str, V]):
    """A read-only mapping of text keys fetched one by one, the recent ones kept."""

    def __init__(self, fetch: Callable[[str], V | None], keys: Callable[[], Iterator[str]]) -> None:
        self._fetch = fetch
        self._keys = keys
        self._recent: OrderedDict[str, V | None] = OrderedDict()

    def _find(self, key: str) -> V | None:
        if key in self._recent:
            return self._recent[key]
        found = self._recent[key] = self._fetch(key)
        if len(self._recent) > _KEYS:
            self._recent.popitem(last=False)
        return found

    def __getitem__(self, key: str) -> V:
        found = self._find(key) if isinstance(key, str) else None
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) is not None

    def __iter__(self) -> Iterator[str]:
        return self._keys()

    def __len__(self) -> int:
        return sum(1 for _ in self._keys())

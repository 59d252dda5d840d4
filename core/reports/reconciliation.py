"""Reconciliation: where every source row ended up, per entity, and proof that the counts add up.

Every record stream is in exactly one category, read from the `record_state` projection:

    records = skipped + rejected + pending + blocked + in_doubt + load_failed
              + loaded + verified + mismatched + missing + removed + deleted + rolled_back

and, when the export's row counts are known,

    source rows = records + repeated keys + not read

where `repeated keys` are rows whose key an earlier row already held (rejected as
DUPLICATE_KEY on the first row's stream) and `not read` are rows the local stages have not
reached yet. `reconcile` checks the first identity in code (a ReconciliationError if it ever
fails) and a report says "adds up" only when nothing is unaccounted for. Keys and codes only:
no patient value is read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

import msgspec

from core.errors import FerryError
from core.pipeline.pending import IN_TWENTY, latest_transforms, parent_states

__all__ = [
    "CATEGORIES",
    "EntityReconciliation",
    "Reconciliation",
    "ReconciliationError",
    "reconcile",
]

# Categories in report order; each record is in exactly one.
CATEGORIES = (
    "skipped",
    "rejected",
    "pending",
    "blocked",
    "in_doubt",
    "load_failed",
    "loaded",
    "verified",
    "mismatched",
    "missing",
    "removed",
    "deleted",
    "rolled_back",
)
_BY_STATE = {
    "skipped": "skipped",
    "rejected": "rejected",
    "extracted": "pending",
    "transformed": "pending",
    "validated": "pending",
    "loading": "in_doubt",
    "load_failed": "load_failed",
    "loaded": "loaded",
    "verified": "verified",
    "rolling_back": "rolled_back",
    "rolled_back": "rolled_back",
    # A later full export lacks the row (its Twenty copy stays until --apply-deletes) ...
    "removed": "removed",
    # ... or `ferry delta --apply-deletes` soft-deleted it in Twenty.
    "deleted": "deleted",
}
# Categories in which Twenty does not hold what the source says (yet).
# (`removed` is not one: a removed record still live in Twenty is a delete waiting for
# `--apply-deletes`, which `ferry verify` counts apart; one not in Twenty is done.)
OPEN_CATEGORIES = (
    "pending", "blocked", "in_doubt", "load_failed", "loaded", "mismatched", "missing",
    "rolled_back",
)  # fmt: skip
# A parent in one of these states will not reach Twenty without the operator's help.
# (A parent rolled back is not one: `ferry run` migrates it again before its children.)
_DEAD_PARENT = (None, "rejected", "skipped", "load_failed", "rolling_back")
KEYS_KEPT = 50  # keys listed per category and entity; counts stay exact


class ReconciliationError(FerryError):
    """The counts do not add up: the store's projection is inconsistent; run `ferry replay`."""


class EntityReconciliation(msgspec.Struct, kw_only=True):
    """One entity's counts, the codes behind them, and sample keys per problem category.

    Attributes:
        source_rows: rows of the source as it stands (None when it was not counted).
        derived: the entity has no file of its own (task and note targets are made from
            other rows), so it has no source side to count.
        repeated_keys: rows whose key an earlier row held (rejected as DUPLICATE_KEY).
        records: record streams in the store.
        counts: category -> records (every category present, zeros included).
        codes: category -> code -> records (rejection, skip and failure codes, differing fields).
        keys: category -> the first source keys in it (problem categories only).
    """

    entity: str
    source_rows: int | None = None
    derived: bool = False
    repeated_keys: int = 0
    records: int = 0
    counts: dict[str, int] = msgspec.field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    codes: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    keys: dict[str, list[str]] = msgspec.field(default_factory=dict)

    @property
    def not_read(self) -> int | None:
        """Source rows not yet in the store (None when the export was not counted)."""
        if self.source_rows is None:
            return None
        return self.source_rows - self.records - self.repeated_keys

    @property
    def adds_up(self) -> bool:
        """True when every category sums to the records and every source row is accounted for
        (a source that was not counted is not "accounted for": it cannot be checked)."""
        if sum(self.counts.values()) != self.records:
            return False
        return self.derived or self.not_read == 0

    @property
    def is_done(self) -> bool:
        """True when nothing is left to do: Twenty holds what the source says for every
        record (nothing pending, blocked, in doubt, failed, unverified, differing, missing,
        rolled back and not migrated again, or removed in the source but still in Twenty)."""
        return self.adds_up and not any(self.counts[c] for c in OPEN_CATEGORIES)


class Reconciliation(msgspec.Struct, kw_only=True):
    """Every entity's reconciliation, in the order given (then alphabetical)."""

    entities: list[EntityReconciliation]
    source_problem: str = ""
    # entity -> True when its file is absent from the export by acknowledgement (`ferry map
    # confirm --allow-missing`); False: absent without one, and then nothing adds up.
    absent: dict[str, bool] = msgspec.field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        """Category -> records over all entities, plus `records`."""
        out = dict.fromkeys(("records", *CATEGORIES), 0)
        for entity in self.entities:
            out["records"] += entity.records
            for category, count in entity.counts.items():
                out[category] += count
        return out

    @property
    def adds_up(self) -> bool:
        """True when the source was counted, every entity adds up and every absent file was
        acknowledged."""
        return (
            not self.source_problem
            and all(e.adds_up for e in self.entities)
            and all(self.absent.values())
        )


def reconcile(
    conn: sqlite3.Connection,
    source_rows: Mapping[str, int] | None = None,
    order: tuple[str, ...] = (),
    *,
    source_problem: str = "",
    absent: Mapping[str, bool] | None = None,
) -> Reconciliation:
    """Count every record of the store by category, per entity, with codes and keys.

    The records of an entity are counted twice, apart: the streams the event log holds
    (their first events) and the `record_state` projection's rows by category; the source
    rows are counted from the export files by the caller (None: not counted, and then the
    reconciliation cannot add up, `source_problem` saying why).

    Raises:
        ReconciliationError: when the categories do not sum to the streams of the log (a
            broken projection), or a record is in a state no category holds.
    """
    rows = source_rows or {}
    if source_rows is None and not source_problem:
        source_problem = "cannot check: the source was not counted"
    found: dict[str, EntityReconciliation] = {}
    entities = [e for (e,) in conn.execute("SELECT DISTINCT entity FROM record_state")]
    for entity in sorted(set(entities) | set(rows), key=lambda e: _rank(e, order)):
        found[entity] = _entity(conn, entity, rows.get(entity))
        found[entity].derived = source_rows is not None and entity not in rows
    for entity, repeated in _repeated_keys(conn).items():
        if entity in found:
            found[entity].repeated_keys = repeated
    for entity_result in found.values():
        total = sum(entity_result.counts.values())
        streams = _streams_in_log(conn, entity_result.entity)
        if total != streams or entity_result.records != streams:
            raise ReconciliationError(
                f"{entity_result.entity}: categories sum to {total} but the event log holds "
                f"{streams} record streams; run `ferry replay --check`"
            )
    return Reconciliation(
        entities=list(found.values()), source_problem=source_problem, absent=dict(absent or {})
    )


def _streams_in_log(conn: sqlite3.Connection, entity: str) -> int:
    """Record streams of the entity in the event log itself (each has exactly one first
    event), counted apart from the record_state projection."""
    found = conn.execute(
        "SELECT COUNT(*) FROM events WHERE stream_id >= ? AND stream_id < ? AND version = 1",
        (f"{entity}:", f"{entity};"),
    ).fetchone()
    return int(found[0])


def _rank(entity: str, order: tuple[str, ...]) -> tuple[int, str]:
    return (order.index(entity) if entity in order else len(order), entity)


def _entity(conn: sqlite3.Connection, entity: str, source_rows: int | None) -> EntityReconciliation:
    result = EntityReconciliation(entity=entity, source_rows=source_rows)
    low, high = f"{entity}:", f"{entity};"
    sql = (
        "SELECT state, last_error_code, COUNT(*) FROM record_state "
        "WHERE stream_id >= ? AND stream_id < ? GROUP BY state, last_error_code"
    )
    for state, code, count in conn.execute(sql, (low, high)):
        result.records += count
        category = _category(state, code)
        result.counts[category] += count
        if code and category in ("rejected", "load_failed"):
            _add_code(result, category, code, count)
    _split_blocked(conn, result)
    _skip_codes(conn, result)
    _differing_fields(conn, result)
    _sample_keys(conn, result)
    return result


def _category(state: str, code: str | None) -> str:
    """The one category of a state.

    Raises:
        ReconciliationError: the state is none the reconciliation knows (never "pending" by
            default: a record in an unknown state is a broken store, not a pending one).
    """
    if state == "verify_failed":
        return "missing" if code == "MISSING" else "mismatched"
    if state not in _BY_STATE:
        raise ReconciliationError(f"a record is in state {state!r}, which no category holds")
    return _BY_STATE[state]


def _add_code(result: EntityReconciliation, category: str, code: str, count: int) -> None:
    codes = result.codes.setdefault(category, {})
    codes[code] = codes.get(code, 0) + count


def _split_blocked(conn: sqlite3.Connection, result: EntityReconciliation) -> None:
    """Move validated records whose parent will not reach Twenty from pending to blocked."""
    low, high, after = f"{result.entity}:", f"{result.entity};", ""
    sql = (
        "SELECT stream_id FROM record_state WHERE stream_id >= ? AND stream_id < ? "
        "AND stream_id > ? AND state = 'validated' ORDER BY stream_id LIMIT 500"
    )
    while ids := [r[0] for r in conn.execute(sql, (low, high, after))]:
        after = ids[-1]
        transforms = latest_transforms(conn, ids)
        parents = parent_states(conn, {p for t in transforms.values() for p in t.refs.values()})
        for stream_id, transform in transforms.items():
            states = [parents.get(p, (None, None))[0] for p in transform.refs.values()]
            if any(s in _DEAD_PARENT for s in states if s not in IN_TWENTY):
                result.counts["pending"] -= 1
                result.counts["blocked"] += 1
                keys = result.keys.setdefault("blocked", [])
                if len(keys) < KEYS_KEPT:
                    keys.append(stream_id.partition(":")[2])


def _skip_codes(conn: sqlite3.Connection, result: EntityReconciliation) -> None:
    sql = (
        "SELECT json_extract(e.data, '$.code'), COUNT(*) FROM record_state rs "
        "JOIN events e ON e.position = rs.last_position "
        "WHERE rs.stream_id >= ? AND rs.stream_id < ? AND rs.state = 'skipped' GROUP BY 1"
    )
    for code, count in conn.execute(sql, (f"{result.entity}:", f"{result.entity};")):
        _add_code(result, "skipped", code or "SKIPPED", count)


def _differing_fields(conn: sqlite3.Connection, result: EntityReconciliation) -> None:
    sql = (
        "SELECT json_extract(d.value, '$.field'), COUNT(*) FROM record_state rs "
        "JOIN events e ON e.position = rs.last_position, json_each(e.data, '$.diffs') d "
        "WHERE rs.stream_id >= ? AND rs.stream_id < ? AND rs.state = 'verify_failed' "
        "GROUP BY 1"
    )
    for field, count in conn.execute(sql, (f"{result.entity}:", f"{result.entity};")):
        _add_code(result, "mismatched", str(field), count)


_PROBLEM_STATES = {
    "rejected": "state = 'rejected'",
    "load_failed": "state = 'load_failed'",
    "in_doubt": "state = 'loading'",
    "mismatched": "state = 'verify_failed' AND last_error_code IS NOT 'MISSING'",
    "missing": "state = 'verify_failed' AND last_error_code = 'MISSING'",
}


def _sample_keys(conn: sqlite3.Connection, result: EntityReconciliation) -> None:
    for category, condition in _PROBLEM_STATES.items():
        if not result.counts[category]:
            continue
        sql = (
            "SELECT source_key FROM record_state WHERE stream_id >= ? AND stream_id < ? "
            f"AND {condition} ORDER BY stream_id LIMIT {KEYS_KEPT}"
        )
        low, high = f"{result.entity}:", f"{result.entity};"
        result.keys[category] = [r[0] for r in conn.execute(sql, (low, high))]


def _repeated_keys(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows rejected because an earlier row of the export held the same key, per entity."""
    # Distinct (stream, line of the extraction just before): a rerun that rejects the same
    # repeated row again does not count it twice.
    sql = (
        "SELECT substr(e.stream_id, 1, instr(e.stream_id, ':') - 1), "
        "COUNT(DISTINCT e.stream_id || '@' || json_extract(x.data, '$.line')) "
        "FROM events e JOIN events x ON x.stream_id = e.stream_id AND x.version = e.version - 1, "
        "json_each(e.data, '$.reasons') r "
        "WHERE e.type = 'RecordRejected' AND json_extract(r.value, '$.code') = 'DUPLICATE_KEY' "
        # A repeated row with a stream of its own (`patient:@file:line`) is a record already.
        "AND instr(e.stream_id, ':@') = 0 "
        "GROUP BY 1"
    )
    return {str(entity): int(count) for entity, count in conn.execute(sql)}

"""The invariants of the cutover, computed from the source truth and Twenty's content only.

Each check returns the problems it found (empty when it holds); the state machine turns the
first one into a failure named after the invariant.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.cutover.expected import EXACT, MODELLED, OBJECT_OF, differences, fates
from tests.cutover.source import Truth
from tests.cutover.twenty import Content


def duplicates(content: Content) -> list[str]:
    """No two live records of one object carry the same dentalExecId or link the same pair."""
    found = []
    for plural, records in content.records.items():
        live = content.live(plural)
        if plural in ("taskTargets", "noteTargets"):
            keys = Counter(
                tuple(sorted((k, v) for k, v in r.items() if k.endswith("Id") and k != "id" and v))
                for r in live
            )
        else:
            keys = Counter(r.get("dentalExecId") for r in live if r.get("dentalExecId"))
        found += [f"{plural}: {n} live records for {key}" for key, n in keys.items() if n > 1]
        assert len(records) == len({r["id"] for r in records.values()})
    return found


def nothing_of_ours(content: Content, seed_ids: list[str], before: dict[str, Any]) -> list[str]:
    """After a full rollback: only the seeded records, each back to its before-image."""
    found = []
    stable = content.stable()
    for plural, records in stable.items():
        for record_id, record in records.items():
            if record_id not in seed_ids:
                what = record.get("dentalExecId") or record_id
                state = "soft-deleted" if record.get("deletedAt") else "live"
                found.append(f"{plural} {what}: still in Twenty ({state})")
            elif record != before[plural].get(record_id):
                old = before[plural].get(record_id) or {}
                fields = sorted(
                    k for k in record.keys() | old.keys() if record.get(k) != old.get(k)
                )
                found.append(f"{plural} {record_id} (seeded): not its before-image: {fields}")
    return found


def holds_truth(truth: Truth, content: Content, pending: set[tuple[str, str]]) -> list[str]:
    """Twenty holds exactly the expected records of the source truth, with the checked values.

    `pending` are rows deleted in the source whose deletion was not applied to Twenty yet:
    their records may still be there.
    """
    found = []
    fate = fates(truth)
    by_object: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for plural in {p for p, _ in OBJECT_OF.values()}:
        index: dict[str, list[dict[str, Any]]] = {}
        for record in content.live(plural):
            if record.get("dentalExecId"):
                index.setdefault(str(record["dentalExecId"]), []).append(record)
        by_object[plural] = index
    claimed: set[tuple[str, str]] = set()
    for entity in MODELLED:
        plural, form = OBJECT_OF[entity]
        table = truth.tables.get(entity)
        for key in table.rows if table else ():
            ident = form.format(key=key)
            claimed.add((plural, ident))
            records = by_object[plural].get(ident, [])
            state = fate.of(entity, key)
            if state == "expected":
                if not records:
                    found.append(f"{entity}:{key} missing in Twenty ({plural} {ident})")
                elif entity in EXACT:
                    for problem in differences(truth, entity, key, records[0]):
                        found.append(f"{entity}:{key} {problem}")
            elif state in ("absent", "deleted") and records and (entity, key) not in pending:
                found.append(f"{entity}:{key} is in Twenty but the source says {state}")
    # Records of ours whose row is gone from the source (hard-deleted) must be gone too.
    pending_ids = {
        (OBJECT_OF[e][0], OBJECT_OF[e][1].format(key=k)) for e, k in pending if e in OBJECT_OF
    }
    for entity in MODELLED:
        plural, form = OBJECT_OF[entity]
        prefix = form.split("{")[0]
        for ident in by_object[plural]:
            if (plural, ident) in claimed or (plural, ident) in pending_ids:
                continue
            if prefix and not ident.startswith(prefix):
                continue
            if not prefix and not ident.isdecimal():
                continue
            found.append(f"{plural} {ident}: in Twenty but not in the source")
    return found


def status_names(steps: list[str], needle: str) -> bool:
    return any(needle in step for step in steps)

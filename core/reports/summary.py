"""The facts of the practice owner's one-page summary, gathered from the store alone.

Counts come from the reconciliation `ferry verify` computes (`reconcile_workspace`), so the
summary's verdict is that same verdict; the lists are the rows of the `rejected`,
`member-defaults` and `conflicts` reports, reduced to counts and keys. Keys, codes, member
names, times and hashes only: no patient value is read.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import msgspec

from core.pipeline.verification import is_settled
from core.reports.conflicts import conflict_rows
from core.reports.member_defaults import member_default_rows
from core.reports.reconciliation import OPEN_CATEGORIES, Reconciliation
from core.reports.reconciliation_render import verdict
from core.reports.rejected import rejected_rows
from events.anchor import ANCHORS_DIR, AnchorError, check_anchor, read_anchor
from events.store import GENESIS_HASH
from events.types import DuplicateDecided, MappingConfirmed, SampleApproved, decode

__all__ = [
    "KEYS_SHOWN",
    "Approval",
    "ChainHead",
    "KeyedCount",
    "ObjectCount",
    "SummaryFacts",
    "latest_anchor",
    "summary_facts",
]

KEYS_SHOWN = 20  # keys listed per list; the counts stay exact


class ObjectCount(msgspec.Struct, frozen=True, kw_only=True):
    """One object's rows in the source and its records in Twenty.

    Attributes:
        source_rows: rows of the source as it stands (None: not counted, or derived).
        in_twenty: records Twenty holds as ours (loaded, verified or differing).
        verified: of those, read back and found as sent.
        open: records with work left (pending, blocked, in doubt, failed, unverified, ...).
    """

    entity: str
    source_rows: int | None
    in_twenty: int
    verified: int
    rejected: int
    skipped: int
    open: int


class KeyedCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many records, by code, and the first keys (`entity:key`)."""

    total: int = 0
    by_code: dict[str, int] = msgspec.field(default_factory=dict)
    keys: list[str] = msgspec.field(default_factory=list)


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    """A sign-off on record: what was approved, by whom, when (None: not yet)."""

    what: str
    user: str = ""
    at: str = ""
    detail: str = ""


class ChainHead(msgspec.Struct, frozen=True, kw_only=True):
    """The event log's head and the latest anchor written under `anchors/`."""

    position: int
    hash: str
    anchor: str = ""  # the anchor's file name ("" when none was written)
    anchor_position: int = 0
    anchor_at: str = ""
    anchor_holds: bool = False  # the log still holds the anchored hash
    anchor_problem: str = ""  # why the anchor cannot be read ("" when it can)


class SummaryFacts(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the summary page shows."""

    generated_at: str
    verdict: str
    is_clean: bool
    adds_up: bool
    objects: list[ObjectCount]
    rejected: KeyedCount
    defaulted: KeyedCount
    conflicts: KeyedCount
    approvals: list[Approval]
    chain: ChainHead
    deletes_waiting: int = 0


def summary_facts(
    conn: sqlite3.Connection,
    reconciliation: Reconciliation,
    *,
    workdir: Path,
    generated_at: str,
    deletes_waiting: int = 0,
) -> SummaryFacts:
    """Gather the summary from the store, the reconciliation and the work directory."""
    return SummaryFacts(
        generated_at=generated_at,
        verdict=verdict(reconciliation),
        is_clean=is_settled(reconciliation, deletes_waiting),
        adds_up=reconciliation.adds_up,
        objects=_objects(reconciliation),
        rejected=_keyed(
            (f"{r['entity']}:{r['source_key']}", str(r["code"])) for r in rejected_rows(conn)
        ),
        defaulted=_keyed(
            (f"{r['entity']}:{r['source_key']}", f"{r['field']} {r['provider_code']}")
            for r in member_default_rows(conn)
        ),
        conflicts=_keyed(
            (str(r["record"]), f"{r['kind']} {r['resolution']}") for r in conflict_rows(conn)
        ),
        approvals=_approvals(conn),
        chain=_chain(conn, workdir),
        deletes_waiting=deletes_waiting,
    )


def _objects(reconciliation: Reconciliation) -> list[ObjectCount]:
    found = []
    for entity in reconciliation.entities:
        counts = entity.counts
        found.append(
            ObjectCount(
                entity=entity.entity,
                source_rows=None if entity.derived else entity.source_rows,
                in_twenty=counts["loaded"] + counts["verified"] + counts["mismatched"],
                verified=counts["verified"],
                rejected=counts["rejected"],
                skipped=counts["skipped"],
                open=sum(counts[c] for c in OPEN_CATEGORIES),
            )
        )
    return found


def _keyed(rows: Iterable[tuple[str, str]]) -> KeyedCount:
    """Count distinct records (a record refused for two reasons counts once) and codes."""
    records: dict[str, None] = {}
    codes: Counter[str] = Counter()
    for key, code in rows:
        records.setdefault(key)
        codes[code] += 1
    return KeyedCount(
        total=len(records), by_code=dict(sorted(codes.items())), keys=list(records)[:KEYS_SHOWN]
    )


_APPROVALS_SQL = """
SELECT recorded_at, data FROM events WHERE stream_id = 'migration'
AND type IN ('MappingConfirmed', 'SampleApproved', 'DuplicateDecided') ORDER BY position
"""


def _approvals(conn: sqlite3.Connection) -> list[Approval]:
    """The latest mapping confirmation and sample approval (each may be missing), and the
    practice's duplicate decisions when there are any."""
    mapping = Approval(what="Mapping confirmed")
    sample = Approval(what="Sample approved")
    pairs: dict[frozenset[str], str] = {}  # the latest decision on each duplicate pair
    last = ("", "")
    for recorded_at, data in conn.execute(_APPROVALS_SQL):
        event = decode(data)
        if isinstance(event, MappingConfirmed):
            detail = f"mapping {event.mapping_hash[:12]}"
            if event.absent_files:
                detail += f"; files acknowledged absent: {event.absent_files}"
            mapping = Approval(what=mapping.what, user=event.user, at=recorded_at, detail=detail)
        elif isinstance(event, SampleApproved):
            detail = f"sample run {event.run_id}, diff {event.diff_hash[:12]}"
            sample = Approval(what=sample.what, user=event.user, at=recorded_at, detail=detail)
        elif isinstance(event, DuplicateDecided):
            pairs[frozenset({event.patient_key, event.same_person_as})] = event.decision
            last = (event.user, recorded_at)
    found = [mapping, sample]
    if pairs:
        merged = sum(d == "merge" for d in pairs.values())
        detail = f"{merged} pair(s) merged, {len(pairs) - merged} kept separate"
        found.append(Approval(what="Duplicate patients decided", user=last[0], at=last[1],
                              detail=detail))  # fmt: skip
    return found


def _chain(conn: sqlite3.Connection, workdir: Path) -> ChainHead:
    head = conn.execute("SELECT position, hash FROM chain_head WHERE id = 1").fetchone()
    position, digest = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    path = latest_anchor(workdir)
    if path is None:
        return ChainHead(position=position, hash=digest)
    try:
        anchor = read_anchor(path)
    except AnchorError:
        problem = "it cannot be read as an anchor; take a new one with `ferry events anchor`"
        return ChainHead(position=position, hash=digest, anchor=path.name, anchor_problem=problem)
    return ChainHead(
        position=position,
        hash=digest,
        anchor=path.name,
        anchor_position=anchor.position,
        anchor_at=anchor.anchored_at,
        anchor_holds=check_anchor(conn, anchor, None).is_ok,
    )


def latest_anchor(workdir: Path) -> Path | None:
    """The anchor of the highest position under `anchors/` (the latest at that position)."""
    folder = workdir / ANCHORS_DIR
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.glob("anchor-*.json") if p.is_file())
    return found[-1] if found else None

"""The pre-pass's per-owner facts, kept in a scratch database instead of in memory.

`prepare_context` writes one fact per auxiliary row here (a custom-field value and whether
its owner exists, a patient's home location, who holds a shared email, a plan and its
procedure lines, a claim of a policy, an incoming referral). `finish` indexes them and
returns the `ContextLookups` the transforms read: read-only mappings (core.mapping.lookups)
that fold the facts of one ID in the order they were written, with the read interface of a
dict. Memory stays flat whatever the export's size (the scratch database's page cache and a
few cached blocks of IDs).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from core.mapping.context import (
    ClaimSummary,
    CustomValue,
    PlanSummary,
    ReferralSummary,
)
from core.mapping.lookups import IdLookup, OwnerLookup, TextLookup
from core.scratch import open_scratch, sql_key
from core.values import ValueParseError, parse_money, parse_tooth

__all__ = ["ContextLookups", "ContextStore"]

_SCHEMA = """
CREATE TABLE custom (entity, owner, key, label, kind, value);
CREATE TABLE owner_seen (entity, owner, PRIMARY KEY (entity, owner)) WITHOUT ROWID;
CREATE TABLE found (entity, owner, PRIMARY KEY (entity, owner)) WITHOUT ROWID;
CREATE TABLE patient (id PRIMARY KEY, location) WITHOUT ROWID;
CREATE TABLE email (address PRIMARY KEY, patient) WITHOUT ROWID;
CREATE TABLE email_rank (patient PRIMARY KEY, rank) WITHOUT ROWID;
CREATE TABLE plan (id PRIMARY KEY, location) WITHOUT ROWID;
CREATE TABLE plan_line (plan, stage, code, tooth, fee);
CREATE TABLE claim (policy, sort, claim, status);
CREATE TABLE referral (patient, sort, referral, option, detail);
"""
_INDEXES = """
CREATE INDEX custom_owner ON custom (entity, owner);
CREATE INDEX plan_line_plan ON plan_line (plan);
CREATE INDEX claim_policy ON claim (policy);
CREATE INDEX referral_patient ON referral (patient);
"""
_INSERTS = {
    "custom": "INSERT INTO custom VALUES (?, ?, ?, ?, ?, ?)",
    "owner_seen": "INSERT OR IGNORE INTO owner_seen VALUES (?, ?)",
    "patient": "INSERT OR REPLACE INTO patient VALUES (?, ?)",
    "plan": "INSERT OR REPLACE INTO plan VALUES (?, ?)",
    "plan_line": "INSERT INTO plan_line VALUES (?, ?, ?, ?, ?)",
    "claim": "INSERT INTO claim VALUES (?, ?, ?, ?)",
    "referral": "INSERT INTO referral VALUES (?, ?, ?, ?, ?)",
}
_DISTINCT = "SELECT DISTINCT {} FROM {}"
_BATCH = 4096
# Rows written before the shared-email state (kept in memory meanwhile) is flushed.
_EMAIL_BATCH = 8192


@dataclass(frozen=True)
class ContextLookups:
    """The read side: read-only mappings by owner ID (or email address), as dicts read."""

    custom: OwnerLookup[list[CustomValue]]
    custom_owner_found: OwnerLookup[bool]
    patient_location: IdLookup[int]
    email_owner: TextLookup[int]
    referrals: IdLookup[ReferralSummary]
    claims: IdLookup[ClaimSummary]
    plans: IdLookup[PlanSummary]


class ContextStore:
    """Facts of the pre-pass in a private scratch database; `close` deletes it."""

    def __init__(self) -> None:
        self._conn = open_scratch()
        self._conn.executescript(_SCHEMA)
        self._pending: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _INSERTS}
        self._email_owner: dict[str, int] = {}
        self._email_rank: dict[int, int] = {}
        self.custom_entities: set[str] = set()

    def _add(self, table: str, row: tuple[Any, ...]) -> None:
        pending = self._pending[table]
        pending.append(row)
        if len(pending) >= _BATCH:
            self._conn.executemany(_INSERTS[table], pending)
            pending.clear()

    def _flush(self) -> None:
        for table, pending in self._pending.items():
            if pending:
                self._conn.executemany(_INSERTS[table], pending)
                pending.clear()
        self._flush_emails()

    def add_custom(self, entity: str, owner: int, value: CustomValue) -> None:
        """One custom-field value of an owner, in file order."""
        self.custom_entities.add(entity)
        self._add(
            "custom", (entity, sql_key(owner), value.key, value.label, value.kind, value.value)
        )

    def mark_owner(self, entity: str, owner: int) -> None:
        """A row of this entity and ID exists; call after every `add_custom`."""
        if entity in self.custom_entities:
            self._add("owner_seen", (entity, sql_key(owner)))

    def set_patient_location(self, patient: int, location: int) -> None:
        """A patient's home location (0 when none); a later row of the same ID wins."""
        self._add("patient", (sql_key(patient), sql_key(location)))

    def set_plan_location(self, plan: int, location: int | None) -> None:
        """A plan's location; the plan exists even without lines."""
        self._add("plan", (sql_key(plan), None if location is None else sql_key(location)))

    def add_plan_line(
        self, plan: int, stage: str, code: str | None, tooth: str | None, fee: str | None
    ) -> None:
        """A (not deleted) procedure line of a plan: its stage option, code, raw tooth and fee."""
        self._add("plan_line", (sql_key(plan), stage, code, tooth, fee))

    def add_claim(self, policy: int, sort: str, claim: int, status: str) -> None:
        """A claim of a policy: its date of service for sorting and its status option."""
        self._add("claim", (sql_key(policy), sort, sql_key(claim), status))

    def add_referral(
        self, patient: int, sort: str, referral: int, option: str, detail: str
    ) -> None:
        """An incoming referral of a patient: sort date, ID, source option and detail line."""
        self._add("referral", (sql_key(patient), sort, sql_key(referral), option, detail))

    # -- shared emails: the first holder of the best rank (head of family, lowest ID) wins --

    def offer_email(self, address: str, patient: int, is_head: bool) -> None:
        """A patient's email: it becomes theirs when they outrank its current holder."""
        rank = (0 if is_head else 1, patient)
        holder = self._email_holder(address)
        if holder is None or rank < (self._holder_rank(holder), holder):
            self._email_owner[address] = patient
            self._email_rank[patient] = rank[0]
            if len(self._email_owner) + len(self._email_rank) >= _EMAIL_BATCH:
                self._flush_emails()

    def _email_holder(self, address: str) -> int | None:
        holder = self._email_owner.get(address)
        if holder is None:
            row = self._conn.execute(
                "SELECT patient FROM email WHERE address = ?", (address,)
            ).fetchone()
            holder = None if row is None else _int(row[0])
        return holder

    def _holder_rank(self, holder: int) -> int:
        rank = self._email_rank.get(holder)
        if rank is None:
            row = self._conn.execute(
                "SELECT rank FROM email_rank WHERE patient = ?", (sql_key(holder),)
            ).fetchone()
            rank = 1 if row is None else int(row[0])
        return rank

    def _flush_emails(self) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO email VALUES (?, ?)",
            ((address, sql_key(p)) for address, p in self._email_owner.items()),
        )
        self._conn.executemany(
            "INSERT OR REPLACE INTO email_rank VALUES (?, ?)",
            ((sql_key(p), rank) for p, rank in self._email_rank.items()),
        )
        self._email_owner.clear()
        self._email_rank.clear()

    # -- the read side ---------------------------------------------------------------------

    def finish(self, numbering_of: Callable[[int | None], str]) -> ContextLookups:
        """Index the facts and return the mappings the transforms read.

        `numbering_of` gives a location's tooth numbering (the plan lines' teeth are read
        with their plan's).
        """
        self._flush()
        self._conn.executescript(_INDEXES)
        self._conn.execute(
            "INSERT INTO found SELECT DISTINCT c.entity, c.owner FROM custom c "
            "JOIN owner_seen o ON o.entity = c.entity AND o.owner = c.owner"
        )
        self._conn.execute("DELETE FROM owner_seen")
        self._conn.commit()
        entities = frozenset(self.custom_entities)
        return ContextLookups(
            custom=OwnerLookup(self._custom, entities),
            custom_owner_found=OwnerLookup(self._found, entities),
            patient_location=IdLookup(self._locations, self._keys("SELECT id FROM patient")),
            email_owner=TextLookup(self._email, self._text_keys("SELECT address FROM email")),
            referrals=IdLookup(
                self._referrals, self._keys("SELECT DISTINCT patient FROM referral")
            ),
            claims=IdLookup(self._claims, self._keys("SELECT DISTINCT policy FROM claim")),
            plans=IdLookup(
                lambda low, high: self._plans(low, high, numbering_of),
                self._keys("SELECT id FROM plan UNION SELECT plan FROM plan_line"),
            ),
        )

    def close(self) -> None:
        """Close and delete the scratch database."""
        self._conn.close()

    def _rows(self, sql: str, *args: Any) -> sqlite3.Cursor:
        return self._conn.execute(sql, [*args[:-2], sql_key(args[-2]), sql_key(args[-1])])

    def _keys(self, sql: str) -> Callable[[], Iterator[int]]:
        return lambda: (_int(key) for (key,) in self._conn.execute(sql))

    def _text_keys(self, sql: str) -> Callable[[], Iterator[str]]:
        return lambda: (str(key) for (key,) in self._conn.execute(sql))

    def _custom(self, entity: str) -> IdLookup[list[CustomValue]]:
        def fetch(low: int, high: int) -> dict[int, list[CustomValue]]:
            found: dict[int, list[CustomValue]] = {}
            for owner, key, label, kind, value in self._rows(
                "SELECT owner, key, label, kind, value FROM custom "
                "WHERE entity = ? AND owner BETWEEN ? AND ? ORDER BY owner, rowid",
                entity,
                low,
                high,
            ):
                found.setdefault(_int(owner), []).append(CustomValue(key, label, kind, value))
            return found

        keys = self._keys_of("SELECT DISTINCT owner FROM custom WHERE entity = ?", entity)
        return IdLookup(fetch, keys)

    def _found(self, entity: str) -> IdLookup[bool]:
        def fetch(low: int, high: int) -> dict[int, bool]:
            sql = "SELECT owner FROM found WHERE entity = ? AND owner BETWEEN ? AND ?"
            return {_int(owner): True for (owner,) in self._rows(sql, entity, low, high)}

        return IdLookup(fetch, self._keys_of("SELECT owner FROM found WHERE entity = ?", entity))

    def _keys_of(self, sql: str, entity: str) -> Callable[[], Iterator[int]]:
        return lambda: (_int(key) for (key,) in self._conn.execute(sql, (entity,)))

    def _locations(self, low: int, high: int) -> dict[int, int]:
        sql = "SELECT id, location FROM patient WHERE id BETWEEN ? AND ?"
        return {_int(key): _int(location) for key, location in self._rows(sql, low, high)}

    def _email(self, address: str) -> int | None:
        row = self._conn.execute("SELECT patient FROM email WHERE address = ?", (address,))
        found = row.fetchone()
        return None if found is None else _int(found[0])

    def _referrals(self, low: int, high: int) -> dict[int, ReferralSummary]:
        found: dict[int, ReferralSummary] = {}
        for patient, sort, referral, option, detail in self._rows(
            "SELECT patient, sort, referral, option, detail FROM referral "
            "WHERE patient BETWEEN ? AND ? ORDER BY patient, rowid",
            low,
            high,
        ):
            summary = found.setdefault(_int(patient), ReferralSummary())
            order = (sort, _int(referral))
            if order < summary.first_sort or not summary.source_option:
                summary.first_sort, summary.source_option = order, option
            summary.details.append((order, detail))
        for summary in found.values():
            summary.details.sort()
        return found

    def _claims(self, low: int, high: int) -> dict[int, ClaimSummary]:
        found: dict[int, ClaimSummary] = {}
        for policy, sort, claim, status in self._rows(
            "SELECT policy, sort, claim, status FROM claim "
            "WHERE policy BETWEEN ? AND ? ORDER BY policy, rowid",
            low,
            high,
        ):
            summary = found.setdefault(_int(policy), ClaimSummary())
            summary.count += 1
            order = (sort, _int(claim))
            if order > summary.last_sort:
                summary.last_sort, summary.last_status = order, status
        return found

    def _plans(
        self, low: int, high: int, numbering_of: Callable[[int | None], str]
    ) -> dict[int, PlanSummary]:
        found: dict[int, PlanSummary] = {}
        for plan, location in self._rows(
            "SELECT id, location FROM plan WHERE id BETWEEN ? AND ?", low, high
        ):
            found[_int(plan)] = PlanSummary(location_id=_optional(location))
        for plan, stage, code, tooth, fee in self._rows(
            "SELECT plan, stage, code, tooth, fee FROM plan_line "
            "WHERE plan BETWEEN ? AND ? ORDER BY plan, rowid",
            low,
            high,
        ):
            summary = found.setdefault(_int(plan), PlanSummary())
            _add_line(summary, stage, code, tooth, fee, numbering_of(summary.location_id))
        return found


def _add_line(
    summary: PlanSummary,
    stage: str,
    code: str | None,
    tooth_text: str | None,
    fee: str | None,
    numbering: str,
) -> None:
    summary.stages.add(stage)
    if code is not None:
        summary.codes.add(code)
    try:
        tooth = parse_tooth(tooth_text, numbering=numbering)
        summary.line_fee_cents += parse_money(fee) or 0
    except ValueParseError:
        tooth = None
    if tooth is not None:
        summary.teeth.add(tooth.universal)
    summary.lines += 1


def _optional(key: int | str | None) -> int | None:
    return None if key is None else _int(key)


def _int(key: int | str) -> int:
    """A key read back: integers as stored, those beyond 64 bits from their text."""
    return key if isinstance(key, int) else int(key)

"""`ferry plan`: the pre-flight check before a cutover.

Records per entity (from the store, plus the export's rows the local stages have not read
yet: an estimate until they ran, since some rows become no record and some several), the
requests the load and the verification will take at the configured batch size, the time
that takes under the configured rate-limit budget (the tightest window decides:
each window allows `limit` requests per `seconds`, so N requests need N x seconds / limit),
and every finding that stands in the way, each with what to do about it.

The checks that need other parts are passed in: the mapping gate as a callable (it raises a
FerryError naming the problem), the sample approval as a callable, and the schema plan and
member report as computed against Twenty (`check_destination`), or None when not checked.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import msgspec

from core.errors import FerryError
from core.members import MemberReport, ProviderContact, check_members
from core.ports.destination import Destination, MetadataStore
from core.ports.source import Source
from core.rate_limit import Window, parse_windows
from core.schema import SchemaPlan, plan_workspace
from core.schema_spec import SchemaSpec
from core.source_audit.readiness import absent_files, file_label

__all__ = [
    "NOT_RECORDS",
    "EntityPlan",
    "Finding",
    "Plan",
    "PlanInputs",
    "check_destination",
    "estimate_seconds",
    "make_plan",
    "requests_for",
]

Severity = Literal["blocker", "warning"]
CountedFrom = Literal["store", "export", "store and export"]
# `unread`: export rows the local stages have not read yet (each may become one record).
# `rolled_back`: undone in Twenty, still in the source: `ferry run` migrates it again.
TO_SEND = (
    "unread", "extracted", "transformed", "validated", "loading", "load_failed", "rolled_back",
)  # fmt: skip
IN_TWENTY = ("loaded", "verified", "verify_failed")
# Files whose rows are never sent as records of their own, and what becomes of them.
NOT_RECORDS = {
    "provider": "matched to workspace members (`ferry members check`), not sent",
    "custom_field": "folded into the records they describe, not sent on their own",
}
IDS_PER_LOOKUP = 100  # ids per read-back request (the Twenty client's filter size)


class Finding(msgspec.Struct, frozen=True):
    """Something in the way: a code, what it is, what to do; blockers stop `ferry run`."""

    severity: Severity
    code: str
    what: str
    fix: str


class EntityPlan(msgspec.Struct, frozen=True, kw_only=True):
    """One entity: records still to send, already in Twenty, refused; requests needed;
    `not_sent`: unread rows of a file that makes no records of its own (NOT_RECORDS)."""

    entity: str
    to_send: int
    in_twenty: int = 0
    rejected: int = 0
    skipped: int = 0
    load_requests: int = 0
    verify_requests: int = 0
    not_sent: int = 0


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """The pre-flight answer: what will be sent, how long it takes, what stands in the way."""

    counted_from: CountedFrom
    batch_size: int
    rate_limit: str
    tightest_window: str
    entities: list[EntityPlan]
    load_requests: int
    verify_requests: int
    load_seconds: float
    verify_seconds: float
    findings: list[Finding]

    @property
    def is_ready(self) -> bool:
        """True when nothing blocks `ferry run`."""
        return not any(f.severity == "blocker" for f in self.findings)


class PlanInputs(msgspec.Struct, frozen=True, kw_only=True):
    """What the plan is made from (each check None when it was not made)."""

    batch_size: int = 60
    rate_limit: str = "100/60s"
    source: Source | None = None
    mapping_check: Callable[[], Any] | None = None
    sample_approved: Callable[[], bool] | None = None
    schema: SchemaPlan | None = None
    members: MemberReport | None = None


def requests_for(records: int, per_request: int) -> int:
    """Requests needed for `records` at `per_request` records each."""
    return math.ceil(records / per_request) if records > 0 else 0


def _tightest(windows: Iterable[Window]) -> Window:
    return min(windows, key=lambda w: w.limit / w.seconds)


def estimate_seconds(requests: int, rate_limit: str) -> float:
    """Seconds `requests` take under the budget, at the tightest window's steady rate.

    Raises:
        ConfigError: the budget text does not parse.
    """
    window = _tightest(parse_windows(rate_limit))
    return requests * window.seconds / window.limit


def _entities_from_store(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for entity, state, count in conn.execute(
        "SELECT entity, state, COUNT(*) FROM record_state GROUP BY entity, state"
    ):
        counts.setdefault(entity, {})[state] = count
    return counts


def _entity_plan(entity: str, states: dict[str, int], batch: int) -> EntityPlan:
    to_send = sum(states.get(s, 0) for s in TO_SEND)
    in_twenty = sum(states.get(s, 0) for s in IN_TWENTY)
    return EntityPlan(
        entity=entity,
        to_send=to_send,
        in_twenty=in_twenty,
        rejected=states.get("rejected", 0),
        skipped=states.get("skipped", 0),
        load_requests=requests_for(to_send, batch),
        verify_requests=requests_for(to_send + in_twenty, IDS_PER_LOOKUP),
        not_sent=states.get("not_sent", 0),
    )


def _add_unread(states: dict[str, dict[str, int]], source: Source) -> CountedFrom:
    """Add the export's rows the local stages have not read yet (state `unread`)."""
    had_records = bool(states)
    unread_any = False
    for file in source.inventory():
        entity = states.setdefault(file.entity, {})
        unread = (file.rows or 0) - sum(entity.values())
        if unread > 0:
            state = "not_sent" if file.entity in NOT_RECORDS else "unread"
            entity[state] = entity.get(state, 0) + unread
            unread_any = True
    if not had_records:
        return "export"
    return "store and export" if unread_any else "store"


def make_plan(conn: sqlite3.Connection, inputs: PlanInputs) -> Plan:
    """The plan: counts, requests, durations and findings.

    Raises:
        ConfigError: the rate-limit budget does not parse.
    """
    states = _entities_from_store(conn)
    counted_from: CountedFrom = "store"
    if inputs.source is not None:
        counted_from = _add_unread(states, inputs.source)
    entities = [_entity_plan(e, s, inputs.batch_size) for e, s in states.items()]
    load = sum(e.load_requests for e in entities)
    verify = sum(e.verify_requests for e in entities)
    window = _tightest(parse_windows(inputs.rate_limit))
    return Plan(
        counted_from=counted_from,
        batch_size=inputs.batch_size,
        rate_limit=inputs.rate_limit,
        tightest_window=f"{window.limit}/{window.seconds:g}s",
        entities=entities,
        load_requests=load,
        verify_requests=verify,
        load_seconds=estimate_seconds(load, inputs.rate_limit),
        verify_seconds=estimate_seconds(verify, inputs.rate_limit),
        findings=_findings(conn, inputs, entities),
    )


def _findings(
    conn: sqlite3.Connection, inputs: PlanInputs, entities: list[EntityPlan]
) -> list[Finding]:
    found = _mapping_findings(inputs) + _absent_findings(inputs) + _sample_findings(inputs)
    found += _schema_findings(inputs.schema) + _member_findings(inputs.members)
    return found + _record_findings(conn, entities)


def _mapping_findings(inputs: PlanInputs) -> list[Finding]:
    if inputs.mapping_check is None:
        return [Finding("warning", "MAPPING_NOT_CHECKED", "the mapping was not checked",
                        "run `ferry plan` in an initialised work directory")]  # fmt: skip
    try:
        inputs.mapping_check()
    except FerryError as error:
        return [Finding("blocker", "MAPPING", str(error),
                        "review mapping.toml, then `ferry map confirm`")]  # fmt: skip
    return []


def _absent_findings(inputs: PlanInputs) -> list[Finding]:
    absent = absent_files(inputs.source) if inputs.source is not None else ()
    if not absent:
        return []
    names = ", ".join(file_label(entity) for entity in absent)
    return [Finding("warning", "FILES_ABSENT", f"absent from the export: {names}",
                    "nothing of these is migrated; a run needs the absence acknowledged at "
                    "`ferry map confirm --allow-missing NAME`")]  # fmt: skip


def _sample_findings(inputs: PlanInputs) -> list[Finding]:
    if inputs.sample_approved is None or inputs.sample_approved():
        return []
    return [
        Finding("blocker", "SAMPLE_NOT_APPROVED",
                "no approved sample for the current mapping",
                "run `ferry sample`, read reports/sample-diff.html, then `ferry sample approve` "
                "(or run with --without-sample-approval)")
    ]  # fmt: skip


def _schema_findings(schema: SchemaPlan | None) -> list[Finding]:
    if schema is None:
        return [Finding("warning", "SCHEMA_NOT_CHECKED", "Twenty's data model was not checked",
                        "give --twenty-url (or set it in ferry.toml) and the API key")]  # fmt: skip
    found = [
        Finding("blocker", "SCHEMA_CONFLICT", c.describe(),
                "change the field in Twenty or the mapping; see `ferry schema plan`")
        for c in schema.conflicts
    ]  # fmt: skip
    if schema.changes:
        names = sorted({c.object_name for c in schema.changes})
        found.append(
            Finding("blocker", "SCHEMA_MISSING",
                    f"{len(schema.changes)} object(s)/field(s) missing in Twenty "
                    f"({', '.join(names)})",
                    "run `ferry schema apply` (or `ferry schema checklist` for an admin)")
        )  # fmt: skip
    return found


def _member_findings(report: MemberReport | None) -> list[Finding]:
    if report is None:
        return []
    found = []
    if report.name_mismatches:
        codes = ", ".join(report.name_mismatches)
        found.append(
            Finding("warning", "MEMBERS_NAMES_DISAGREE",
                    f"providers {codes} matched a member by email whose name differs",
                    "check them with `ferry members check`; map a wrong one with "
                    "`ferry config set members.CODE EMAIL`")
        )  # fmt: skip
    if not report.defaulted:
        return found
    codes = ", ".join(report.defaulted)
    if report.placeholder is None:
        return [
            *found,
            Finding("blocker", "MEMBERS_UNMATCHED",
                    f"providers {codes} match no workspace member and there is no placeholder "
                    f"owner ({report.placeholder_problem})",
                    "invite them to Twenty with their export email, map them with "
                    "`ferry config set members.CODE EMAIL`, or set a placeholder with "
                    "`ferry config set run.placeholder_owner EMAIL`; see `ferry members check`"),
        ]  # fmt: skip
    return [
        *found,
        Finding("warning", "MEMBERS_DEFAULTED",
                f"providers {codes} match no member: their records go to "
                f"{report.placeholder.email}",
                "invite them to Twenty if their records should be theirs, or map them with "
                "`ferry config set members.CODE EMAIL`"),
    ]  # fmt: skip


def _record_findings(conn: sqlite3.Connection, entities: list[EntityPlan]) -> list[Finding]:
    found = []
    codes = conn.execute(
        "SELECT last_error_code, COUNT(*) FROM record_state WHERE state = 'rejected' "
        "GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    rejected = sum(e.rejected for e in entities)
    if rejected:
        detail = ", ".join(f"{code or 'REJECTED'} {n}" for code, n in codes)
        found.append(
            Finding("warning", "ROWS_REJECTED", f"{rejected} row(s) rejected ({detail})",
                    "fix them in Dental-Exec and re-export, or accept them: keys and codes "
                    "are in reports/reconciliation.md (`ferry verify`)")
        )  # fmt: skip
    return found


async def check_destination(
    spec: SchemaSpec,
    metadata: MetadataStore,
    destination: Destination,
    providers: Iterable[ProviderContact],
    placeholder: str | None,
    mapped: Mapping[str, str] | None = None,
) -> tuple[SchemaPlan, MemberReport]:
    """The schema plan and the member report, read from Twenty (`mapped`: the `[members]`
    table of ferry.toml)."""
    schema = await plan_workspace(spec, metadata)
    members = await check_members(providers, destination, placeholder, mapped)
    return schema, members

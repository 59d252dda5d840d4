"""`ferry verify` as one call: a recorded verification pass, then the reconciliation report.

Every migrated record is read back and compared (`core.pipeline.verify`), then every record
of the store is reconciled against the export's row counts (`core.reports.reconciliation`)
and `reports/reconciliation.md` is written. The export is optional: without it the source
side of the reconciliation is left out and said so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path

import msgspec

from core.export_format import ENTITIES
from core.mapping.gate import confirmed_absent
from core.pipeline.verify import VerifySummary, verify_run
from core.ports.destination import Destination
from core.ports.source import Source, SourceRow
from core.reports.files import write_private
from core.reports.reconciliation import Reconciliation, reconcile
from core.reports.reconciliation_render import render_reconciliation
from core.scratch import open_scratch
from core.source_audit.readiness import absent_files
from core.status import deletes_waiting
from core.workspace import Workspace

__all__ = [
    "RECONCILIATION_NAME",
    "SourceCount",
    "VerificationOutcome",
    "count_source_rows",
    "is_settled",
    "reconcile_workspace",
    "source_row_counts",
    "verify_workspace",
]

RECONCILIATION_NAME = "reconciliation.md"


class VerificationOutcome(msgspec.Struct, kw_only=True):
    """The verification run, what it found, the reconciliation and where it was written."""

    run_id: str
    summary: VerifySummary
    reconciliation: Reconciliation
    report: Path

    deletes_waiting: int = 0

    @property
    def is_clean(self) -> bool:
        """True when, and only when, Twenty holds what the source as it stands says: every
        record read back as sent, the reconciliation adds up with nothing left to do in any
        entity, and no record removed or deleted in the source is still live in Twenty."""
        return self.summary.failed == 0 and is_settled(self.reconciliation, self.deletes_waiting)


def is_settled(reconciliation: Reconciliation, deletes_waiting: int) -> bool:
    """True when the reconciliation adds up with nothing left to do in any entity and no
    record removed or deleted in the source is still live in Twenty."""
    return (
        reconciliation.adds_up
        and all(e.is_done for e in reconciliation.entities)
        and deletes_waiting == 0
    )


def source_row_counts(source: Source) -> dict[str, int]:
    """Data rows per entity in the export (one streaming pass when not read yet)."""
    counts: dict[str, int] = {}
    for file in source.inventory():
        counts[file.entity] = counts.get(file.entity, 0) + (file.rows or 0)
    return counts


class SourceCount(msgspec.Struct, frozen=True, kw_only=True):
    """The source side of the reconciliation, or why it could not be counted.

    Attributes:
        rows: per entity, the rows of the source as it stands (None: not counted).
        problem: why it was not counted (a path or a reason, never patient data).
    """

    rows: dict[str, int] | None = None
    problem: str = ""
    absent: tuple[str, ...] = ()  # entities with no file in the first (full) export


def count_source_rows(exports: Sequence[tuple[str, Source | None]]) -> SourceCount:
    """Rows per entity of the source as it stands, read from the export files themselves.

    `exports` are the first export and every delta applied since, in order, each with its
    location (None when it cannot be opened). Every key counts once across them (a delta's
    changed row is a new version of a key, not a new row); a row without a readable key, and
    a key repeated within one export, count as rows of their own, as the local stages give
    them streams of their own. Counted independently of the store, so that the
    reconciliation compares two numbers computed apart.
    """
    missing = [location for location, source in exports if source is None]
    if missing or not exports:
        where = ", ".join(missing) or "no export recorded"
        return SourceCount(problem=f"cannot check: an export is not where it was read ({where})")
    sources = [source for _, source in exports if source is not None]
    absent = absent_files(sources[0])
    if len(sources) == 1:
        return SourceCount(rows=source_row_counts(sources[0]), absent=absent)
    return SourceCount(rows=_union_counts(sources), absent=absent)


def _union_counts(sources: Sequence[Source]) -> dict[str, int]:
    scratch = open_scratch()
    try:
        scratch.execute("CREATE TABLE known (k TEXT PRIMARY KEY) WITHOUT ROWID")
        scratch.execute("CREATE TABLE here (k TEXT PRIMARY KEY) WITHOUT ROWID")
        counts: dict[str, int] = {}
        for source in sources:
            for entity in source.entities():
                rows = source.rows(entity)
                while chunk := list(islice(rows, 2000)):
                    counts[entity] = counts.get(entity, 0) + _count_chunk(scratch, chunk)
            scratch.execute("INSERT OR IGNORE INTO known SELECT k FROM here")
            scratch.execute("DELETE FROM here")
        return counts
    finally:
        scratch.close()


def _count_chunk(scratch: sqlite3.Connection, chunk: list[SourceRow]) -> int:
    """Rows of the chunk that are rows of their own (see `count_source_rows`)."""
    count = 0
    for row in chunk:
        sid = row.stream_id
        if sid is None:
            count += 1
            continue
        if scratch.execute("SELECT 1 FROM here WHERE k = ?", (sid,)).fetchone() is not None:
            count += 1  # repeated within this export: a stream of its own
            continue
        scratch.execute("INSERT INTO here VALUES (?)", (sid,))
        if scratch.execute("SELECT 1 FROM known WHERE k = ?", (sid,)).fetchone() is None:
            count += 1
    return count


def reconcile_workspace(workspace: Workspace, counted: SourceCount) -> Reconciliation:
    """The reconciliation `ferry verify` reports, from the store and the counted source
    (`ferry report summary` and `ferry report bundle` show this same one).

    Raises:
        ReconciliationError: the store's counts do not add up (a broken projection).
    """
    acknowledged = set(confirmed_absent(workspace.store))
    return reconcile(
        workspace.store.connection,
        counted.rows,
        order=ENTITIES,
        source_problem=counted.problem,
        absent={entity: entity in acknowledged for entity in counted.absent},
    )


async def verify_workspace(
    workspace: Workspace,
    destination: Destination,
    now: datetime,
    *,
    entity: str | None = None,
    source_rows: dict[str, int] | None = None,
    on_page: Callable[[int], None] = lambda n: None,
    source_problem: str = "",
    source_absent: tuple[str, ...] = (),
) -> VerificationOutcome:
    """Verify (one entity or all), reconcile, and write `reports/reconciliation.md`.

    Raises:
        ConcurrencyError: another process moved a record while it was being verified.
        ReconciliationError: the store's counts do not add up (a broken projection).
    """
    run_id, summary = await verify_run(workspace.store, destination, now, entity, on_page)
    counted = SourceCount(rows=source_rows, problem=source_problem, absent=source_absent)
    result = reconcile_workspace(workspace, counted)
    title = "Reconciliation" + ("" if source_rows is not None else " (cannot check the source)")
    path = write_private(
        workspace.reports / RECONCILIATION_NAME, render_reconciliation(result, title=title)
    )
    return VerificationOutcome(
        run_id=run_id,
        summary=summary,
        reconciliation=result,
        report=path,
        deletes_waiting=deletes_waiting(workspace.store.connection),
    )

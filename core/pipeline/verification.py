"""`ferry verify` as one call: a recorded verification pass, then the reconciliation report.

Every migrated record is read back and compared (`core.pipeline.verify`), then every record
of the store is reconciled against the export's row counts (`core.reports.reconciliation`)
and `reports/reconciliation.md` is written. The export is optional: without it the source
side of the reconciliation is left out and said so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import msgspec

from core.export_format import ENTITIES
from core.pipeline.verify import VerifySummary, verify_run
from core.ports.destination import Destination
from core.ports.source import Source
from core.reports.files import write_private
from core.reports.reconciliation import Reconciliation, reconcile
from core.reports.reconciliation_render import render_reconciliation
from core.workspace import Workspace

__all__ = ["RECONCILIATION_NAME", "VerificationOutcome", "source_row_counts", "verify_workspace"]

RECONCILIATION_NAME = "reconciliation.md"


class VerificationOutcome(msgspec.Struct, kw_only=True):
    """The verification run, what it found, the reconciliation and where it was written."""

    run_id: str
    summary: VerifySummary
    reconciliation: Reconciliation
    report: Path

    @property
    def is_clean(self) -> bool:
        """True when every record read back as sent and the reconciliation adds up."""
        return self.summary.failed == 0 and self.reconciliation.adds_up


def source_row_counts(source: Source) -> dict[str, int]:
    """Data rows per entity in the export (one streaming pass when not read yet)."""
    counts: dict[str, int] = {}
    for file in source.inventory():
        counts[file.entity] = counts.get(file.entity, 0) + (file.rows or 0)
    return counts


async def verify_workspace(
    workspace: Workspace,
    destination: Destination,
    now: datetime,
    *,
    entity: str | None = None,
    source_rows: dict[str, int] | None = None,
    on_page: Callable[[int], None] = lambda n: None,
) -> VerificationOutcome:
    """Verify (one entity or all), reconcile, and write `reports/reconciliation.md`.

    Raises:
        ConcurrencyError: another process moved a record while it was being verified.
        ReconciliationError: the store's counts do not add up (a broken projection).
    """
    run_id, summary = await verify_run(workspace.store, destination, now, entity, on_page)
    result = reconcile(workspace.store.connection, source_rows, order=ENTITIES)
    title = "Reconciliation" + ("" if source_rows else " (export not counted)")
    path = write_private(
        workspace.reports / RECONCILIATION_NAME, render_reconciliation(result, title=title)
    )
    return VerificationOutcome(run_id=run_id, summary=summary, reconciliation=result, report=path)

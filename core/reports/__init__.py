"""Reports an operator and an auditor read: reconciliation, run reports, the sample diff.

They show keys and codes, never patient values; the sample diff is the one exception (a
field-level check the operator asks for) and says so at its top. Every file is written
owner-only under the work directory's `reports/`.
"""

from __future__ import annotations

from core.reports.files import write_private
from core.reports.reconciliation import (
    CATEGORIES,
    EntityReconciliation,
    Reconciliation,
    ReconciliationError,
    reconcile,
)
from core.reports.reconciliation_render import (
    IDENTITY,
    reconciliation_data,
    render_reconciliation,
)
from core.reports.run_report import (
    RunFacts,
    StoreFacts,
    next_steps,
    render_run_report,
    run_facts,
    store_facts,
)

__all__ = [
    "CATEGORIES",
    "IDENTITY",
    "EntityReconciliation",
    "Reconciliation",
    "ReconciliationError",
    "RunFacts",
    "StoreFacts",
    "next_steps",
    "reconcile",
    "reconciliation_data",
    "render_reconciliation",
    "render_run_report",
    "run_facts",
    "store_facts",
    "write_private",
]

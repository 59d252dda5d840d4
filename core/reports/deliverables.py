"""`ferry report NAME`: the audit deliverables, each written owner-only into `reports/`.

Row reports (`audit-log`, `rejected`, `member-defaults`, `conflicts`) stream from the store
into Markdown, CSV or JSON lines; `reconciliation` reuses `core.reports.reconciliation`;
`rebuild-guide` is Markdown (its facts as JSON).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from core.errors import ConfigError
from core.reports.audit_log import AUDIT_COLUMNS, audit_log_rows
from core.reports.conflicts import CONFLICT_COLUMNS, conflict_rows
from core.reports.files import write_private
from core.reports.member_defaults import MEMBER_DEFAULT_COLUMNS, member_default_rows
from core.reports.rebuild_facts import collect_facts
from core.reports.rebuild_guide import render_rebuild_guide
from core.reports.reconciliation import CATEGORIES, reconcile
from core.reports.reconciliation_render import reconciliation_data, render_reconciliation
from core.reports.rejected import REJECTED_COLUMNS, rejected_rows
from core.reports.tabular import Format, open_private, write_rows

__all__ = ["REPORT_NAMES", "ReportRequest", "ReportWritten", "default_path", "write_report"]

Rows = Callable[[sqlite3.Connection, "ReportRequest"], Iterable[Mapping[str, Any]]]

_TABULAR: dict[str, tuple[tuple[str, ...], Rows, str]] = {
    "audit-log": (AUDIT_COLUMNS, lambda c, r: audit_log_rows(c), "Audit log"),
    "rejected": (REJECTED_COLUMNS, lambda c, r: rejected_rows(c), "Rejected records"),
    "member-defaults": (
        MEMBER_DEFAULT_COLUMNS,
        lambda c, r: member_default_rows(c, r.placeholder),
        "Default member assignments",
    ),
    "conflicts": (CONFLICT_COLUMNS, lambda c, r: conflict_rows(c), "Conflicts"),
}
REPORT_NAMES = (*_TABULAR, "reconciliation", "rebuild-guide")


class ReportRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Which report, in which format, where; what the store alone cannot tell."""

    name: str
    fmt: Format = "md"
    path: Path
    placeholder: str = ""
    source_rows: dict[str, int] | None = None


class ReportWritten(msgspec.Struct, frozen=True, kw_only=True):
    """A report on disk: where, and how many rows (None for a document)."""

    name: str
    path: Path
    rows: int | None = None


def default_path(reports: Path, name: str, fmt: Format) -> Path:
    """`reports/<name>.<md|csv|jsonl|json>`."""
    ext = "jsonl" if fmt == "json" and name in _TABULAR else fmt
    return reports / f"{name}.{ext}"


def write_report(conn: sqlite3.Connection, request: ReportRequest) -> ReportWritten:
    """Write one report owner-only and say where.

    Raises:
        ConfigError: unknown report name, or a format the report does not come in.
        ReconciliationError: the store's counts do not add up.
    """
    name, fmt = request.name, request.fmt
    if name in _TABULAR:
        columns, rows, title = _TABULAR[name]
        with open_private(request.path) as out:
            count = write_rows(out, rows(conn, request), columns, fmt, title=title)
        return ReportWritten(name=name, path=request.path, rows=count)
    if name == "reconciliation":
        return _reconciliation(conn, request)
    if name == "rebuild-guide":
        facts = collect_facts(conn)
        if fmt == "csv":
            raise ConfigError("rebuild-guide is a Markdown document: use --format md or json")
        text = (
            render_rebuild_guide(facts)
            if fmt == "md"
            else json.dumps(msgspec.to_builtins(facts), indent=2, sort_keys=True)
        )
        return ReportWritten(name=name, path=write_private(request.path, text))
    raise ConfigError(f"no report {name!r}; choose one of {', '.join(REPORT_NAMES)}")


def _reconciliation(conn: sqlite3.Connection, request: ReportRequest) -> ReportWritten:
    result = reconcile(conn, request.source_rows)
    if request.fmt == "md":
        text = render_reconciliation(result)
    elif request.fmt == "json":
        text = json.dumps(reconciliation_data(result), indent=2)
    else:
        columns = ("entity", "source_rows", "records", *CATEGORIES, "adds_up")
        entities = reconciliation_data(result)["entities"]
        with open_private(request.path) as out:
            count = write_rows(out, entities, columns, "csv")
        return ReportWritten(name=request.name, path=request.path, rows=count)
    return ReportWritten(name=request.name, path=write_private(request.path, text))

"""`ferry report summary` and `ferry report bundle`: the hand-off to the practice.

The summary is `reports/summary.html` (`core.reports.summary_html`). The bundle writes the
deliverables the store alone can give afresh into `reports/` (summary, reconciliation, audit
log per record and per event, member defaults, rejected records, conflicts, rebuild guide),
then zips them with every deliverable other commands left there (mapping document, source
audit, sample diff and its approval) and the latest anchor, plus `manifest.json` naming each
file's SHA-256 and size. The zip, and every file in it, is owner-only.

Every file holds keys, codes and counts only, except the sample diff, which holds patient
values by design (the operator's field-level check); the manifest marks it.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import msgspec

from core.pipeline.sample_approval import APPROVAL_NAME, DIFF_CSV, DIFF_HTML
from core.pipeline.verification import SourceCount, reconcile_workspace
from core.reports.audit_log import AUDIT_COLUMNS, audit_log_rows
from core.reports.conflicts import CONFLICT_COLUMNS, conflict_rows
from core.reports.event_log import EVENT_COLUMNS, event_rows
from core.reports.files import write_private
from core.reports.member_defaults import MEMBER_DEFAULT_COLUMNS, member_default_rows
from core.reports.rebuild_facts import collect_facts
from core.reports.rebuild_guide import render_rebuild_guide
from core.reports.reconciliation_render import render_reconciliation
from core.reports.rejected import REJECTED_COLUMNS, rejected_rows
from core.reports.summary import latest_anchor, summary_facts
from core.reports.summary_html import render_summary_html
from core.reports.tabular import open_private, write_rows
from core.status import deletes_waiting
from core.workspace import Workspace
from events.private_files import FILE_MODE

__all__ = [
    "BUNDLE_NAME",
    "MANIFEST_NAME",
    "SUMMARY_NAME",
    "BundleEntry",
    "BundleWritten",
    "write_bundle",
    "write_summary",
]

SUMMARY_NAME = "summary.html"
BUNDLE_NAME = "handoff.zip"
MANIFEST_NAME = "manifest.json"
# Deliverables other commands write into reports/, taken when present (patterns, in order).
_FOUND = ("mapping.md", "mapping.html", "source-audit*", "fixup-*.csv", "schema-checklist.*",
          DIFF_HTML, DIFF_CSV, "sample-diff-shareable.*", APPROVAL_NAME)  # fmt: skip
_PATIENT_VALUES = (DIFF_HTML, DIFF_CSV)


class BundleEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One file of the bundle, as the manifest lists it."""

    file: str
    sha256: str
    size: int
    patient_values: bool = False


class BundleWritten(msgspec.Struct, frozen=True, kw_only=True):
    """The zip written and what it holds (the manifest's entries)."""

    path: Path
    entries: list[BundleEntry]


def write_summary(
    workspace: Workspace, counted: SourceCount, *, generated_at: str, out: Path | None = None
) -> Path:
    """Write the owner's summary page (default `reports/summary.html`), owner-only.

    Raises:
        ReconciliationError: the store's counts do not add up (a broken projection).
    """
    conn = workspace.store.connection
    facts = summary_facts(
        conn,
        reconcile_workspace(workspace, counted),
        workdir=workspace.workdir,
        generated_at=generated_at,
        deletes_waiting=deletes_waiting(conn),
    )
    return write_private(out or workspace.reports / SUMMARY_NAME, render_summary_html(facts))


def write_bundle(
    workspace: Workspace, counted: SourceCount, *, generated_at: str, out: Path | None = None
) -> BundleWritten:
    """Write the deliverables afresh and zip every one that exists (default
    `reports/handoff.zip`), with `manifest.json`; all owner-only.

    Raises:
        ReconciliationError: the store's counts do not add up (a broken projection).
    """
    reports = workspace.reports
    files = [write_summary(workspace, counted, generated_at=generated_at)]
    files += _write_fresh(workspace, counted)
    for pattern in _FOUND:
        files += sorted(p for p in reports.glob(pattern) if p.is_file() and p not in files)
    members = [(path.name, path) for path in files]
    anchor = latest_anchor(workspace.workdir)
    if anchor is not None:
        members.append((f"anchors/{anchor.name}", anchor))
    path = out or reports / BUNDLE_NAME
    entries = _zip(path, members, generated_at)
    return BundleWritten(path=path, entries=entries)


def _write_fresh(workspace: Workspace, counted: SourceCount) -> list[Path]:
    """The deliverables the store gives, rewritten now into `reports/`."""
    conn, reports = workspace.store.connection, workspace.reports
    result = reconcile_workspace(workspace, counted)
    written = [write_private(reports / "reconciliation.md", render_reconciliation(result))]
    placeholder = workspace.config.run.placeholder_owner
    tables = (
        ("audit-log.csv", AUDIT_COLUMNS, audit_log_rows(conn)),
        ("member-defaults.csv", MEMBER_DEFAULT_COLUMNS, member_default_rows(conn, placeholder)),
        ("rejected.csv", REJECTED_COLUMNS, rejected_rows(conn)),
        ("conflicts.csv", CONFLICT_COLUMNS, conflict_rows(conn)),
    )
    for name, columns, rows in tables:
        with open_private(reports / name) as csv_out:
            write_rows(csv_out, rows, columns, "csv")
        written.append(reports / name)
    with open_private(reports / "event-log.jsonl") as jsonl:
        write_rows(jsonl, event_rows(conn), EVENT_COLUMNS, "json")
    written.append(reports / "event-log.jsonl")
    guide = render_rebuild_guide(collect_facts(conn))
    written.append(write_private(reports / "rebuild-guide.md", guide))
    return written


def _zip(path: Path, members: list[tuple[str, Path]], generated_at: str) -> list[BundleEntry]:
    """Zip `members` (name in the zip, file) and a manifest into `path`, all owner-only."""
    stamp = _zip_time(generated_at)
    with open_private(path, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        for folder in sorted({name.rsplit("/", 1)[0] + "/" for name, _ in members if "/" in name}):
            entry = zipfile.ZipInfo(folder, date_time=stamp[:6])  # type: ignore[arg-type]
            entry.external_attr = (0o040700 << 16) | 0x10  # a directory, owner-only once unzipped
            zf.writestr(entry, b"")
        entries = [_copy(zf, name, source, stamp) for name, source in members]
        manifest = {
            "format": "ferry-bundle/1",
            "written_at": generated_at,
            "files": msgspec.to_builtins(entries),
        }
        _add(zf, MANIFEST_NAME, json.dumps(manifest, indent=2).encode() + b"\n", stamp)
    return entries


def _info(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp[:6])  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100000 | FILE_MODE) << 16  # a regular file, owner-only once unzipped
    return info


def _add(zf: zipfile.ZipFile, name: str, data: bytes, stamp: tuple[int, ...]) -> None:
    zf.writestr(_info(name, stamp), data)


def _copy(zf: zipfile.ZipFile, name: str, source: Path, stamp: tuple[int, ...]) -> BundleEntry:
    """Stream one file into the zip (an event log may be larger than memory), hashing it."""
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as read, zf.open(_info(name, stamp), "w", force_zip64=True) as write:
        while chunk := read.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            write.write(chunk)
    return BundleEntry(
        file=name, sha256=digest.hexdigest(), size=size, patient_values=name in _PATIENT_VALUES
    )


def _zip_time(instant: str) -> tuple[int, ...]:
    """`2026-12-03T19:30:00Z` -> (2026, 12, 3, 19, 30, 0) for the zip's entries."""
    digits = instant[:19].replace("-", " ").replace("T", " ").replace(":", " ").split()
    values = tuple(int(d) for d in digits)
    return values if len(values) == 6 and values[0] >= 1980 else (1980, 1, 1, 0, 0, 0)

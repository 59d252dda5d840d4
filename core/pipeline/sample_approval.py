"""Writing the sample's diff and checking the operator's approval against it.

The approval names the diff it approves by the SHA-256 of `reports/sample-diff.csv`, the sample
run and the mapping it ran with, so an approval never carries over to a different sample or a
changed mapping. `approve_sample` writes it to `reports/sample-approval.json` (owner-only);
`ferry sample approve` also appends it to the event log as `SampleApproved`
(core.pipeline.approval). `is_sample_approved` checks the file against the diff as it is now:
`ferry plan` asks it, and `ferry run` needs it and the event to agree with the confirmed
mapping.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec

from core.clock import isoformat_utc
from core.errors import FerryError
from core.pipeline.sample_diff import SampleDiff
from core.reports.files import write_private
from core.reports.sample_report import diff_hash, render_diff_csv, render_diff_html
from core.reports.sample_shareable import deidentify
from core.workspace import Workspace

__all__ = [
    "APPROVAL_NAME",
    "DIFF_CSV",
    "DIFF_HTML",
    "SHAREABLE_CSV",
    "SHAREABLE_HTML",
    "DiffInfo",
    "SampleApproval",
    "SampleApprovalError",
    "approve_sample",
    "is_sample_approved",
    "read_approval",
    "write_sample_diff",
]

DIFF_HTML = "sample-diff.html"
DIFF_CSV = "sample-diff.csv"
DIFF_INFO = "sample-diff.json"
SHAREABLE_HTML = "sample-diff-shareable.html"
SHAREABLE_CSV = "sample-diff-shareable.csv"
APPROVAL_NAME = "sample-approval.json"


class SampleApprovalError(FerryError):
    """The sample cannot be approved as it is (no diff, a changed diff, unaccepted differences)."""


class DiffInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What was written with the diff: its hash and counts, the run and the mapping."""

    run_id: str
    diff_hash: str
    records: int
    disagreements: int
    mapping_hash: str = ""


class SampleApproval(msgspec.Struct, frozen=True, kw_only=True):
    """An approval: which diff, by whom, when (the `SampleApproved` event carries the first four
    of these, without the time, which the event log stamps)."""

    run_id: str
    diff_hash: str
    user: str
    approved_at: str
    mapping_hash: str = ""
    records: int = 0
    disagreements: int = 0


def write_sample_diff(reports: Path, diff: SampleDiff, *, mapping_hash: str = "") -> DiffInfo:
    """Write `sample-diff.html`, `sample-diff.csv`, their info and the de-identified copies.

    Every file is owner-only; the `-shareable` pair holds no patient values and may be
    given to the practice owner."""
    csv_text = render_diff_csv(diff)
    info = DiffInfo(
        run_id=diff.run_id,
        diff_hash=diff_hash(csv_text),
        records=diff.records,
        disagreements=diff.disagreements,
        mapping_hash=mapping_hash,
    )
    write_private(reports / DIFF_CSV, csv_text)
    write_private(reports / DIFF_HTML, render_diff_html(diff))
    shareable = deidentify(diff)
    write_private(reports / SHAREABLE_CSV, render_diff_csv(shareable))
    page = render_diff_html(
        shareable, title="Sample field-level diff (de-identified)", shareable=True
    )
    write_private(reports / SHAREABLE_HTML, page)
    write_private(reports / DIFF_INFO, msgspec.json.format(msgspec.json.encode(info)).decode())
    return info


def _diff_info(reports: Path) -> DiffInfo:
    csv_path, info_path = reports / DIFF_CSV, reports / DIFF_INFO
    if not csv_path.exists() or not info_path.exists():
        raise SampleApprovalError(f"no sample diff in {reports}; run `ferry sample` first")
    info = msgspec.json.decode(info_path.read_bytes(), type=DiffInfo)
    if diff_hash(csv_path.read_bytes()) != info.diff_hash:
        raise SampleApprovalError(
            f"{csv_path} changed since `ferry sample` wrote it; run `ferry sample` again"
        )
    return info


def approve_sample(
    reports: Path, *, user: str, now: datetime, accept_differences: bool = False
) -> SampleApproval:
    """Record the operator's approval of the current sample diff.

    Raises:
        SampleApprovalError: no diff, a diff changed since it was written, or fields that did
            not read back as sent while `accept_differences` is False.
    """
    info = _diff_info(reports)
    if info.disagreements and not accept_differences:
        raise SampleApprovalError(
            f"{info.disagreements} field(s) of the sample did not read back as sent (rows "
            f"marked NO in {reports / DIFF_HTML}); fix the mapping and run `ferry sample` "
            "again, or approve with --accept-differences"
        )
    approval = SampleApproval(
        run_id=info.run_id,
        diff_hash=info.diff_hash,
        user=user,
        approved_at=isoformat_utc(now),
        mapping_hash=info.mapping_hash,
        records=info.records,
        disagreements=info.disagreements,
    )
    text = msgspec.json.format(msgspec.json.encode(approval)).decode()
    write_private(reports / APPROVAL_NAME, text)
    return approval


def read_approval(reports: Path) -> SampleApproval | None:
    """The recorded approval, or None."""
    path = reports / APPROVAL_NAME
    if not path.exists():
        return None
    try:
        return msgspec.json.decode(path.read_bytes(), type=SampleApproval)
    except msgspec.DecodeError:
        return None


def is_sample_approved(where: Workspace | Path, mapping_hash: str | None = None) -> bool:
    """True when the current sample diff is approved (and ran with `mapping_hash`, if given).

    `where` is the workspace or its reports folder.
    """
    reports = where.reports if isinstance(where, Workspace) else where
    approval = read_approval(reports)
    if approval is None:
        return False
    try:
        info = _diff_info(reports)
    except SampleApprovalError:
        return False
    if approval.diff_hash != info.diff_hash:
        return False
    return mapping_hash is None or approval.mapping_hash == mapping_hash

"""The sample diff against the sandbox: every field sent, read back, with its source columns."""

from __future__ import annotations

import csv
import io
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from adapters.twenty_sandbox import SandboxHandle
from core.pipeline.sample_approval import (
    SampleApprovalError,
    approve_sample,
    is_sample_approved,
    read_approval,
    write_sample_diff,
)
from core.pipeline.sample_diff import SampleDiff, build_sample_diff
from core.reports.sample_report import render_diff_csv, render_diff_html
from events.store import EventStore
from tests.pipeline.migrated import (
    Seed,
    client_for,
    load_entities,
    open_store,
    seed_rejected,
    seed_validated,
)

SOURCES = {
    "patient": {
        "name.firstName": ["first_name"],
        "name.lastName": ["last_name"],
        "emails": ["email"],
        "avatarUrl": ["city"],
    }
}
NOW = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)


def _seeds() -> list[Seed]:
    rows = [
        ("10480", "Laura", "Smith", "Laura.Smith@MAIL.example  ", "Springfield"),
        ("10481", "Zoë", "<script>alert(1)</script>", "zoe@mail.example", "=HYPERLINK(1)"),
    ]
    return [
        Seed(
            f"patient:{key}",
            "person",
            "people",
            {
                "name": {"firstName": first, "lastName": last},
                "emails": {"primaryEmail": email.strip()},
                "avatarUrl": city,
            },
            row={"first_name": first, "last_name": last, "email": email, "city": city},
        )
        for key, first, last, email, city in rows
    ]


@pytest.fixture
def sample_store(twenty_sandbox: SandboxHandle, tmp_path: Path) -> tuple[EventStore, Any]:
    store = open_store(tmp_path / "ferry.db")
    seed_validated(store, _seeds())
    seed_rejected(store, "patient:10482")
    load_entities(store, client_for(twenty_sandbox.base_url, twenty_sandbox.api_key), ["patient"])
    return store, twenty_sandbox


def _diff(store: EventStore, sandbox: SandboxHandle, corrupt: bool = False) -> SampleDiff:
    keys = {"patient": frozenset({"10480", "10481", "10482", "10499"})}

    async def main() -> SampleDiff:
        async with client_for(sandbox.base_url, sandbox.api_key) as client:
            if corrupt:
                dest = store.connection.execute(
                    "SELECT destination_id FROM record_state WHERE stream_id = 'patient:10480'"
                ).fetchone()[0]
                await client.update_one("people", dest, {"avatarUrl": "Shelbyville"})
            return await build_sample_diff(store.connection, client, keys, SOURCES, run_id="s1")

    return anyio.run(main)


def test_each_field_has_source_sent_read_back_and_agreement(
    sample_store: tuple[EventStore, SandboxHandle],
) -> None:
    diff = _diff(*sample_store, corrupt=True)
    rows = {(r.stream_id, r.field): r for r in diff.rows}
    email = rows[("patient:10480", "emails.primaryEmail")]
    assert email.source == "Laura.Smith@MAIL.example  "
    assert (email.sent, email.read, email.agrees) == (
        "Laura.Smith@MAIL.example", "laura.smith@mail.example", True,
    )  # fmt: skip
    city = rows[("patient:10480", "avatarUrl")]
    assert (city.source, city.sent, city.read, city.agrees) == (
        "Springfield", "Springfield", "Shelbyville", False,
    )  # fmt: skip
    assert rows[("patient:10482", "(record)")].note == "not sent: rejected (BAD_DATE)"
    assert rows[("patient:10482", "(record)")].agrees is None
    assert "did not reach it" in rows[("patient:10499", "(record)")].note
    assert (diff.records, diff.disagreements) == (4, 1)


def test_html_is_escaped_self_contained_and_warns_csv_is_safe_in_a_spreadsheet(
    sample_store: tuple[EventStore, SandboxHandle],
) -> None:
    diff = _diff(*sample_store)
    page = render_diff_html(diff)
    assert page.index("protected health information") < page.index("<table")
    # one script, the page's own filters, inline; the source's script is escaped text
    assert page.count("<script") == 1 and "<script src" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http" not in page.lower().replace('lang="en"', "")  # no external resource
    cells = list(csv.reader(io.StringIO(render_diff_csv(diff))))
    assert cells[0] == ["stream_id", "patient", "object", "field", "transform", "source",
                        "sent", "read_back", "transformed", "agrees", "note"]  # fmt: skip
    city = next(c for c in cells if c[0] == "patient:10481" and c[3] == "avatarUrl")
    assert city[5:8] == ["'=HYPERLINK(1)"] * 3 and city[8:10] == ["", "yes"]


def test_approval_needs_the_diff_as_written_and_accepted_differences(
    sample_store: tuple[EventStore, SandboxHandle], tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    with pytest.raises(SampleApprovalError, match="run `ferry sample` first"):
        approve_sample(reports, user="op", now=NOW)
    info = write_sample_diff(reports, _diff(*sample_store, corrupt=True), mapping_hash="m1")
    assert stat.S_IMODE((reports / "sample-diff.html").stat().st_mode) == 0o600
    assert not is_sample_approved(reports)
    with pytest.raises(SampleApprovalError, match="1 field"):
        approve_sample(reports, user="op", now=NOW)
    approval = approve_sample(reports, user="op", now=NOW, accept_differences=True)
    assert approval.diff_hash == info.diff_hash and approval.run_id == "s1"
    assert read_approval(reports) == approval
    assert is_sample_approved(reports) and is_sample_approved(reports, mapping_hash="m1")
    assert not is_sample_approved(reports, mapping_hash="m2")  # the mapping changed since
    with (reports / "sample-diff.csv").open("a", encoding="utf-8") as handle:
        handle.write("tampered\r\n")
    assert not is_sample_approved(reports)
    with pytest.raises(SampleApprovalError, match="changed since"):
        approve_sample(reports, user="op", now=NOW, accept_differences=True)


def test_a_clean_sample_is_approved_without_flags(
    sample_store: tuple[EventStore, SandboxHandle], tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    write_sample_diff(reports, _diff(*sample_store))
    assert approve_sample(reports, user="op", now=NOW).disagreements == 0
    assert is_sample_approved(reports)
    # a new sample replaces the diff: the old approval does not carry over
    write_sample_diff(reports, _diff(*sample_store, corrupt=True))
    assert not is_sample_approved(reports)

"""The sample diff as a reader sees it, in a real headless Chromium: the summaries first, the
two filters working (ticked, counted, unticked), the de-identified copy, and no request beyond
the file itself."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from adapters.twenty_sandbox import SandboxHandle
from core.pipeline.sample_approval import write_sample_diff
from core.pipeline.sample_diff import SampleDiff
from tests.browser import ReportPage
from tests.pipeline.migrated import (
    client_for,
    load_entities,
    open_store,
    seed_rejected,
    seed_validated,
)
from tests.pipeline.test_sample_diff import _diff, _seeds

T = TypeVar("T")

FAST = ("--rate-limit", "1000/1s")
FERRY = Path(sys.executable).parent / "ferry"
SMALL = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec" / "small_cp1252"


def _off_the_browser_thread(work: Callable[[], T]) -> T:
    """Run `work` in a thread of its own: playwright's sync API holds this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def _visible(report: ReportPage, selector: str) -> int:
    return int(report.page.locator(f"{selector}:visible").count())


def _tick(report: ReportPage, box: str) -> None:
    report.page.click(f"#{box}")


def test_a_real_sample_diff_reads_summary_first_and_filters_by_transform(
    twenty_sandbox: SandboxHandle, tmp_path: Path, report_page: ReportPage
) -> None:
    work, key = tmp_path / "work", twenty_sandbox.api_key
    for step in (
        ("init", "--source", str(SMALL), "--twenty-url", twenty_sandbox.base_url),
        ("map", "propose", str(SMALL)),
        ("map", "confirm", "--user", "op"),
        ("schema", "apply", "--no-probe", *FAST),
        ("sample", *FAST),
    ):
        # a real `ferry` process: the sample's Ctrl-C handling needs a main thread of its own
        done = subprocess.run(
            [str(FERRY), "--workdir", str(work), *step],
            env={**os.environ, "TWENTY_API_KEY": key},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (step, done.stdout, done.stderr)
    reports = work / "reports"
    rows = list(csv.DictReader(io.StringIO((reports / "sample-diff.csv").read_text())))
    report_page.open(reports / "sample-diff.html")
    page = report_page.page

    # the summaries come before the records; one row per object, people counted right
    headings = page.locator("h2").all_inner_texts()
    assert headings == ["Summary per object", "Summary per field", "Records"]
    objects = page.locator("table.objects tbody tr").all_inner_texts()
    people = {r["stream_id"] for r in rows if r["object"] == "people"}
    assert any(line.split("\t")[:2] == ["people", str(len(people))] for line in objects)
    assert len(objects) == len({r["object"] or r["stream_id"].split(":")[0] for r in rows})
    fields = page.locator("table.fields tbody tr").all_inner_texts()
    assert any(line.startswith("people\tbirthDate\tdate\t") for line in fields)

    total, transformed = len(rows), sum(r["transformed"] == "yes" for r in rows)
    assert _visible(report_page, "tr.f") == total and 0 < transformed < total
    _tick(report_page, "only-transformed")
    assert _visible(report_page, "tr.f") == transformed
    assert page.inner_text("#shown") == str(transformed)
    assert _visible(report_page, "tr.f[data-t='0']") == 0
    _tick(report_page, "only-differences")  # a clean sample: nothing differs
    assert _visible(report_page, "tr.f") == 0 and _visible(report_page, "tbody.record") == 0
    _tick(report_page, "only-transformed")
    _tick(report_page, "only-differences")
    assert _visible(report_page, "tr.f") == total
    assert report_page.external == []


def test_the_differences_filter_shows_exactly_the_field_twenty_changed(
    twenty_sandbox: SandboxHandle, tmp_path: Path, report_page: ReportPage
) -> None:
    def migrate_and_diff() -> SampleDiff:
        store = open_store(tmp_path / "ferry.db")
        seed_validated(store, _seeds())
        seed_rejected(store, "patient:10482")
        client = client_for(twenty_sandbox.base_url, twenty_sandbox.api_key)
        load_entities(store, client, ["patient"])
        return _diff(store, twenty_sandbox, corrupt=True)  # Twenty now holds another city

    reports = tmp_path / "reports"
    write_sample_diff(reports, _off_the_browser_thread(migrate_and_diff))
    report_page.open(reports / "sample-diff.html")
    page = report_page.page
    _tick(report_page, "only-differences")
    assert _visible(report_page, "tr.f") == 1 and page.inner_text("#shown") == "1"
    row = page.locator("tr.f:visible").inner_text().split("\t")
    assert row[0] == "avatarUrl" and row[3:5] == ["Springfield", "Shelbyville"]
    assert page.locator("tbody.record:visible tr.rec").inner_text().startswith("patient:10480")
    # the injected script in a source value stayed text: it neither ran nor broke the page
    assert page.evaluate("typeof window.alert") == "function"
    assert page.locator("table.diff script").count() == 0
    assert report_page.external == []

    report_page.open(reports / "sample-diff-shareable.html")
    text = page.inner_text("body")
    assert "De-identified copy" in text and "protected health information" not in text
    for value in ("Laura", "Smith", "laura.smith", "patient:10480", "Springfield"):
        assert value not in text
    objects = page.locator("table.objects tbody tr").all_inner_texts()
    assert [line.split("\t")[:2] for line in objects] == [
        ["patient (not sent)", "2"],  # one rejected, one the run never reached
        ["people", "2"],
    ]
    _tick(report_page, "only-differences")
    assert _visible(report_page, "tr.f") == 1
    assert page.locator("tr.rec:visible").inner_text().startswith("patient #1")
    assert report_page.external == []

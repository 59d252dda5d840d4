"""The browser harness itself: a page is read as a person sees it, and a request to the
network is refused and recorded."""

from __future__ import annotations

from pathlib import Path

from tests.browser import ReportPage


def test_a_page_is_read_and_its_network_requests_are_refused(
    report_page: ReportPage, tmp_path: Path
) -> None:
    html = tmp_path / "page.html"
    html.write_text(
        "<!doctype html><title>t</title><h1 id=h>before</h1>"
        '<img src="https://example.invalid/pixel.png">'
        "<script>document.getElementById('h').textContent = 'after';</script>",
        encoding="utf-8",
    )
    report_page.open(html)
    assert report_page.page.inner_text("#h") == "after"
    assert report_page.external == ["https://example.invalid/pixel.png"]

"""A real headless Chromium for the HTML report tests: what a reader of a report sees.

The browser is Debian's `chromium` (`.ci/run` installs it), driven by playwright; tests that
use it skip, saying why, on a machine without it. Every page refuses and records each request
beyond the file it opens, so a test can assert that a report needs no network.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass
class ReportPage:
    """An open page and the requests it tried beyond its own file (refused)."""

    page: Any
    external: list[str] = field(default_factory=list)

    def open(self, path: Path) -> None:
        """Load a report file and wait until its scripts have run."""
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module.

    Not per session: playwright's sync API keeps an asyncio loop running in the main thread
    while the browser is open, and every later `anyio.run` there (a sandbox fixture, a
    `CliRunner` command) would fail with "Already running asyncio in this thread". Within a
    browser test's module, do such work in a thread or a subprocess of its own."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def report_page(chromium: Any) -> Iterator[ReportPage]:
    """A fresh page (no cache, no cookies) that refuses every request but `file://` ones."""
    context = chromium.new_context()
    page = context.new_page()
    opened = ReportPage(page)

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(("file://", "data:", "about:")):
            request_route.continue_()
        else:
            opened.external.append(url)
            request_route.abort()

    page.route("**/*", route)
    try:
        yield opened
    finally:
        context.close()

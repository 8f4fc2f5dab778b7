"""Browser fixtures: Debian's Chromium driven by Playwright for Python (no browser is downloaded)."""

from __future__ import annotations

import os
import shutil

import pytest

from .box_office import CHROMIUM, browser_required


@pytest.fixture(scope="session")
def chromium():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if browser_required():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def contexts(chromium):
    """New browser contexts (separate users: separate sessionStorage), closed after the test."""
    opened = []

    def new_context(**options):
        context = chromium.new_context(**options)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield new_context
    for context in opened:
        context.close()

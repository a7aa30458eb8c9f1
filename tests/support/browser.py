"""A real headless Chromium for tests that drive the page: Debian's /usr/bin/chromium via Playwright.

Playwright is imported when a browser is first needed, so a test module that uses these fixtures
for a few tests still runs its others where Playwright is missing.
"""
import os
import shutil

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path():
    """Return the Chromium to drive; skip the test (fail it on CI) when there is none."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        message = "Chromium is not installed (Debian/Ubuntu: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a skip there would hide a broken setup
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def playwright():
    """Playwright, once per session: one instance per thread may run at a time."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright):
    """A headless Chromium, one per test module."""
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, server):
    """The page, opened in a fresh browser context on the test server; dialogs are recorded and dismissed."""
    context = browser.new_context()
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server.url + "/")
    yield page
    context.close()

"""Render screenshots of the browser page mid-task into docs/: light and dark, at 1280 and 390 px wide.

Usage: python -m scripts.screenshot_page --server http://127.0.0.1:5000 [--out-dir docs]
Needs a running stack (./dev run --no-desktop) and Debian's chromium. It starts tasks through the page's
own start form: one that finishes, one that fails on purpose, one it cancels and a long one, which is
still running (with its ETA) when the pictures are taken; the failed task's history panel is open.
"""
import argparse
import os
import shutil

from playwright.sync_api import sync_playwright

from shared.config import PROJECT_ROOT

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = {"page-1280-light.png": (1280, 900, "light"), "page-1280-dark.png": (1280, 900, "dark"),
         "page-390-light.png": (390, 844, "light"), "page-390-dark.png": (390, 844, "dark")}


def start(page, kind, **fields):
    """Start a task with the page's start form; return its id."""
    before = page.locator("#tasks > li").count()
    page.select_option("#kind", kind)
    for name, value in fields.items():
        field = page.locator(f"#kind-fields [name='{name}']")
        if isinstance(value, bool):
            field.set_checked(value)
        else:
            field.fill(str(value))
    page.click("#start-kind")
    page.wait_for_function("n => document.querySelectorAll('#tasks > li').length > n", arg=before)
    return page.locator("#tasks > li").first.get_attribute("data-task-id")


def row(task_id):
    return f"#tasks > li[data-task-id='{task_id}']"


def stage(page):
    """Bring the page to a telling moment; return the id of the failed task."""
    page.wait_for_selector("#connection[data-state=connected]")
    page.wait_for_selector("#kind option", state="attached")
    page.fill("#message", "Hello <b>world</b>")
    page.press("#message", "Enter")
    done = start(page, "primes", below=300_000_000)
    failed = start(page, "demo", seconds=3, fail=True)
    doomed = start(page, "demo", seconds=60)
    page.wait_for_selector(row(doomed) + "[data-state=running]")
    page.click(row(doomed) + " button.cancel")
    long = start(page, "demo", seconds=40)
    for task_id, state in ((done, "succeeded"), (failed, "failed"), (doomed, "cancelled")):
        page.wait_for_selector(row(task_id) + f"[data-state={state}]", timeout=60_000)
    page.wait_for_function("sel => document.querySelector(sel).value >= 15", arg=row(long) + " progress",
                           timeout=60_000)
    return failed


def main():
    """Stage the page once, then capture it at each width and theme while the long task runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:5000")
    parser.add_argument("--out-dir", default=os.path.join(PROJECT_ROOT, "docs"))
    options = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        first = browser.new_page(viewport={"width": 1280, "height": 900})
        first.goto(options.server + "/")
        failed = stage(first)
        for name, (width, height, theme) in SHOTS.items():
            page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=theme)
            page.goto(options.server + "/")
            page.wait_for_selector(row(failed) + "[data-state=failed] .task-message.failure")
            page.wait_for_selector("#kind option", state="attached")
            page.click(row(failed) + " button.history-button")
            page.wait_for_selector(row(failed) + " .task-history tbody tr")
            page.wait_for_timeout(1200)  # a tick of the elapsed and ETA times
            path = os.path.join(options.out_dir, name)
            page.screenshot(path=path, full_page=width < 600)
            page.close()
            print(f"wrote {path}")
        browser.close()


if __name__ == "__main__":
    main()

"""Render a screenshot of the browser page mid-task into docs/page.png.

Usage: python -m scripts.screenshot_page --server http://127.0.0.1:5000 [--out docs/page.png]
Needs a running stack (./dev run --no-desktop) and Debian's chromium.
"""
import argparse
import shutil

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main():
    """Open the page, exchange a message, start two tasks and capture it while they run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:5000")
    parser.add_argument("--out", default="docs/page.png")
    options = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 960, "height": 760})
        page.goto(options.server + "/")
        page.wait_for_selector("#connection[data-state=connected]")
        page.fill("#message", "Hello <b>world</b>")
        page.press("#message", "Enter")
        page.click("#start")
        page.wait_for_timeout(1200)
        page.click("#start")
        page.wait_for_function("() => [...document.querySelectorAll('#tasks progress')]"
                               ".some(p => p.value >= 40)", timeout=30000)
        page.screenshot(path=options.out)
        browser.close()
    print(f"wrote {options.out}")


if __name__ == "__main__":
    main()

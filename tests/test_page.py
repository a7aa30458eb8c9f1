"""The browser page in a real headless Chromium, against the real stack."""
import pytest
import requests

from shared import protocol

pytest.importorskip("playwright.sync_api")


XSS = "<img src=x onerror=alert(1)>"


def log_lines(page):
    return page.locator("#log li").all_inner_texts()


def wait_log(page, text, timeout=15000):
    page.wait_for_function("t => [...document.querySelectorAll('#log li')].some(li => li.textContent.includes(t))",
                           arg=text, timeout=timeout)


def test_page_connects_and_echoes(page):
    page.wait_for_selector("#connection[data-state=connected]")
    wait_log(page, protocol.echo_text(protocol.CONNECTED_GREETING))
    page.fill("#message", "hello from chromium")
    page.press("#message", "Enter")
    wait_log(page, protocol.echo_text("hello from chromium"))
    assert page.input_value("#message") == ""


def test_page_runs_a_task_to_100_percent_with_both_original_messages(page):
    page.wait_for_selector("#connection[data-state=connected]")
    page.wait_for_selector("#tasks[data-synced]", state="attached")  # recent tasks listed
    before = page.locator("#tasks li").count()
    page.click("#start")
    page.wait_for_function("n => document.querySelectorAll('#tasks li').length > n", arg=before)
    task_id = page.locator("#tasks li").first.get_attribute("data-task-id")
    row = f"#tasks li[data-task-id='{task_id}']"
    page.wait_for_selector(row + "[data-state=succeeded]", timeout=20000)
    bar = page.locator(row + " progress")
    assert bar.get_attribute("aria-label").startswith("Task ")
    assert bar.evaluate("b => b.value") == 100
    wait_log(page, protocol.BACKGROUND_COMPLETE)
    lines = log_lines(page)
    starting = next(i for i, line in enumerate(lines) if protocol.BACKGROUND_STARTING in line)
    complete = max(i for i, line in enumerate(lines) if protocol.BACKGROUND_COMPLETE in line)  # the last one
    assert starting < complete


def test_server_text_is_shown_as_text_never_run(page):
    page.wait_for_selector("#connection[data-state=connected]")
    page.fill("#message", XSS)
    page.press("#message", "Enter")
    wait_log(page, protocol.echo_text(XSS))
    page.wait_for_timeout(300)  # give a would-be onerror handler the chance to fire
    assert page.locator("#log img").count() == 0
    assert page.dialogs == []


def test_page_shows_a_server_error_for_bad_input(page):
    page.wait_for_selector("#connection[data-state=connected]")
    page.fill("#message", "x" * (protocol.MAX_MESSAGE_BYTES + 1))
    page.press("#message", "Enter")
    page.wait_for_selector("#log li.error")
    assert "bytes" in page.locator("#log li.error").first.inner_text()


def test_page_has_accessible_log_and_labelled_controls(page):
    assert page.get_attribute("#log", "role") == "log"
    assert page.locator("label[for=message]").count() == 1
    assert page.get_attribute("#connection", "role") == "status"


def test_cancel_from_the_page_reaches_every_client(page, server, connect):
    watcher = connect()
    page.wait_for_selector("#connection[data-state=connected]")
    task_id = requests.post(server.url + "/tasks", json={"seconds": 30}, timeout=5).json()["task_id"]
    row = page.locator(f"#tasks li[data-task-id='{task_id}']")
    page.wait_for_selector(f"#tasks li[data-task-id='{task_id}'][data-state=running]")
    row.locator("button.cancel").click()
    page.wait_for_selector(f"#tasks li[data-task-id='{task_id}'][data-state=cancelled]", timeout=5000)
    assert watcher.wait_task_final(task_id)[-1]["state"] == "cancelled"
    assert row.locator("button.cancel").is_hidden()


def test_a_page_opened_after_a_task_finished_lists_it_and_loads_its_history(browser, server, connect):
    starter = connect()
    task_id = requests.post(server.url + "/tasks", json={"seconds": 0.5}, timeout=5).json()["task_id"]
    history = starter.wait_task_final(task_id)
    context = browser.new_context()
    try:
        late = context.new_page()
        late.goto(server.url + "/")
        row = f"#tasks li[data-task-id='{task_id}'][data-state=succeeded]"
        late.wait_for_selector(row)
        late.locator(row).get_by_role("button", name=f"Show every event of task {task_id[:8]}").click()
        # The history opens in the task's own panel, not in the shared log.
        panel = late.locator(row).get_by_role("region", name=f"History of task {task_id[:8]}")
        panel.get_by_text(f"History of task {task_id[:8]} ({len(history)} events)").wait_for()
        assert panel.locator("tbody tr").count() == len(history)
        assert [int(seq) for seq in panel.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.seq)")] \
            == [e["seq"] for e in sorted(history, key=lambda e: e["seq"])]
        assert "History of task" not in " ".join(log_lines(late))
    finally:
        context.close()

"""The page as people look at it, in a real Chromium: at 390 px (a phone) and 1280 px, in light and dark;
layout measured, contrast computed, audited with axe-core; the start form, filters, copy, history, theme."""
import os
import re

import pytest
import requests

from shared import config, protocol

pytest.importorskip("playwright.sync_api")

AXE = os.path.join(config.PROJECT_ROOT, "node_modules", "axe-core", "axe.min.js")
WIDTHS = {"phone-390": (390, 844), "desktop-1280": (1280, 900)}
THEMES = ["light", "dark"]
MIN_BAR_PX = 120


def post(server, kind, **params):
    reply = requests.post(server.url + "/tasks", json={"kind": kind, "params": params}, timeout=5)
    assert reply.status_code == 202, reply.text
    return reply.json()["task_id"]


def wait_state(server, task_id, states, timeout=30):
    """Wait (through the HTTP API) until task_id is in one of states."""
    import time
    deadline = time.monotonic() + timeout
    while requests.get(f"{server.url}/tasks/{task_id}", timeout=5).json()["state"] not in states:
        assert time.monotonic() < deadline, f"{task_id} never reached {states}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def staged(server):
    """Tasks in every state: one finished with a result, one failed, one cancelled, one running."""
    tasks = {"succeeded": post(server, "primes", below=100_000),
             "failed": post(server, protocol.ORIGINAL_TASK_KIND, seconds=0.5, fail=True),
             "cancelled": post(server, protocol.ORIGINAL_TASK_KIND, seconds=120)}
    wait_state(server, tasks["cancelled"], ("running",))
    requests.post(f"{server.url}/tasks/{tasks['cancelled']}/cancel", timeout=5)
    tasks["running"] = post(server, "test-steps", steps=1000, step_seconds=0.5)
    for state, task_id in tasks.items():
        wait_state(server, task_id, (state,))
    yield tasks
    requests.post(f"{server.url}/tasks/{tasks['running']}/cancel", timeout=5)


def open_page(browser, server, width=1280, height=900, theme="light", **context_options):
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=theme, **context_options)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server.url + "/")
    page.wait_for_selector("#connection[data-state=connected]")
    page.wait_for_selector("#kind option", state="attached")
    return page


def row(task_id):
    return f"#tasks > li[data-task-id='{task_id}']"


def show_staged(page, staged):
    for state, task_id in staged.items():
        page.wait_for_selector(row(task_id) + f"[data-state={state}]")
    page.wait_for_selector(row(staged["succeeded"]) + " .task-message.result")
    page.wait_for_selector(row(staged["failed"]) + " .task-message.failure")
    page.click(row(staged["failed"]) + " button.history-button")
    page.wait_for_selector(row(staged["failed"]) + " .task-history tbody tr")


# Measured in the page: what a user at that width would run into.
LAYOUT = """() => {
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const bars = [...document.querySelectorAll('#tasks progress')].filter(visible);
  const badges = [...document.querySelectorAll('#tasks .task-state')].filter(visible);
  const controls = [...document.querySelectorAll('button, input, select, [tabindex]')].filter(visible)
    .filter((el) => !el.closest('.visually-hidden') && !el.classList.contains('visually-hidden'));
  const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].map((rect) => Math.round(rect.top))).size; };
  return {
    viewport: innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bars: bars.map((b) => b.getBoundingClientRect().width),
    wrapped: badges.filter((b) => lines(b) > 1).map((b) => b.textContent),
    outside: controls.filter((el) => { const r = el.getBoundingClientRect();
      return r.left < -1 || r.right > innerWidth + 1; }).map((el) => el.outerHTML.slice(0, 80)),
    theme: document.documentElement.dataset.theme,
  };
}"""

# Every control's border against what is behind it, and each bar's fill against its track (WCAG 1.4.11).
BOUNDARIES = """() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return {r, g, b, a}; };
  const lum = ({r, g, b}) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (x, y) => { const [a, b] = [lum(x), lum(y)].sort((p, q) => q - p); return (a + 0.05) / (b + 0.05); };
  const behind = (el) => { for (let e = el.parentElement; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) return c; }
    return parse(getComputedStyle(document.documentElement).backgroundColor); };
  const visible = (el) => el.getClientRects().length > 0;
  const controls = [...document.querySelectorAll('input[type=text], input[type=search], input[type=number], select, button:not(.link), progress, #log')]
    .filter(visible).filter((el) => !el.classList.contains('visually-hidden'));
  const low = [];
  for (const el of controls) {
    const style = getComputedStyle(el);
    const border = parse(style.borderTopColor);
    const r = ratio(border, behind(el));
    if (parseFloat(style.borderTopWidth) < 1 || r < 3) low.push(`${el.tagName}#${el.id}.${el.className}: ${r.toFixed(2)}`);
  }
  for (const bar of [...document.querySelectorAll('#tasks progress')].filter(visible)) {
    const style = getComputedStyle(bar);
    const probe = document.createElement('span'); probe.style.color = style.getPropertyValue('--bar');
    document.body.append(probe); const barColour = parse(getComputedStyle(probe).color); probe.remove();
    const r = ratio(barColour, parse(style.backgroundColor));
    if (r < 3) low.push(`bar of ${bar.closest('li').dataset.state}: ${r.toFixed(2)}`);
  }
  return low;
}"""


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", WIDTHS.keys())
def test_the_page_fits_the_width_with_readable_contrast_and_no_serious_accessibility_problem(
        browser, server, staged, width, theme):
    page = open_page(browser, server, *WIDTHS[width], theme=theme, bypass_csp=True)  # axe is injected
    try:
        show_staged(page, staged)
        layout = page.evaluate(LAYOUT)
        assert layout["theme"] == theme
        assert layout["scrollWidth"] <= layout["viewport"], "the page scrolls sideways"
        assert layout["bars"] and min(layout["bars"]) >= MIN_BAR_PX, layout["bars"]
        assert layout["wrapped"] == [], "a state wraps onto two lines"
        assert layout["outside"] == [], "controls out of reach"
        assert page.evaluate(BOUNDARIES) == [], "control boundaries under 3:1"
        # The health banner, as a server with no worker shows it, is audited with the rest.
        page.evaluate("""() => { const banner = document.getElementById('health');
            banner.textContent = 'No worker running: tasks will wait in the queue.'; banner.hidden = false; }""")
        page.add_script_tag(path=AXE)
        results = page.evaluate("""() => axe.run(document, {resultTypes: ['violations']})""")
        serious = [f"{v['id']} ({v['impact']}): {v['help']}: {[n['target'] for n in v['nodes']][:5]}"
                   for v in results["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], "\n".join(serious)
        assert "color-contrast" in [rule["id"] for rule in results["passes"]]  # text contrast was checked
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS.keys())
def test_the_keyboard_order_follows_the_layout(browser, server, staged, width):
    page = open_page(browser, server, *WIDTHS[width])
    try:
        show_staged(page, staged)
        page.focus("#theme")  # the first control of the page: Tab goes on from here
        seen = []
        for _ in range(400):
            if seen:
                page.keyboard.press("Tab")
            focused = page.evaluate("""() => { const el = document.activeElement;
                if (!el || el === document.body) return null;
                const r = el.getBoundingClientRect();
                return {id: el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30),
                        top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right}; }""")
            if focused is None or (seen and focused == seen[0]):
                break
            seen.append(focused)
        ids = [f["id"] for f in seen]
        assert ids[:3] == ["theme", "message", "send"] and "log" in ids, ids
        for before, after in zip(seen, seen[1:]):
            same_line = after["top"] < before["bottom"] - 2 and after["bottom"] > before["top"] + 2
            assert (same_line and after["left"] >= before["right"] - 2) or after["top"] >= before["bottom"] - 4, \
                f"{after['id']} comes after {before['id']} but is not after it on the page"
        # The rows come before the log; a task's buttons are all reachable.
        assert ids.index("log") > max(ids.index(f"Cancel task {staged['running'][:8]}"),
                                      ids.index(f"History: show every event of task {staged['succeeded'][:8]}"))
    finally:
        page.context.close()


def test_the_start_form_is_built_from_the_kinds_and_starts_a_kind(browser, server):
    page = open_page(browser, server)
    try:
        kinds = requests.get(server.url + protocol.ROUTE_TASK_KINDS, timeout=5).json()["kinds"]
        assert page.locator("#kind option").all_inner_texts() == [k["title"] for k in kinds]
        page.select_option("#kind", "test-steps")
        steps = page.locator("#kind-fields [name=steps]")
        assert (steps.get_attribute("type"), steps.get_attribute("min"), steps.get_attribute("max"),
                steps.input_value()) == ("number", "1", "1000", "5")
        assert page.locator("#kind-fields select[name=mode] option").all_inner_texts() == [
            "normal", "fail", "swallow-cancel", "not-json", "check"]
        assert page.locator("#kind-description").inner_text().startswith("Adds 1 + 2")
        page.get_by_label("Steps").fill("3")
        page.get_by_label("Seconds a step").fill("0.3")
        # Another test's task may still be reporting: the new row is the one not listed before.
        before = page.eval_on_selector_all("#tasks > li", "rows => rows.map(row => row.dataset.taskId)")
        page.click("#start-kind")
        task_id = page.wait_for_function("""before => [...document.querySelectorAll("#tasks > li[data-kind='test-steps']")]
                                            .map(row => row.dataset.taskId).find(id => !before.includes(id))""",
                                         arg=before).json_value()
        task = page.locator(row(task_id))
        task.locator(".task-kind", has_text="Test steps").wait_for()
        assert task.locator(".task-params").inner_text() == "steps=3, step_seconds=0.3, mode=normal"
        task.locator(".task-times", has_text="ETA").wait_for()
        page.wait_for_selector(row(task_id) + "[data-state=succeeded] .task-message.result")
        assert task.locator(".task-message").inner_text() == "Result: sum=6, steps=3"
        assert re.fullmatch(r"started \d\d:\d\d:\d\d · took 0:0[0-9]", task.locator(".task-times").inner_text())
        assert task.locator(".task-state").inner_text() == "succeeded"
    finally:
        page.context.close()


def test_the_original_button_still_starts_the_original_kind(browser, server):
    page = open_page(browser, server)
    try:
        # Another test's task may still be reporting: the new row is the one not listed before.
        before = page.eval_on_selector_all("#tasks > li", "rows => rows.map(row => row.dataset.taskId)")
        page.click("#start")
        page.wait_for_function("""([before, kind]) => [...document.querySelectorAll(
                                      `#tasks > li[data-kind='${kind}'][data-state=succeeded]`)]
                                      .some(row => !before.includes(row.dataset.taskId))""",
                               arg=[before, protocol.ORIGINAL_TASK_KIND], timeout=20000)
    finally:
        page.context.close()


def test_a_refusal_of_the_server_shows_on_its_field(browser, server):
    page = open_page(browser, server)
    try:
        page.select_option("#kind", "test-steps")
        steps = page.locator("#kind-fields [name=steps]")
        steps.evaluate("input => input.removeAttribute('max')")  # as if the browser had not checked it
        steps.fill("5000")
        page.click("#start-kind")
        page.wait_for_selector("#start-error:not([hidden])")
        assert "'params.steps' must be at most 1000" in page.inner_text("#start-error")
        assert steps.get_attribute("aria-invalid") == "true"
    finally:
        page.context.close()


def test_filter_by_state_and_search_by_id_or_kind(browser, server, staged):
    page = open_page(browser, server)
    try:
        show_staged(page, staged)
        shown = "() => [...document.querySelectorAll('#tasks > li')].filter(li => !li.hidden).map(li => li.dataset.taskId)"
        page.select_option("#state-filter", "failed")
        assert staged["failed"] in page.evaluate(shown)
        assert all(page.locator(row(t)).get_attribute("data-state") == "failed" for t in page.evaluate(shown))
        page.select_option("#state-filter", "")
        page.fill("#search", staged["cancelled"][:10])
        assert page.evaluate(shown) == [staged["cancelled"]]
        page.fill("#search", "count PRIMES")  # a kind's title, whatever the case
        assert staged["succeeded"] in page.evaluate(shown) and staged["cancelled"] not in page.evaluate(shown)
        page.fill("#search", "no such task")
        page.wait_for_selector("#no-match:not([hidden])")
    finally:
        page.context.close()


def test_copy_id_copies_the_whole_id(browser, server, staged):
    page = open_page(browser, server, permissions=["clipboard-read", "clipboard-write"])
    try:
        show_staged(page, staged)
        page.locator(row(staged["succeeded"])).get_by_role("button", name="Copy id of task").click()
        page.wait_for_function("t => document.getElementById('announce').textContent.includes(t)",
                               arg=staged["succeeded"][:8])
        assert page.evaluate("navigator.clipboard.readText()") == staged["succeeded"]
    finally:
        page.context.close()


def test_the_theme_follows_the_system_until_one_is_picked_and_remembered(browser, server):
    page = open_page(browser, server, theme="dark")
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.select_option("#theme", "light")
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
        page.reload()
        page.wait_for_selector("#connection[data-state=connected]")
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        assert page.input_value("#theme") == "light"
        page.select_option("#theme", "system")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    finally:
        page.context.close()


def test_the_log_shows_final_states_and_every_step_only_when_asked(browser, server):
    page = open_page(browser, server)
    log = "() => [...document.querySelectorAll('#log li')].map(li => li.textContent)"
    try:
        task_id = post(server, "test-steps", steps=3, step_seconds=0.3)
        page.wait_for_selector(row(task_id) + "[data-state=succeeded]")
        page.wait_for_function("t => document.getElementById('log').textContent.includes(t)",
                               arg=f"Task {task_id[:8]} succeeded")
        assert not [line for line in page.evaluate(log) if f"Task {task_id[:8]} running" in line]
        page.check("#log-steps")
        task_id = post(server, "test-steps", steps=3, step_seconds=0.3)
        page.wait_for_selector(row(task_id) + "[data-state=succeeded]")
        assert [line for line in page.evaluate(log) if f"Task {task_id[:8]} running" in line]
    finally:
        page.context.close()


def test_the_favicon_is_served(browser, server):
    reply = requests.get(server.url + protocol.ROUTE_FAVICON, timeout=5)
    assert reply.status_code == 200 and reply.headers["Content-Type"] in ("image/vnd.microsoft.icon", "image/x-icon")
    page = open_page(browser, server)
    try:
        icon = page.get_attribute("link[rel=icon]", "href")
        assert requests.get(server.url + icon, timeout=5).status_code == 200
    finally:
        page.context.close()

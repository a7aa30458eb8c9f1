"""No green "connected" while tasks cannot run: both clients show why, and clear it when fixed."""
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from desktop_client import APPLICATION_NAME, ORGANIZATION_NAME
from desktop_client.main_window import MainWindow
from shared import protocol
from tests.support.stack import Stack

pytest.importorskip("playwright.sync_api")

NO_WORKER = "No worker running: tasks will wait"
NO_REDIS = "Redis unreachable: tasks cannot start"


@pytest.fixture
def stack(log_dir):
    made = Stack(log_dir, "health")
    yield made
    made.close()


@pytest.fixture
def desktop(qapp, qtbot, tmp_path):
    qapp.setOrganizationName(ORGANIZATION_NAME)
    qapp.setApplicationName(APPLICATION_NAME)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))

    def open_window(url):
        window = MainWindow(server_url=url)
        qtbot.addWidget(window)
        window.show()
        return window
    return open_window


def health_of(client):
    return client.of(protocol.SYSTEM_HEALTH)[-1] if client.of(protocol.SYSTEM_HEALTH) else None


def test_both_clients_show_no_worker_and_redis_unreachable_until_fixed(stack, browser, desktop, qtbot):
    stack.start_server("eventlet")
    client = stack.client()
    context = browser.new_context()
    page = context.new_page()
    page.goto(stack.url + "/")
    window = desktop(stack.url)
    banner = window.findChild(QLabel, "healthBanner")
    status = window.findChild(QLabel, "connectionStatus")
    try:
        # No worker: every client is told, with a command that starts one.
        client.wait_for(lambda _: health_of(client) and health_of(client)["workers"] == 0, what="health")
        assert health_of(client)["redis"] is True
        assert NO_WORKER in health_of(client)["problem"]
        assert "-A server.worker worker" in health_of(client)["problem"]
        page.wait_for_selector("#connection[data-state=degraded]")
        assert NO_WORKER in page.inner_text("#health")
        qtbot.waitUntil(lambda: banner.isVisible() and NO_WORKER in banner.text(), timeout=10_000)
        assert "tasks will wait" in status.text()
        assert "#047857" not in status.styleSheet()  # not green

        # A worker starts: the warnings go.
        stack.start_worker()
        client.wait_for(lambda _: health_of(client)["workers"] == 1, what="a live worker")
        assert health_of(client)["problem"] is None
        page.wait_for_selector("#connection[data-state=connected]")
        assert page.is_hidden("#health")
        qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)
        assert "tasks" not in status.text()

        # Redis stops: the server, still connected to every client, tells them tasks cannot start.
        stack.redis.stop()
        client.wait_for(lambda _: health_of(client)["redis"] is False, what="Redis down")
        assert NO_REDIS in health_of(client)["problem"]
        page.wait_for_function("t => document.getElementById('health').textContent.includes(t)", arg=NO_REDIS)
        assert "cannot start" in page.inner_text("#connection")
        qtbot.waitUntil(lambda: NO_REDIS in banner.text(), timeout=10_000)
        assert "tasks cannot start" in status.text()
    finally:
        context.close()
        window.close()

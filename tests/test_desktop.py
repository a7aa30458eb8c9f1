"""The desktop client against the real stack: Redis, worker and server processes, real widgets
offscreen, and the real page in a headless Chromium."""
import re
import threading
import time
import uuid

from engineio import packet

import psutil
import pytest
import requests
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QPalette, QTextCursor
from PySide6.QtWidgets import (QApplication, QFileDialog, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QToolButton,
                               QTreeView)

from desktop_client import APPLICATION_NAME, ORGANIZATION_NAME
from desktop_client.connection import Connection
from shared.socketio_client import OrderedEngineIOClient
from desktop_client.log_view import LineKind
from desktop_client.main_window import MainWindow
from desktop_client.task_list import Column
from launcher.redis_server import RedisServer, free_port
from server.progress import TRIM_SLACK, TaskProgress
from shared import protocol
from shared.protocol import TaskState
from tests.support.stack import ASYNC_MODES, start_server
from tests.support.desktop import (DeliveredEvents, ServerSideEmitter, TickGapMeter, in_background,
                                   progress_event, record_burst, task_progress)


HTML_PAYLOAD = "<img src=x onerror=alert(1)>"
BURST = 10_000


@pytest.fixture(autouse=True)
def private_settings(qapp, tmp_path):
    """Give each test its own empty QSettings, under the names the app sets in __main__."""
    qapp.setOrganizationName(ORGANIZATION_NAME)
    qapp.setApplicationName(APPLICATION_NAME)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))


@pytest.fixture
def open_window(qtbot):
    """Return a function that opens a main window on a server URL."""
    def open_main_window(url, **connection_options):
        connection = Connection(**connection_options) if connection_options else None
        window = MainWindow(server_url=url, connection=connection)
        qtbot.addWidget(window)
        window.show()
        return window
    return open_main_window


@pytest.fixture
def window(server, open_window, qtbot):
    """A main window connected to the shared test server and caught up: its task list has arrived.

    (Events recorded before the list is sent can come both in the list and live; the app drops
    the repeats, so a test counting deliveries starts after it.)
    """
    main_window = open_window(server.url)
    qtbot.waitUntil(lambda: main_window.connection.cursor is not None, timeout=10_000)
    return main_window


class Ui:
    """The window's widgets, found the way a UI test tool would: by object name."""

    def __init__(self, window):
        self.window = window
        self.message = window.findChild(QLineEdit, "messageEdit")
        self.send = window.findChild(QPushButton, "sendButton")
        self.start = window.findChild(QPushButton, "startButton")
        self.log = window.findChild(QPlainTextEdit, "logView")
        self.status = window.findChild(QLabel, "connectionStatus")
        self.tasks = window.findChild(QTreeView, "taskList")

    def log_text(self):
        return self.log.toPlainText()

    def rows(self):
        """Return the task list as shown: one dict of column texts per row (buttons aside)."""
        model = self.tasks.model()
        return [{column.name.lower(): model.index(row, column).data() for column in Column
                 if column is not Column.ACTIONS}
                for row in range(model.rowCount())]

    def cancel_button(self, task_id):
        return self.window.findChild(QToolButton, f"cancelButton-{task_id}")

    def history_button(self, task_id):
        return self.window.findChild(QToolButton, f"historyButton-{task_id}")

    def log_line(self, text):
        """Return (the first log line containing text, its colour name), or (None, None)."""
        self.window.log_view.flush()
        found = self.log.document().find(text)
        if found.isNull():
            return None, None
        block = found.block()
        colour = QTextCursor(block).charFormat().foreground().color()
        return block.text(), colour.name()

    def row(self, task_id, *columns):
        """Return the row of task_id as shown (only the columns named, if any), or None."""
        row = next((r for r in self.rows() if task_id.startswith(r["task"])), None)
        return {column: row[column] for column in columns} if row and columns else row

    def index(self, task_id, column):
        model = self.tasks.model()
        row = next(n for n, r in enumerate(self.rows()) if task_id.startswith(r["task"]))
        return model.index(row, column)

    def click_start(self, qtbot):
        """Press Start; return the id of the task the server started."""
        with qtbot.waitSignal(self.window.connection.task_started, timeout=10_000) as started:
            qtbot.mouseClick(self.start, Qt.MouseButton.LeftButton)
        return started.args[0]

    def state_of(self, task_id):
        return (self.row(task_id) or {}).get("state")


def post_task(server, seconds):
    """Start a task over HTTP, as another program would; return its id."""
    reply = requests.post(server.url + "/tasks", json={"seconds": seconds}, timeout=5)
    reply.raise_for_status()
    return reply.json()["task_id"]


def type_and_enter(qtbot, ui, text):
    ui.message.clear()
    qtbot.keyClicks(ui.message, text)
    qtbot.keyClick(ui.message, Qt.Key.Key_Return)


def test_enter_sends_the_message_and_the_echo_shows_in_the_log(window, qtbot):
    ui = Ui(window)
    type_and_enter(qtbot, ui, "hello from the desktop")
    qtbot.waitUntil(lambda: protocol.echo_text("hello from the desktop") in ui.log_text())
    assert "sent      hello from the desktop" in ui.log_text()
    assert ui.message.text() == ""


def test_start_shows_both_messages_and_the_bar_reaches_100(window, qtbot):
    ui = Ui(window)
    task_id = ui.click_start(qtbot)
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "succeeded", timeout=20_000)
    # The row shows the original kind with its parameters, and its result once the record arrives.
    qtbot.waitUntil(lambda: ui.row(task_id)["message"].startswith("Result:"), timeout=10_000)
    row = ui.row(task_id)
    assert {k: row[k] for k in ("task", "kind", "progress", "state", "message")} == {
        "task": task_id[:8], "kind": "Wait (the original demo) · seconds=1, fail=false", "progress": 100,
        "state": "succeeded", "message": "Result: seconds=1, steps=2"}
    assert re.fullmatch(r"\d\d:\d\d:\d\d", row["started"]) and re.fullmatch(r"took 0:0[0-9]", row["time"])
    qtbot.waitUntil(lambda: protocol.BACKGROUND_COMPLETE in ui.log_text())
    log = ui.log_text()
    # Its start before its end (another test's task may have ended meanwhile: all clients hear of it).
    assert log.index(protocol.BACKGROUND_STARTING) < log.rindex(protocol.BACKGROUND_COMPLETE)
    # No tray offscreen, so the notice goes to the status bar.
    assert f"Task {task_id[:8]} succeeded" in window.statusBar().currentMessage()


def test_two_tasks_at_once_get_two_rows(window, qtbot):
    ui = Ui(window)
    task_ids = [ui.click_start(qtbot), ui.click_start(qtbot)]
    qtbot.waitUntil(lambda: all(ui.state_of(t) == "succeeded" for t in task_ids), timeout=20_000)
    shown = [r["task"] for r in ui.rows()]
    assert task_ids[0] != task_ids[1]
    assert [shown.count(t[:8]) for t in task_ids] == [1, 1]
    assert [ui.row(t)["progress"] for t in task_ids] == [100, 100]


def test_an_app_opened_after_a_task_finished_lists_it_quietly_and_loads_its_history(
        server, client, open_window, qtbot):
    task_id = client.call(protocol.START_TASK, {"seconds": 0.5})["task_id"]
    seen_live = client.wait_task_final(task_id)
    window = open_window(server.url)
    ui = Ui(window)
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "succeeded", timeout=10_000)
    assert ui.row(task_id)["progress"] == 100
    assert "succeeded" not in window.statusBar().currentMessage()  # no notice for old news
    assert not ui.cancel_button(task_id).isVisible()

    with qtbot.waitSignal(window.connection.history_received, timeout=10_000) as loaded:
        qtbot.mouseClick(ui.history_button(task_id), Qt.MouseButton.LeftButton)
    history = loaded.args[1]
    assert loaded.args[0] == task_id
    assert [u.seq for u in history] == list(range(1, len(history) + 1))
    assert sorted(e["seq"] for e in seen_live) == [u.seq for u in history]  # the whole of it
    assert (history[0].state, history[-1].state) == ("queued", "succeeded")
    # The history opens in a dialog of its own, not in the shared log.
    dialog = window.history_dialogs[task_id]
    assert dialog.isVisible() and dialog.windowTitle() == f"History of task {task_id[:8]}"
    shown = [[dialog.events.topLevelItem(n).text(c) for c in (0, 2, 3, 4)] for n in range(dialog.event_count())]
    assert shown == [[str(u.seq), str(u.state), str(u.percent), u.message] for u in history]
    qtbot.waitUntil(lambda: f"The history of task {task_id[:8]} has {len(history)} events" in ui.log_text())
    assert f"#{history[1].seq} " not in ui.log_text()


def test_html_from_the_server_shows_literally(window, qtbot, redis_server):
    ui = Ui(window)
    type_and_enter(qtbot, ui, HTML_PAYLOAD)
    qtbot.waitUntil(lambda: protocol.echo_text(HTML_PAYLOAD) in ui.log_text())
    task_id = uuid.uuid4().hex
    task_progress(redis_server.url).record(task_id, "running", 50, HTML_PAYLOAD)
    qtbot.waitUntil(lambda: ui.row(task_id) is not None)
    assert ui.row(task_id)["message"] == HTML_PAYLOAD
    tooltip = ui.index(task_id, Column.MESSAGE).data(Qt.ItemDataRole.ToolTipRole)
    assert "&lt;img" in tooltip and "<img" not in tooltip
    assert ui.status.textFormat() == Qt.TextFormat.PlainText


def test_invalid_events_from_the_server_are_logged_and_ignored(window, qtbot, redis_server):
    ui = Ui(window)
    emitter = ServerSideEmitter(redis_server.url)
    emitter.emit("surprise", {"data": 1})
    emitter.emit(protocol.TASK_PROGRESS, {"task_id": 5, "state": "exploded"})
    emitter.emit(protocol.TASK_PROGRESS, "not even an object")
    emitter.emit(protocol.MY_RESPONSE, {"data": ["a", "list"]})
    qtbot.waitUntil(lambda: ui.log_text().count("Ignored") == 4)
    assert "Ignored unknown event 'surprise'" in ui.log_text()
    type_and_enter(qtbot, ui, "still working")
    qtbot.waitUntil(lambda: protocol.echo_text("still working") in ui.log_text())


def test_a_burst_of_10000_events_reaches_the_row_in_order_with_a_bounded_log(window, qtbot, redis_server):
    ui = Ui(window)
    connection = window.connection
    delivered = DeliveredEvents(connection)
    received_before, stale_before = connection.position.received, connection.position.stale
    task_id = uuid.uuid4().hex
    rss_before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    with TickGapMeter(interval_ms=5) as meter:
        # Recorded as the worker records progress: the server's relay reads it from the stream.
        recorder = in_background(record_burst, task_progress(redis_server.url), task_id, BURST)
        qtbot.waitUntil(lambda: ui.state_of(task_id) == "succeeded", timeout=60_000)
        recorder.join(10)
    elapsed = time.perf_counter() - started
    rss_after = psutil.Process().memory_info().rss
    print(f"\nburst of {BURST} events through the relay: recorded in {recorder.result:.2f} s, "
          f"shown as succeeded {elapsed:.2f} s after the first; {meter.summary()}, "
          f"RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB")
    assert connection.position.received - received_before == BURST
    assert delivered.seqs(task_id) == list(range(1, BURST + 1))  # in order, none lost or repeated
    assert connection.position.stale == stale_before
    assert connection.cursor == delivered.of(task_id)[-1].cursor
    assert ui.row(task_id, "task", "progress", "state", "message") == {
        "task": task_id[:8], "progress": 100, "state": "succeeded", "message": "burst done"}
    assert not ui.cancel_button(task_id).isVisible()
    window.log_view.flush()
    assert ui.log.document().blockCount() <= ui.log.maximumBlockCount()
    assert f"Task {task_id[:8]} succeeded 100%: burst done" in ui.log_text()
    assert meter.ticks > 0


def test_cancel_from_the_desktop_reaches_every_client(window, server, connect, qtbot):
    watcher = connect()
    ui = Ui(window)
    task_id = post_task(server, 30)
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "running", timeout=10_000)
    cancel = ui.cancel_button(task_id)
    assert cancel.isVisible() and cancel.isEnabled()
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert not cancel.isEnabled()  # one click, one request
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "cancelled", timeout=10_000)
    assert watcher.wait_task_final(task_id)[-1]["state"] == "cancelled"
    assert not ui.cancel_button(task_id).isVisible()
    assert ui.history_button(task_id).isVisible()
    assert f"The server is cancelling task {task_id[:8]}" in ui.log_text()


def test_cancel_from_the_page_shows_cancelled_in_the_desktop_app(window, page, server, qtbot):
    ui = Ui(window)
    page.wait_for_selector("#connection[data-state=connected]")
    task_id = post_task(server, 30)
    row = f"#tasks li[data-task-id='{task_id}']"
    page.wait_for_selector(row + "[data-state=running]", timeout=10_000)
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "running", timeout=10_000)
    assert ui.cancel_button(task_id).isVisible()
    page.locator(row).locator("button.cancel").click()
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "cancelled", timeout=10_000)
    assert not ui.cancel_button(task_id).isVisible()
    page.wait_for_selector(row + "[data-state=cancelled]")


def test_refused_cancel_and_history_show_the_servers_error_once(window, client, qtbot):
    ui = Ui(window)
    task_id = client.call(protocol.START_TASK, {"seconds": 0})["task_id"]
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "succeeded", timeout=10_000)
    unknown = uuid.uuid4().hex
    # The button is gone once the app knows the task ended, but a click can cross the news:
    # the window's own slot is what the button calls.
    window.cancel_task(task_id)
    window.cancel_task(unknown)
    window.load_history(unknown)
    refusals = {f"Could not cancel task {task_id[:8]}: ": f"task {task_id} has already succeeded (conflict)",
                f"Could not cancel task {unknown[:8]}: ": "(not_found)",
                f"Could not load the history of task {unknown[:8]}: ": "(not_found)"}
    qtbot.waitUntil(lambda: all(ui.log_line(start)[0] for start in refusals), timeout=10_000)
    for start, reason in refusals.items():
        line, colour = ui.log_line(start)
        assert reason in line
        assert colour == window.log_view.colour_of(LineKind.ERROR).name()
    # The server also sends each refusal as a `protocol error`: the app shows it once, with its context.
    assert ui.log_text().count(f"task {task_id} has already succeeded") == 1
    assert "Server error" not in ui.log_text()
    assert ui.state_of(task_id) == "succeeded"


@pytest.mark.parametrize("async_mode", ASYNC_MODES)
def test_a_reconnecting_app_gets_exactly_the_events_it_missed(
        open_window, qtbot, redis_server, worker, log_dir, async_mode):
    port = free_port()
    server = start_server(redis_server.url, log_dir, async_mode, name=f"resume-{async_mode}", port=port)
    try:
        window = open_window(server.url, reconnection_delay=0.2, reconnection_delay_max=0.5)
        ui = Ui(window)
        delivered = DeliveredEvents(window.connection)
        qtbot.waitUntil(lambda: len(delivered.task_lists) == 1, timeout=10_000)  # a fresh start
        task_id = post_task(server, 5)
        qtbot.waitUntil(lambda: len(delivered.of(task_id)) >= 3, timeout=10_000)

        server.stop()  # the app's connection drops in the middle of the task
        assert_offline(qtbot, ui)
        store = task_progress(redis_server.url)
        missed_at_least = len(delivered.of(task_id)) + 3
        qtbot.waitUntil(lambda: len(store.history(task_id)) >= missed_at_least, timeout=10_000)
        server = start_server(redis_server.url, log_dir, async_mode, name=f"resume-{async_mode}-again",
                              port=port)
        qtbot.waitUntil(lambda: ui.state_of(task_id) == "succeeded", timeout=20_000)
    finally:
        server.stop()
    history = store.history(task_id)
    assert delivered.seqs(task_id) == list(range(1, len(history) + 1))  # no gap, no repeat
    assert [u.cursor for u in delivered.of(task_id)] == [e["cursor"] for e in history]
    assert delivered.of(task_id)[-1].state == "succeeded"
    assert len(delivered.task_lists) == 1  # resumed: no task list, no reset
    replayed = re.search(r"replayed (\d+) events", server.log_text())
    assert replayed and int(replayed.group(1)) >= 3, server.log_text()[-2000:]
    print(f"\n{async_mode}: {len(history)} events, {replayed.group(1)} of them replayed on reconnect")


def test_an_app_away_longer_than_the_stream_keeps_is_told_and_shows_the_latest_states(
        open_window, qtbot, log_dir):
    kept = 1000  # the shortest stream the server allows
    with RedisServer() as private_redis:  # this test trims the stream: not the shared one's
        port = free_port()
        server = start_server(private_redis.url, log_dir, "eventlet", name="reset", port=port,
                              EVENT_STREAM_LENGTH=kept)
        try:
            window = open_window(server.url, reconnection_delay=0.2, reconnection_delay_max=0.5)
            ui = Ui(window)
            delivered = DeliveredEvents(window.connection)
            qtbot.waitUntil(lambda: window.connection.cursor is not None, timeout=10_000)
            store = TaskProgress(private_redis.url, retention_seconds=3600, stream_length=kept)
            watched = uuid.uuid4().hex
            store.record(watched, "running", 10, "before the outage")
            qtbot.waitUntil(lambda: ui.state_of(watched) == "running", timeout=10_000)

            server.stop()
            assert_offline(qtbot, ui)
            record_burst(store, uuid.uuid4().hex, 2 * kept + TRIM_SLACK)  # pushes the app's cursor out
            store.record(watched, "succeeded", 100, "finished while the app was away")
            server = start_server(private_redis.url, log_dir, "eventlet", name="reset-again", port=port,
                                  EVENT_STREAM_LENGTH=kept)
            qtbot.waitUntil(lambda: ui.state_of(watched) == "succeeded", timeout=15_000)
        finally:
            server.stop()
    assert [reset for _updates, reset in delivered.task_lists] == [False, True]
    assert delivered.seqs(watched) == [1]  # seq 2 came as a latest state, not as an event
    assert ui.row(watched)["message"] == "finished while the app was away"
    line, colour = ui.log_line("Some events were too old to replay")
    assert line and colour == window.log_view.colour_of(LineKind.ERROR).name()


def test_stale_and_repeated_progress_is_ignored(window, qtbot, redis_server):
    ui = Ui(window)
    task_id = uuid.uuid4().hex
    emitter = ServerSideEmitter(redis_server.url)
    for seq, percent in ((2, 60), (1, 30), (2, 99), (3, 80)):
        emitter.emit(protocol.TASK_PROGRESS, progress_event(task_id, "running", percent, f"seq {seq}", seq))
    qtbot.waitUntil(lambda: (ui.row(task_id) or {}).get("message") == "seq 3")
    assert ui.row(task_id)["progress"] == 80
    assert window.connection.position.stale >= 2


def test_messages_are_handled_one_at_a_time_in_arrival_order():
    """python-engineio would start a thread per message, letting a slow handler be overtaken."""
    client = OrderedEngineIOClient()
    handled, done = [], threading.Event()

    def on_message(data):
        if data == "0":
            time.sleep(0.05)  # the next messages arrive meanwhile
        handled.append((data, threading.current_thread().name))
        if len(handled) == 20:
            done.set()

    client.on("message", on_message)
    try:
        for number in range(20):  # as the read loop hands them over
            client._receive_packet(packet.Packet(packet.MESSAGE, data=str(number)))
        assert done.wait(5)
    finally:
        client.stop_dispatching()
    assert [data for data, _thread in handled] == [str(n) for n in range(20)]
    assert {thread for _data, thread in handled} == {"socketio-dispatch"}


@pytest.mark.parametrize("async_mode", ASYNC_MODES)
def test_connects_when_the_server_appears_and_again_after_a_crash(
        open_window, qtbot, redis_server, worker, log_dir, async_mode):
    port = free_port()
    window = open_window(f"http://127.0.0.1:{port}", reconnection_delay=0.2, reconnection_delay_max=1.0)
    ui = Ui(window)
    assert_offline(qtbot, ui)
    type_and_enter(qtbot, ui, "typed while offline")
    assert ui.message.text() == "typed while offline"  # kept, not dropped

    server = start_server(redis_server.url, log_dir, async_mode, name=f"desktop-{async_mode}", port=port)
    try:
        qtbot.waitUntil(lambda: ui.send.isEnabled(), timeout=15_000)
        assert ui.status.text().startswith(f"Connected to http://127.0.0.1:{port}")
        qtbot.keyClick(ui.message, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: protocol.echo_text("typed while offline") in ui.log_text())

        server.kill()
        assert_offline(qtbot, ui)
        server = start_server(redis_server.url, log_dir, async_mode, name=f"desktop-{async_mode}",
                              port=port)
        qtbot.waitUntil(lambda: ui.send.isEnabled(), timeout=15_000)
        type_and_enter(qtbot, ui, "after the restart")
        qtbot.waitUntil(lambda: protocol.echo_text("after the restart") in ui.log_text())
        started = time.perf_counter()
        window.close()
        print(f"\n{async_mode}: closing the window took {(time.perf_counter() - started) * 1000:.1f} ms")
    finally:
        server.stop()


def assert_offline(qtbot, ui):
    qtbot.waitUntil(lambda: "Reconnecting" in ui.status.text() and "attempt" in ui.status.text(),
                    timeout=10_000)
    for button in (ui.send, ui.start):
        assert not button.isEnabled()
        assert "Not connected to the server: reconnecting" in button.toolTip()


def test_changing_the_server_url_connects_to_the_new_server(server, open_window, qtbot):
    window = open_window(f"http://127.0.0.1:{free_port()}", reconnection_delay=0.2)
    ui = Ui(window)
    assert_offline(qtbot, ui)
    window.set_server_url(server.url)
    qtbot.waitUntil(lambda: ui.send.isEnabled(), timeout=10_000)
    assert ui.status.text() == f"Connected to {server.url}"
    type_and_enter(qtbot, ui, "new server")
    qtbot.waitUntil(lambda: protocol.echo_text("new server") in ui.log_text())


def test_settings_keep_the_server_url_and_geometry_but_not_the_override(open_window, qtbot):
    chosen = f"http://127.0.0.1:{free_port()}"
    first = open_window(f"http://127.0.0.1:{free_port()}")
    first.set_server_url(chosen)
    first.resize(777, 555)
    first.close()
    second = open_window(None)
    assert second.connection.url == chosen
    assert (second.width(), second.height()) == (777, 555)
    override = f"http://127.0.0.1:{free_port()}"
    third = open_window(override)
    assert third.connection.url == override
    third.close()
    assert QSettings().value("server/url") == chosen


def test_shortcuts_save_the_log_clear_it_and_quit(open_window, qtbot, tmp_path):
    window = open_window(f"http://127.0.0.1:{free_port()}")
    ui = Ui(window)
    qtbot.waitUntil(lambda: "started" in ui.log_text())
    path = tmp_path / "saved.log"
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    def answer_the_save_dialog():  # the dialog is modal: answer it from the event loop, as a user
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QFileDialog):
            dialog.findChild(QLineEdit, "fileNameEdit").setText(str(path))  # typed, as a user would
            dialog.accept()
        else:
            QTimer.singleShot(50, answer_the_save_dialog)
    QTimer.singleShot(50, answer_the_save_dialog)
    qtbot.keyClick(ui.message, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(path.exists)
    assert "started" in path.read_text(encoding="utf-8")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(ui.message, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert ui.log_text() == ""
    qtbot.keyClick(ui.message, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_the_default_server_comes_from_the_environment(open_window, monkeypatch):
    monkeypatch.setenv("SERVER_PORT", "5999")
    window = open_window(None)
    assert window.connection.url == "http://127.0.0.1:5999"


# Task kinds, records and the views people look at (issue 12).

def post_kind(server, kind, **params):
    """Start a task of kind over HTTP; return its id."""
    reply = requests.post(server.url + "/tasks", json={"kind": kind, "params": params}, timeout=5)
    reply.raise_for_status()
    return reply.json()["task_id"]


def shown_ids(ui):
    """Return the ids of the rows as shown, top to bottom."""
    rows = ui.tasks.model()
    return [rows.task_at(n).task_id for n in range(rows.rowCount())]


def test_the_start_form_is_built_from_the_kinds_and_starts_a_kind(window, server, qtbot):
    ui = Ui(window)
    form = window.start_form
    kinds = requests.get(server.url + protocol.ROUTE_TASK_KINDS, timeout=5).json()["kinds"]
    qtbot.waitUntil(lambda: form.kind_box.count() == len(kinds), timeout=10_000)
    assert [form.kind_box.itemText(n) for n in range(form.kind_box.count())] == [k["title"] for k in kinds]
    assert form.kind_box.currentText() == "Wait (the original demo)"  # the first kind the server lists
    form.kind_box.setCurrentIndex(form.kind_box.findData("test-steps"))
    steps = form.field("steps")
    assert (type(steps).__name__, steps.minimum(), steps.maximum(), steps.value()) == ("QSpinBox", 1, 1000, 5)
    assert form.field("step_seconds").value() == 0.25
    mode = form.field("mode")
    assert [mode.itemText(n) for n in range(mode.count())] == ["normal", "fail", "swallow-cancel", "not-json", "check"]
    assert form.description.text().startswith("Adds 1 + 2")
    steps.selectAll()
    qtbot.keyClicks(steps, "4")
    form.field("step_seconds").setValue(0.5)
    with qtbot.waitSignal(window.connection.task_started, timeout=10_000) as started:
        qtbot.mouseClick(form.start_button, Qt.MouseButton.LeftButton)
    task_id = started.args[0]
    qtbot.waitUntil(lambda: (ui.row(task_id) or {}).get("kind") == "Test steps · steps=4, step_seconds=0.5, mode=normal",
                    timeout=10_000)
    # While it runs: elapsed and an ETA from the observed rate; once done: the duration and the result.
    qtbot.waitUntil(lambda: re.fullmatch(r"0:0\d · ETA 0:0\d", ui.row(task_id)["time"]), timeout=10_000)
    qtbot.waitUntil(lambda: ui.row(task_id)["message"] == "Result: sum=10, steps=4", timeout=10_000)
    assert ui.row(task_id, "state", "progress") == {"state": "succeeded", "progress": 100}
    assert re.fullmatch(r"took 0:0[2-9]", ui.row(task_id)["time"])


def test_a_refused_start_is_shown_on_its_field(window, qtbot):
    form = window.start_form
    qtbot.waitUntil(lambda: form.kind_box.findData("test-steps") >= 0, timeout=10_000)
    form.kind_box.setCurrentIndex(form.kind_box.findData("test-steps"))
    window.start_kind("test-steps", {"steps": 5000})  # as a form of an older server's limits would send
    qtbot.waitUntil(lambda: form.error.isVisible(), timeout=10_000)
    assert "'params.steps' must be at most 1000" in form.error.text()
    assert "border" in form.field("steps").styleSheet()
    qtbot.waitUntil(lambda: "'params.steps' must be at most 1000" in Ui(window).log_text())


def test_rows_are_newest_first_and_sort_by_any_column(window, server, qtbot):
    ui = Ui(window)
    made = [post_kind(server, "primes", below=1000), post_kind(server, protocol.ORIGINAL_TASK_KIND, seconds=0.5, fail=True),
            post_kind(server, "test-steps", steps=400, step_seconds=0.1)]
    try:
        qtbot.waitUntil(lambda: [ui.state_of(t) for t in made] == ["succeeded", "failed", "running"], timeout=20_000)
        mine = lambda: [t for t in shown_ids(ui) if t in made]  # noqa: E731
        assert mine() == made[::-1]  # newest first
        header = ui.tasks.header()

        def click_header(column):
            x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
            qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))

        click_header(Column.STATE)
        assert mine() == [made[2], made[0], made[1]]  # running, succeeded, failed
        click_header(Column.STATE)
        assert mine() == [made[1], made[0], made[2]]
        click_header(Column.KIND)
        assert mine() == [made[0], made[2], made[1]]  # Count primes, Test steps, Wait
        click_header(Column.TASK)
        click_header(Column.TASK)
        assert mine() == made[::-1] and header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    finally:
        requests.post(f"{server.url}/tasks/{made[2]}/cancel", timeout=5)


def test_rows_filter_by_state_and_search_by_id_or_kind(window, server, qtbot):
    ui = Ui(window)
    failed = post_kind(server, protocol.ORIGINAL_TASK_KIND, seconds=0.2, fail=True)
    done = post_kind(server, "primes", below=1000)
    qtbot.waitUntil(lambda: (ui.state_of(failed), ui.state_of(done)) == ("failed", "succeeded"), timeout=20_000)
    qtbot.waitUntil(lambda: window.tasks.task(done).kind == "primes", timeout=10_000)
    window.state_filter.setCurrentIndex(window.state_filter.findData("failed"))
    assert failed in shown_ids(ui) and done not in shown_ids(ui)
    assert {ui.tasks.model().task_at(n).state for n in range(ui.tasks.model().rowCount())} == {TaskState.FAILED}
    window.state_filter.setCurrentIndex(0)
    qtbot.keyClicks(window.search_edit, done[:12])
    assert shown_ids(ui) == [done]
    window.search_edit.clear()
    qtbot.keyClicks(window.search_edit, "COUNT primes")  # the kind's title, any case
    assert done in shown_ids(ui) and failed not in shown_ids(ui)
    window.search_edit.clear()
    assert failed in shown_ids(ui)
    assert ui.cancel_button(done) is not None  # rows shown again get their buttons again


def test_the_context_menu_copies_the_id_cancels_and_opens_the_history(window, server, qtbot):
    ui = Ui(window)
    task_id = post_kind(server, "test-steps", steps=400, step_seconds=0.1)
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "running", timeout=10_000)
    view = ui.tasks
    assert view.select_task(task_id)
    rect = view.visualRect(view.currentIndex())
    QTimer.singleShot(200, lambda: QApplication.activePopupWidget() and QApplication.activePopupWidget().close())
    with qtbot.waitSignal(view.customContextMenuRequested, timeout=5_000):  # a real right-click
        view.customContextMenuRequested.emit(rect.center())
    menu = view.context_menu(task_id)
    assert [a.text().replace("&", "") for a in menu.actions()] == ["Copy id", "Cancel", "History…"]
    assert all(a.isEnabled() for a in menu.actions())
    view.copy_action.trigger()
    assert QApplication.clipboard().text() == task_id
    assert task_id in window.statusBar().currentMessage()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # Cancel, from the keyboard
    qtbot.waitUntil(lambda: ui.state_of(task_id) == "cancelled", timeout=10_000)
    assert not view.context_menu(task_id).actions()[1].isEnabled()  # nothing left to cancel
    view.history_action.trigger()
    qtbot.waitUntil(lambda: task_id in window.history_dialogs, timeout=10_000)
    QApplication.clipboard().clear()
    qtbot.mouseClick(ui.window.findChild(QPushButton, "historyCopyButton"), Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == task_id


def test_the_history_dialog_shows_the_record_and_follows_a_running_task(window, server, qtbot):
    ui = Ui(window)
    task_id = post_kind(server, "test-steps", steps=12, step_seconds=0.5)
    qtbot.waitUntil(lambda: (ui.row(task_id) or {}).get("progress", 0) >= 10, timeout=10_000)
    qtbot.mouseClick(ui.history_button(task_id), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: task_id in window.history_dialogs, timeout=10_000)
    dialog = window.history_dialogs[task_id]
    opened_with = dialog.event_count()
    assert dialog.summary["id"].text() == task_id
    assert dialog.summary["kind"].text() == "Test steps · steps=12, step_seconds=0.5, mode=normal"
    qtbot.waitUntil(lambda: dialog.event_count() > opened_with + 2, timeout=10_000)  # live events come in
    qtbot.waitUntil(lambda: dialog.summary["outcome"].text() == "Result: sum=78, steps=12", timeout=20_000)
    seqs = [int(dialog.events.topLevelItem(n).text(0)) for n in range(dialog.event_count())]
    assert seqs == list(range(1, len(seqs) + 1))
    assert dialog.summary["state"].text().startswith("succeeded, 100%")
    assert dialog.summary["times"].text().startswith("started ")
    dialog.close()
    qtbot.waitUntil(lambda: task_id not in window.history_dialogs)


def test_the_log_shows_ends_and_every_step_only_when_asked(window, server, qtbot):
    ui = Ui(window)
    quiet = post_kind(server, "test-steps", steps=3, step_seconds=0.3)
    qtbot.waitUntil(lambda: f"Task {quiet[:8]} succeeded" in ui.log_text(), timeout=10_000)
    assert f"Task {quiet[:8]} running" not in ui.log_text()
    window.log_steps_action.trigger()
    assert window.log_steps.isChecked()
    chatty = post_kind(server, "test-steps", steps=3, step_seconds=0.3)
    qtbot.waitUntil(lambda: f"Task {chatty[:8]} succeeded" in ui.log_text(), timeout=10_000)
    assert f"Task {chatty[:8]} running" in ui.log_text()


def test_the_keyboard_reaches_the_rows_before_the_log(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.waitUntil(lambda: window.start_form.start_button.isEnabled(), timeout=10_000)
    window.message_edit.setFocus()
    order = [window.message_edit]
    while order[-1] is not window.log_view and len(order) < 60:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    names = [widget.objectName() or type(widget).__name__ for widget in order]
    for earlier, later in (("messageEdit", "startButton"), ("startButton", "kindBox"), ("kindBox", "startKindButton"),
                           ("startKindButton", "stateFilter"), ("searchEdit", "taskList"), ("taskList", "logView")):
        assert names.index(earlier) < names.index(later), names
    assert not [name for name in names if name.startswith(("cancelButton", "historyButton", "copyButton"))]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_coloured_text_reads_in_light_and_dark_palettes(open_window, qapp, qtbot, theme):
    from desktop_client import colours
    from desktop_client.payloads import TaskRecord, TaskUpdate
    style, palette = qapp.style().name(), qapp.palette()
    colours.apply_theme(qapp, theme)
    try:
        window = open_window(f"http://127.0.0.1:{free_port()}")
        assert colours.is_dark(window.palette()) is (theme == "dark")
        for n, state in enumerate(TaskState):
            record = TaskRecord(kind="demo", error={"type": "E", "message": "m"} if state == "failed" else None)
            window.tasks.apply(TaskUpdate(f"{n:032x}", state, 50, "m", 1, 1.0, record=record))
        window.tasks.flush()
        for kind in LineKind:
            window.log_view.add_line(f"a {kind.label} line", kind)
        window._show_health(type("Health", (), {"redis": True, "workers": 0, "problem": "No worker running"})())
        view_palette = window.task_view.palette()
        base = [view_palette.color(QPalette.ColorRole.Base), view_palette.color(QPalette.ColorRole.AlternateBase)]
        low = []
        model = window.tasks
        for row in range(model.rowCount()):
            for column in (Column.STATE, Column.MESSAGE):
                colour = model.index(row, column).data(Qt.ItemDataRole.ForegroundRole)
                if colour is not None:
                    low += [f"{column.name} row {row}" for bg in base if colours.contrast(colour, bg) < 4.5]
            fill = colours.state_colour(view_palette, model.task_at(row).state)
            if colours.contrast(colours.text_on(fill), fill) < 4.5 or min(colours.contrast(fill, bg) for bg in base) < 3:
                low.append(f"bar of {model.task_at(row).state}")
        log_base = window.log_view.palette().color(QPalette.ColorRole.Base)
        low += [kind.label for kind in LineKind if colours.contrast(window.log_view.colour_of(kind), log_base) < 4.5]
        status = QColor(re.search(r"color: (#\w+)", window.connection_status.styleSheet()).group(1))
        low += ["status"] if colours.contrast(status, window.statusBar().palette().color(QPalette.ColorRole.Window)) < 4.5 else []
        banner = dict(re.findall(r"(background|color): (#\w+)", window.health_banner.styleSheet()))
        low += ["banner"] if colours.contrast(QColor(banner["color"]), QColor(banner["background"])) < 4.5 else []
        text = view_palette.color(QPalette.ColorRole.Text)
        low += ["text"] if min(colours.contrast(text, bg) for bg in base) < 4.5 else []
        assert low == [], f"under 4.5:1 in the {theme} palette"
    finally:
        qapp.setStyle(style)
        qapp.setPalette(palette)

"""Render the window, mid-task, into docs/desktop.png: python -m scripts.screenshot_desktop --server URL

Needs a running stack (server, worker, Redis). Runs offscreen unless QT_QPA_PLATFORM says
otherwise, and keeps its settings in a temporary folder, so the user's are left alone.
"""
import argparse
import os
import sys
import tempfile
import time

from PySide6.QtCore import QEventLoop, QSettings
from PySide6.QtWidgets import QApplication

from shared import protocol
from shared.protocol import TaskState

from desktop_client import APPLICATION_NAME, ORGANIZATION_NAME
from desktop_client.text import check_url
from shared.config import PROJECT_ROOT as ROOT

DEFAULT_OUTPUT = os.path.join(ROOT, "docs", "desktop.png")


def wait_until(app, condition, timeout, what):
    """Run the event loop until condition() is true; raise TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def stage(app, window):
    """Bring the window to a telling moment: a task done and its history shown, two under way
    (with their Cancel buttons), one cancelled, a message echoed."""
    wait_until(app, lambda: window.connection.is_connected, 20, "the connection")
    started = []
    window.connection.task_started.connect(started.append)

    def state_of(task_id):
        task = window.tasks.task(task_id)
        return task.state if task else None

    def start(seconds):
        count = len(started)
        window.connection.start_task(seconds=seconds)
        wait_until(app, lambda: len(started) > count, 10, "a task to start")
        return started[-1]

    done = start(1)
    wait_until(app, lambda: state_of(done) is TaskState.SUCCEEDED, 30, "the first task to finish")
    for seconds in (12, 20):
        start(seconds)
    doomed = start(30)
    wait_until(app, lambda: state_of(doomed) is TaskState.RUNNING, 10, "the third task to run")
    window.cancel_task(doomed)
    wait_until(app, lambda: state_of(doomed) is TaskState.CANCELLED, 10, "the cancel")

    def two_running():
        running = [t for t in window.tasks.tasks() if t.state is TaskState.RUNNING]
        return len(running) == 2 and min(t.percent for t in running) >= 20

    wait_until(app, two_running, 30, "two tasks under way")
    window.load_history(done)
    wait_until(app, lambda: "History of task" in window.log_view.text(), 10, "the history")
    window.message_edit.setText("Hello from the desktop client")
    window.send_message()
    echo = protocol.echo_text("Hello from the desktop client")
    wait_until(app, lambda: echo in window.log_view.text(), 10, "the echo")
    window.message_edit.setText("A message still being typed")
    window.log_view.flush()
    app.processEvents()


def main(argv=None):
    """Render the screenshot and return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m desktop_client.screenshot", description=__doc__)
    parser.add_argument("--server", required=True, type=check_url, help="a running server's URL")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="PNG file to write")
    parser.add_argument("--size", default="980x640", help="window size, WIDTHxHEIGHT")
    options = parser.parse_args(argv)
    width, height = (int(n) for n in options.size.lower().split("x"))

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationName(APPLICATION_NAME)
    with tempfile.TemporaryDirectory() as settings_dir:
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, settings_dir)
        from desktop_client.main_window import MainWindow

        window = MainWindow(server_url=options.server)
        window.resize(width, height)
        window.show()
        stage(app, window)
        os.makedirs(os.path.dirname(os.path.abspath(options.output)), exist_ok=True)
        if not window.grab().save(options.output):
            print(f"could not write {options.output}", file=sys.stderr)
            return 1
        window.close()
    print(f"wrote {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

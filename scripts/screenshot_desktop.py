"""Render the window, mid-task, in light and dark palettes: python -m scripts.screenshot_desktop --server URL

Writes docs/desktop-light.png and docs/desktop-dark.png. Needs a running stack (server, worker, Redis).
Runs offscreen unless QT_QPA_PLATFORM says otherwise, and keeps its settings in a temporary folder, so
the user's are left alone. Each picture shows a finished task with its result, one failed on purpose,
one cancelled and one running with its ETA, the start form, and the failed task's history dialog.
"""
import argparse
import os
import sys
import tempfile
import time

from PySide6.QtCore import QEventLoop, QPoint, QSettings
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from desktop_client import APPLICATION_NAME, ORGANIZATION_NAME, colours
from desktop_client.text import check_url
from shared import protocol
from shared.config import PROJECT_ROOT as ROOT
from shared.protocol import TaskState

DEFAULT_DIR = os.path.join(ROOT, "docs")


def wait_until(app, condition, timeout, what):
    """Run the event loop until condition() is true; raise TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def stage(app, window):
    """Bring the window to a telling moment; return the id of the failed task."""
    wait_until(app, lambda: window.connection.is_connected, 20, "the connection")
    wait_until(app, lambda: window.start_form.kind() is not None, 20, "the kinds of task")
    started = []
    window.connection.task_started.connect(started.append)

    def state_of(task_id):
        task = window.tasks.task(task_id)
        return task.state if task else None

    def start(kind, **params):
        count = len(started)
        form = window.start_form
        form.kind_box.setCurrentIndex(form.kind_box.findData(kind))
        for name, value in params.items():
            field = form.field(name)
            field.setChecked(value) if isinstance(value, bool) else field.setValue(value)
        form.start_button.click()
        wait_until(app, lambda: len(started) > count, 10, "a task to start")
        return started[-1]

    done = start("primes", below=300_000_000)
    failed = start(protocol.ORIGINAL_TASK_KIND, seconds=3, fail=True)
    doomed = start(protocol.ORIGINAL_TASK_KIND, seconds=60, fail=False)
    wait_until(app, lambda: state_of(doomed) is TaskState.RUNNING, 10, "the third task to run")
    window.cancel_task(doomed)
    running = start(protocol.ORIGINAL_TASK_KIND, seconds=40, fail=False)
    for task_id, state in ((done, TaskState.SUCCEEDED), (failed, TaskState.FAILED), (doomed, TaskState.CANCELLED)):
        wait_until(app, lambda t=task_id, s=state: state_of(t) is s, 60, f"task {task_id[:8]} {state}")
    wait_until(app, lambda: window.tasks.task(running).percent >= 15, 60, "the long task under way")
    wait_until(app, lambda: all(window.tasks.task(t).record and window.tasks.task(t).record["finished"]
                                for t in (done, failed, doomed)), 10, "the records")
    window.message_edit.setText("Hello from the desktop client")
    window.send_message()
    echo = protocol.echo_text("Hello from the desktop client")
    wait_until(app, lambda: echo in window.log_view.text(), 10, "the echo")
    window.task_view.select_task(failed)
    window.load_history(failed)
    wait_until(app, lambda: failed in window.history_dialogs, 10, "the history dialog")
    dialog = window.history_dialogs[failed]
    wait_until(app, lambda: dialog.event_count() >= 4, 10, "the history")
    window.log_view.flush()
    app.processEvents()
    return failed


def grab(window, dialog):
    """Return the window with the history dialog drawn over its lower right corner."""
    picture = window.grab()
    shot = QPixmap(picture.size())
    painter = QPainter(shot)
    painter.drawPixmap(0, 0, picture)
    inner = dialog.grab()
    painter.drawPixmap(QPoint(picture.width() - inner.width() - 24, picture.height() - inner.height() - 40), inner)
    painter.end()
    return shot


def main(argv=None):
    """Render the screenshots and return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m scripts.screenshot_desktop", description=__doc__)
    parser.add_argument("--server", required=True, type=check_url, help="a running server's URL")
    parser.add_argument("--out-dir", default=DEFAULT_DIR, help="folder to write desktop-light.png and desktop-dark.png to")
    parser.add_argument("--size", default="1180x760", help="window size, WIDTHxHEIGHT")
    options = parser.parse_args(argv)
    width, height = (int(n) for n in options.size.lower().split("x"))

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationName(APPLICATION_NAME)
    with tempfile.TemporaryDirectory() as settings_dir:
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, settings_dir)
        from desktop_client.main_window import MainWindow

        colours.apply_theme(app, "light")
        window = MainWindow(server_url=options.server)
        window.resize(width, height)
        window.show()
        failed = stage(app, window)
        dialog = window.history_dialogs[failed]
        dialog.resize(620, 300)
        os.makedirs(options.out_dir, exist_ok=True)
        for theme in ("light", "dark"):
            colours.apply_theme(app, theme)
            app.processEvents()
            time.sleep(1.1)  # a tick of the elapsed and ETA times
            app.processEvents()
            path = os.path.join(options.out_dir, f"desktop-{theme}.png")
            if not grab(window, dialog).save(path):
                print(f"could not write {path}", file=sys.stderr)
                return 1
            print(f"wrote {path}")
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

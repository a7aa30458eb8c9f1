"""Telling the user a task finished: a system tray message where a tray exists, else a status-bar notice."""
import re

from PySide6.QtWidgets import QSystemTrayIcon

from shared.protocol import TaskState

from .text import short_id

NOTICE_MS = 10_000
# Some notification servers read markup in tray messages: server text goes there without it.
_UNSAFE_IN_TITLE = re.compile(r"[^0-9A-Za-z_-]")
_MARKUP = re.compile(r"[<>&]")


class TaskNotifier:
    """Show a short notice when a task succeeds or fails."""

    def __init__(self, window):
        self._window = window
        self._tray = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._tray = QSystemTrayIcon(window.windowIcon(), window)
            self._tray.setToolTip(window.windowTitle())
            self._tray.activated.connect(lambda _reason: window.raise_() or window.activateWindow())
            self._tray.show()

    @property
    def uses_tray(self):
        """Tell whether notices go to the system tray."""
        return self._tray is not None and self._tray.supportsMessages()

    def task_finished(self, task_id, state, message):
        """Announce that task_id ended in state."""
        title = f"Task {_UNSAFE_IN_TITLE.sub('?', short_id(task_id))} {state}"
        detail = "" if message == state else message[:200]  # "succeeded: succeeded" says nothing
        if self.uses_tray:
            icon = (QSystemTrayIcon.MessageIcon.Information if state == TaskState.SUCCEEDED
                    else QSystemTrayIcon.MessageIcon.Warning)
            self._tray.showMessage(title, _MARKUP.sub("", detail), icon, NOTICE_MS)
        else:
            self._window.statusBar().showMessage(f"{title}: {detail}" if detail else title, NOTICE_MS)

    def close(self):
        """Take the icon out of the tray."""
        if self._tray is not None:
            self._tray.hide()

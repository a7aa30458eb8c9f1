"""The desktop client of the task-progress system: python -m desktop_client [--server URL].

Files: connection.py (the socket.io link, the only code that touches the network),
payloads.py (checks on what the server sends), main_window.py (the window, its actions and
settings), task_list.py (the live task table), log_view.py (the bounded, batched log),
notifications.py (task finished: tray message or status-bar notice), screenshot.py (docs image),
system_check.py (missing X11 libraries, named before Qt aborts), pyside_refcount_fix.py (a guard
against a PySide6 6.12.0 bug on Python 3.11, applied on import).
"""
from . import pyside_refcount_fix  # noqa: F401  (first, before any other Qt call)

ORGANIZATION_NAME = "TaskProgress"
APPLICATION_NAME = "Task Progress Desktop"

"""The desktop client of the task-progress system: python -m desktop_client [--server URL].

Files: connection.py (the socket.io link, the only code that touches the network),
payloads.py (checks on what the server sends), main_window.py (the window, its actions and
settings), task_list.py (the live task table, with Cancel and History buttons per task),
log_view.py (the bounded, batched log),
notifications.py (task finished: tray message or status-bar notice), screenshot.py (docs image),
system_check.py (missing X11 libraries, named before Qt aborts).
"""

ORGANIZATION_NAME = "TaskProgress"
APPLICATION_NAME = "Task Progress Desktop"

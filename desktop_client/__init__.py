"""The desktop client of the task-progress system: python -m desktop_client [--server URL].

Files: connection.py (the socket.io link and the kinds' HTTP request, the only code that touches the
network), link.py (one python-socketio client), stream_position.py (the resume cursor and each task's
latest seq), news_inbox.py (task news gathered off the GUI thread, taken at most once a frame),
payloads.py (checks on what the server sends), main_window.py (the window, its actions and
settings), start_form.py (a form for any kind of task, from its schema), task_list.py (the live,
sortable task table, with Copy id, Cancel and History per task and a context menu),
history_dialog.py (a task's events in a window of its own), log_view.py (the bounded, batched log),
timing.py (elapsed, ETA, durations and the other words of a row), colours.py (colours from the
palette), text.py (the app's words), notifications.py (task finished: tray message or status-bar
notice), system_check.py (missing X11 libraries, named before Qt aborts).
"""

ORGANIZATION_NAME = "TaskProgress"
APPLICATION_NAME = "Task Progress Desktop"

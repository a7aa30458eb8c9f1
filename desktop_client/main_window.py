"""The main window: message box, buttons, task list (with Cancel and History per task), log,
status bar, actions and settings."""
import contextlib
import html
import os

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Slot
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (QApplication, QFileDialog, QGroupBox, QHBoxLayout, QInputDialog,
                               QLabel, QLineEdit, QMainWindow, QMessageBox, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from shared import config, protocol
from shared.protocol import TaskState

from . import APPLICATION_NAME
from .connection import Connection, ConnectionState
from .log_view import LineKind, LogView
from .notifications import TaskNotifier
from .text import check_url, plain_tooltip, short_id, split_token
from .task_list import TaskListModel, TaskListView

SETTINGS_SERVER_URL = "server/url"
SETTINGS_TOKEN = "server/token"  # saved only when the user asks (--remember-token)
SETTINGS_TOKEN_SERVER = "server/token_server"  # the server that token is for: never sent elsewhere
SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_SPLITTER = "window/splitter"

WINDOW_TITLE = "Task Progress"
DEFAULT_SIZE = QSize(980, 680)
LOG_EACH_UP_TO = 20  # progress updates in one message logged one line each; more are summed up
STATE_LABELS = {ConnectionState.CONNECTING: "Connecting to {url}…",
                ConnectionState.CONNECTED: "Connected to {url}",
                ConnectionState.RECONNECTING: "Reconnecting to {url} (attempt {attempt})…",
                ConnectionState.OFFLINE: "Offline: {url}"}
STATE_COLOURS = {ConnectionState.CONNECTING: "#b45309", ConnectionState.CONNECTED: "#047857",
                 ConnectionState.RECONNECTING: "#b45309", ConnectionState.OFFLINE: "#b91c1c"}
HEALTH_BANNER_STYLE = ("QLabel { background: #fffbeb; color: #92400e; border: 1px solid #d97706; "
                       "border-radius: 4px; padding: 6px; }")
SEND_TIP = "Send the message to the server (Enter)"
START_TIP = "Start one more background task on the server"


def default_server_url():
    """Return the server URL from the environment's configuration (shared/config.py)."""
    return config.load(names=config.DESKTOP_SETTINGS).server_url


class MainWindow(QMainWindow):
    """The desktop client's only window."""

    def __init__(self, server_url=None, connection=None, token=None, remember_token=False):
        """Build the window and start connecting; server_url overrides the saved one for this run.

        token is the server's (when it needs one); remember_token saves it for later runs.
        """
        super().__init__()
        self.setWindowTitle(WINDOW_TITLE)
        self.setWindowIcon(app_icon())
        self.connection = connection or Connection()
        self.connection.setParent(self)
        self.tasks = TaskListModel(self)
        self._build_widgets()
        self._build_actions()
        self._connect_signals()
        self.notifier = TaskNotifier(self)
        self._link_state = (ConnectionState.CONNECTING, 0, "")
        self._health = None
        self.read_settings()
        self._server_url = server_url or self._saved_server_url
        saved_token = self._saved_token if self._saved_token_server == self._server_url else None
        self._token = token or saved_token
        if token and remember_token:
            self.save_token(self._server_url, token)
        self.log_view.add_line(f"{APPLICATION_NAME} started; server {self._server_url}"
                               + (" (with its token)" if self._token else ""))
        self.connection.open(self._server_url, self._token)

    # Building.

    def _build_widgets(self):
        self.message_edit = QLineEdit(objectName="messageEdit", clearButtonEnabled=True,
                                      placeholderText="Type a message and press Enter")
        self.send_button = QPushButton("&Send", objectName="sendButton")
        self.start_button = QPushButton("Start &background task", objectName="startButton")
        self.send_button.setDefault(True)
        message_row = QHBoxLayout()
        message_label = QLabel("&Message:")
        message_label.setBuddy(self.message_edit)
        message_row.addWidget(message_label)
        message_row.addWidget(self.message_edit, 1)
        message_row.addWidget(self.send_button)
        message_row.addSpacing(12)
        message_row.addWidget(self.start_button)

        self.task_view = TaskListView(self.tasks)
        self.log_view = LogView()
        self.splitter = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        self.splitter.addWidget(_group("Tasks", self.task_view))
        self.splitter.addWidget(_group("Log", self.log_view))
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)

        # "No worker running", "Redis unreachable": shown while the server says so.
        self.health_banner = QLabel(objectName="healthBanner", wordWrap=True, visible=False)
        self.health_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.health_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.health_banner.setStyleSheet(HEALTH_BANNER_STYLE)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 12, 12, 6)
        layout.setSpacing(10)
        layout.addWidget(self.health_banner)
        layout.addLayout(message_row)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.connection_status = QLabel(objectName="connectionStatus")
        self.connection_status.setTextFormat(Qt.TextFormat.PlainText)
        self.connection_status.setContentsMargins(6, 0, 6, 0)
        self.statusBar().addPermanentWidget(self.connection_status)

    def _build_actions(self):
        file_menu = self.menuBar().addMenu("&File")
        self.change_server_action = _action(self, "Change &server…", self.ask_server_url,
                                            "Connect to another server address")
        self.reconnect_action = _action(self, "&Reconnect", self.connection.reconnect,
                                        "Drop the connection and connect again now", "F5")
        self.save_log_action = _action(self, "Save &log…", self.ask_save_log,
                                       "Save the log to a text file", QKeySequence.StandardKey.Save)
        # Ctrl+Q spelled out: QKeySequence.Quit is empty on Windows.
        self.quit_action = _action(self, "&Quit", self.close, "Close the window", "Ctrl+Q")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        for action in (self.change_server_action, self.reconnect_action, None,
                       self.save_log_action, None, self.quit_action):
            file_menu.addAction(action) if action else file_menu.addSeparator()

        log_menu = self.menuBar().addMenu("&Log")
        self.clear_log_action = _action(self, "&Clear log", self.log_view.clear_log,
                                        "Remove every line from the log", "Ctrl+L")
        log_menu.addAction(self.clear_log_action)
        log_menu.addAction(self.save_log_action)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = _action(self, f"&About {APPLICATION_NAME}", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.about_action)
        help_menu.addAction(_action(self, "About &Qt", QApplication.aboutQt))

    def _connect_signals(self):
        self.message_edit.returnPressed.connect(self.send_message)
        self.send_button.clicked.connect(self.send_message)
        self.start_button.clicked.connect(self.start_task)
        connection = self.connection
        connection.state_changed.connect(self._show_connection_state)
        connection.state_changed.connect(self._greet_on_connect)
        connection.health_changed.connect(self._show_health)
        connection.message_received.connect(self._log_message_received)
        connection.message_not_delivered.connect(self._restore_message)
        connection.task_started.connect(self._on_task_started)
        connection.tasks_updated.connect(self._on_tasks_updated)
        connection.task_list_received.connect(self._on_task_list)
        connection.cancel_accepted.connect(self._log_cancel_accepted)
        connection.history_received.connect(self._show_history)
        connection.request_failed.connect(self._on_request_failed)
        connection.server_error.connect(self._log_server_error)
        connection.invalid_message.connect(self._log_error)
        self.tasks.task_finished.connect(self._on_task_finished)
        self.task_view.cancel_clicked.connect(self.cancel_task)
        self.task_view.history_clicked.connect(self.load_history)

    # Settings.

    def read_settings(self):
        """Restore the window's geometry and the saved server URL."""
        settings = QSettings()
        geometry = settings.value(SETTINGS_GEOMETRY, QByteArray())
        if not geometry or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        splitter = settings.value(SETTINGS_SPLITTER, QByteArray())
        if splitter:
            self.splitter.restoreState(splitter)
        saved = settings.value(SETTINGS_SERVER_URL, "")
        try:
            self._saved_server_url = check_url(saved) if saved else default_server_url()
        except ValueError:  # a hand-edited settings file; fall back rather than refuse to start
            self._saved_server_url = default_server_url()
        self._saved_token = settings.value(SETTINGS_TOKEN, "") or None
        self._saved_token_server = settings.value(SETTINGS_TOKEN_SERVER, "")

    def write_settings(self):
        """Save the window's geometry and the server URL chosen in the app."""
        settings = QSettings()
        settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        settings.setValue(SETTINGS_SPLITTER, self.splitter.saveState())
        settings.setValue(SETTINGS_SERVER_URL, self._saved_server_url)

    def save_token(self, server_url, token):
        """Keep token for server_url in the settings, in a file only this user can read."""
        settings = QSettings()
        settings.setValue(SETTINGS_TOKEN, token)
        settings.setValue(SETTINGS_TOKEN_SERVER, server_url)
        settings.sync()
        with contextlib.suppress(OSError):  # a file, on Linux and macOS; Windows keeps it in the registry
            os.chmod(settings.fileName(), 0o600)

    def closeEvent(self, event):
        self.write_settings()
        self.connection.close()  # hands the slow part to a background thread
        self.notifier.close()
        event.accept()

    # User actions.

    @Slot()
    def send_message(self):
        """Send the typed message; it leaves the box only once it is on its way."""
        text = self.message_edit.text()
        if not text:
            return
        if not self.connection.send_message(text):
            self.statusBar().showMessage("Not connected: the message stays in the box until it can be "
                                         "sent.", 5000)
            return
        self.log_view.add_line(text, LineKind.SENT)
        self.message_edit.clear()

    @Slot()
    def start_task(self):
        """Ask the server for one more background task."""
        if self.connection.start_task():
            self.log_view.add_line("Start a background task", LineKind.SENT)
        else:
            self.statusBar().showMessage("Not connected: no task was started.", 5000)

    @Slot(str)
    def cancel_task(self, task_id):
        """Ask the server to cancel task_id; its row shows `cancelled` once every client is told."""
        if not self.connection.cancel_task(task_id):
            self.statusBar().showMessage("Not connected: the task was not cancelled.", 5000)
            return
        self.tasks.set_cancel_pending(task_id, True)
        self.log_view.add_line(f"Cancel task {short_id(task_id)}", LineKind.SENT)

    @Slot(str)
    def load_history(self, task_id):
        """Ask the server for every event of task_id, to show in the log."""
        if self.connection.load_history(task_id):
            self.log_view.add_line(f"Load the history of task {short_id(task_id)}", LineKind.SENT)
        else:
            self.statusBar().showMessage("Not connected: the history cannot be loaded now.", 5000)

    def set_server_url(self, url):
        """Use url from now on (and on later starts), and connect to it.

        A URL with ?token=… (as a server prints it) gives the token for this run; a server's token is
        never sent to another server.
        """
        url, token = split_token(url)
        url = check_url(url)
        self._server_url = self._saved_server_url = url
        self._token = token or (self._saved_token if self._saved_token_server == url else None)
        QSettings().setValue(SETTINGS_SERVER_URL, url)
        self.log_view.add_line(f"Server changed to {url}" + (" (with its token)" if self._token else ""))
        self.connection.open(url, self._token)

    @Slot()
    def ask_server_url(self):
        """Ask for a server URL and connect to it."""
        url, accepted = QInputDialog.getText(self, "Change server", "Server address (http://host:port):",
                                             QLineEdit.EchoMode.Normal, self._server_url)
        if not accepted or not url.strip():
            return
        try:
            self.set_server_url(url)
        except ValueError as exc:
            _warn(self, "Change server", str(exc))

    @Slot()
    def ask_save_log(self):
        """Ask for a file name and save the log there as plain text."""
        path, _filter = QFileDialog.getSaveFileName(self, "Save log", "task-progress.log",
                                                    "Log files (*.log *.txt);;All files (*)")
        if path:
            self.save_log(path)

    def save_log(self, path):
        """Write the log to path; tell the user if that fails."""
        try:
            with open(path, "w", encoding="utf-8") as log_file:
                log_file.write(self.log_view.text() + "\n")
        except OSError as exc:
            _warn(self, "Save log", f"Could not save the log to {path}: {exc.strerror or exc}")
            return
        self.statusBar().showMessage(f"Log saved to {path}", 5000)

    @Slot()
    def show_about(self):
        """Show what this program is."""
        QMessageBox.about(self, f"About {APPLICATION_NAME}", (
            f"<h3>{APPLICATION_NAME}</h3>"
            "<p>Watch background tasks on the task-progress server live: send messages, "
            "start tasks and follow their progress.</p>"
            f"<p>Server: {html.escape(self._server_url)}</p>"
            "<p>Each task has a Cancel button while it runs and a History button that lists "
            "all its events in the log.</p>"
            "<p>Ctrl+Q quits, Ctrl+L clears the log, F5 reconnects (and catches up).</p>"))

    # Reactions to the connection.

    @Slot(str, int, str)
    def _show_connection_state(self, state, attempt, detail):
        state = ConnectionState(state)
        self._link_state = (state, attempt, detail)
        if state is not ConnectionState.CONNECTED:
            self._health = None  # known again once the server says, after reconnecting
        text = self._show_status()
        online = state is ConnectionState.CONNECTED
        why = f"Not connected to the server: {state}" + (f" ({detail})" if detail else "")
        for button, tip in ((self.send_button, SEND_TIP), (self.start_button, START_TIP)):
            button.setEnabled(online)
            button.setToolTip(tip if online else plain_tooltip(why))  # detail may be server text
        kind = LineKind.INFO if state in (ConnectionState.CONNECTED, ConnectionState.CONNECTING) \
            else LineKind.ERROR
        self.log_view.add_line(text, kind)

    @Slot(str, int, str)
    def _greet_on_connect(self, state, _attempt, _detail):
        # As the page (and the original app) does on every connect.
        if state == ConnectionState.CONNECTED and self.connection.send_message(protocol.CONNECTED_GREETING):
            self.log_view.add_line(protocol.CONNECTED_GREETING, LineKind.SENT)

    def _show_status(self):
        """Show the connection, and the system's health while connected; return the status text."""
        state, attempt, detail = self._link_state
        text = STATE_LABELS[state].format(url=self.connection.url or self._server_url, attempt=attempt)
        if detail and state is not ConnectionState.CONNECTED:
            text += f" — {detail}"
        colour = STATE_COLOURS[state]
        problem = self._health.problem if self._health else None
        if problem:
            text += " — tasks will wait" if self._health.redis else " — tasks cannot start"
            colour = STATE_COLOURS[ConnectionState.CONNECTING]  # not green: something is wrong
        self.connection_status.setText(text)
        self.connection_status.setStyleSheet(f"color: {colour};")
        self.health_banner.setText(problem or "")
        self.health_banner.setVisible(bool(problem))
        return text

    @Slot(object)
    def _show_health(self, health):
        before = self._health.problem if self._health else None
        self._health = health
        self._show_status()
        if health.problem != before:
            self.log_view.add_line(health.problem or "The system is healthy again",
                                   LineKind.ERROR if health.problem else LineKind.INFO)

    @Slot(str)
    def _log_message_received(self, text):
        self.log_view.add_line(text, LineKind.RECEIVED)

    @Slot(str, str)
    def _restore_message(self, text, reason):
        self.log_view.add_line(f"Not confirmed by the server ({reason}): {text}", LineKind.ERROR)
        if not self.message_edit.text():
            self.message_edit.setText(text)  # give it back, so it can be sent again

    @Slot(str)
    def _on_task_started(self, task_id):
        self.tasks.add_task(task_id)
        self.log_view.add_line(f"Started task {short_id(task_id)}", LineKind.RECEIVED)

    @Slot(object)
    def _on_tasks_updated(self, updates):
        for update in updates:
            self.tasks.apply(update)
        # A flood is summed up in one line (every task's end still gets its own), so the log
        # keeps telling what happened instead of scrolling faster than anyone can read.
        shown = updates if len(updates) <= LOG_EACH_UP_TO else [u for u in updates if u.state.is_final]
        if len(shown) < len(updates):
            tasks = len({u.task_id for u in updates})
            self.log_view.add_line(f"{len(updates)} progress updates for {tasks} tasks",
                                   LineKind.PROGRESS)
        for update in shown:
            kind = LineKind.ERROR if update.state is TaskState.FAILED else LineKind.PROGRESS
            self.log_view.add_line(f"Task {update.short_id} {update.state} {update.percent}%: "
                                   f"{update.message}", kind)

    @Slot(object, bool)
    def _on_task_list(self, updates, reset):
        self.tasks.apply_list(updates)
        if reset:
            self.log_view.add_line("Some events were too old to replay: the rows show the latest state "
                                   "of recent tasks", LineKind.ERROR)
        if updates:
            self.log_view.add_line(f"The server listed {len(updates)} recent tasks", LineKind.RECEIVED)

    @Slot(str)
    def _log_cancel_accepted(self, task_id):
        self.log_view.add_line(f"The server is cancelling task {short_id(task_id)}", LineKind.RECEIVED)

    @Slot(str, str)
    def _on_request_failed(self, task_id, text):
        if task_id:
            self.tasks.set_cancel_pending(task_id, False)
        self.log_view.add_line(text, LineKind.ERROR)

    @Slot(str, object, object)
    def _show_history(self, task_id, updates, news):
        self.log_view.add_line(f"History of task {short_id(task_id)} ({len(updates)} events):",
                               LineKind.RECEIVED)
        for update in updates:
            self.log_view.add_line(f"  #{update.seq} {update.state} {update.percent}%: {update.message}",
                                   LineKind.PROGRESS)
        for update in news:  # what the row had not shown yet
            self.tasks.apply(update, live=False)

    @Slot(str, str)
    def _log_server_error(self, code, message):
        self.log_view.add_line(f"Server error ({code}): {message}", LineKind.ERROR)

    @Slot(str)
    def _log_error(self, text):
        self.log_view.add_line(text, LineKind.ERROR)

    @Slot(str, str, str)
    def _on_task_finished(self, task_id, state, message):
        self.notifier.task_finished(task_id, state, message)


def _group(title, widget):
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 8, 8, 8)
    layout.addWidget(widget)
    return box


def _action(parent, text, slot, tip=None, shortcut=None):
    action = QAction(text, parent)
    action.triggered.connect(slot)
    if tip:
        action.setStatusTip(tip)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    parent.addAction(action)  # shortcuts work even with the menu bar hidden
    return action


def _warn(parent, title, text):
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def app_icon():
    """Return the window icon, drawn here so no image file has to ship: a bar two-thirds full."""
    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#1d4ed8"))
    painter.drawRoundedRect(2, 2, 60, 60, 12, 12)
    painter.setBrush(QColor("#ffffff"))
    painter.drawRoundedRect(10, 26, 44, 12, 4, 4)
    painter.setBrush(QColor("#10b981"))
    painter.drawRoundedRect(12, 28, 28, 8, 3, 3)
    painter.end()
    return QIcon(pixmap)

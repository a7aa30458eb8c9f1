"""The main window: message box, the original Start button, the start form (any kind, with its
parameters), the task list (sortable, filtered by state and text; Copy id, Cancel and History per task,
also in each row's context menu), history dialogs, the log, status bar, actions and settings.
Colours come from the palette (colours.py)."""
import contextlib
import html
import os

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QFileDialog, QGroupBox, QHBoxLayout,
                               QInputDialog, QLabel, QLineEdit, QMainWindow, QMessageBox, QPushButton,
                               QSplitter, QVBoxLayout, QWidget)

from shared import config, protocol
from shared.protocol import TaskState

from . import APPLICATION_NAME, colours
from .colours import Tone
from .connection import Connection, ConnectionState
from .history_dialog import HistoryDialog
from .log_view import LineKind, LogView
from .notifications import TaskNotifier
from .start_form import StartForm
from .text import check_url, plain_tooltip, short_id, split_token
from .task_list import TaskListModel, TaskListView

SETTINGS_SERVER_URL = "server/url"
SETTINGS_TOKEN = "server/token"  # saved only when the user asks (--remember-token)
SETTINGS_TOKEN_SERVER = "server/token_server"  # the server that token is for: never sent elsewhere
SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_SPLITTER = "window/splitter"
SETTINGS_LOG_STEPS = "log/every_step"

WINDOW_TITLE = "Task Progress"
DEFAULT_SIZE = QSize(980, 680)
LOG_EACH_UP_TO = 20  # progress updates in one delivery logged one line each; more are summed up
RECORDS_DELAY_MS = 100  # records wanted within this are asked for in one request
STATE_LABELS = {ConnectionState.CONNECTING: "Connecting to {url}…",
                ConnectionState.CONNECTED: "Connected to {url}",
                ConnectionState.RECONNECTING: "Reconnecting to {url} (attempt {attempt})…",
                ConnectionState.OFFLINE: "Offline: {url}"}
STATE_TONES = {ConnectionState.CONNECTING: Tone.WARN, ConnectionState.CONNECTED: Tone.OK,
               ConnectionState.RECONNECTING: Tone.WARN, ConnectionState.OFFLINE: Tone.BAD}
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
        self.history_dialogs = {}  # task id -> its open HistoryDialog
        self._records_wanted = []
        self._records_timer = QTimer(self, singleShot=True, interval=RECORDS_DELAY_MS)
        self._records_timer.timeout.connect(self._load_records)
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
        self.start_form = StartForm()

        self.task_view = TaskListView(self.tasks)
        self.state_filter = QComboBox(objectName="stateFilter")
        self.state_filter.addItem("All states", "")
        for state in TaskState:
            self.state_filter.addItem(str(state), str(state))
        self.search_edit = QLineEdit(objectName="searchEdit", clearButtonEnabled=True,
                                     placeholderText="Task id or kind")
        filters = QHBoxLayout()
        for text, widget in (("St&ate:", self.state_filter), ("Sea&rch:", self.search_edit)):
            label = QLabel(text)
            label.setBuddy(widget)
            filters.addWidget(label)
            filters.addWidget(widget)
        filters.addStretch(1)
        self.log_view = LogView()
        self.log_steps = QCheckBox("Every progress &step", objectName="logStepsCheck")
        self.log_steps.setToolTip("Log every progress event of every task, not only sends, replies and ends")
        self.splitter = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        self.splitter.addWidget(_group("Tasks", filters, self.task_view))
        self.splitter.addWidget(_group("Log", self.log_steps, self.log_view))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        # "No worker running", "Redis unreachable": shown while the server says so.
        self.health_banner = QLabel(objectName="healthBanner", wordWrap=True, visible=False)
        self.health_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.health_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 12, 12, 6)
        layout.setSpacing(10)
        layout.addWidget(self.health_banner)
        layout.addLayout(message_row)
        layout.addWidget(self.start_form)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        # Keyboard order: the message, the original Start, the start form, the filters, the rows, then the log.
        chain = [self.message_edit, self.send_button, self.start_button, self.start_form.kind_box,
                 self.start_form.start_button, self.state_filter, self.search_edit, self.task_view,
                 self.log_steps, self.log_view]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)
        self._apply_palette()

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
        self.log_steps_action = QAction("Every progress &step", self, checkable=True)
        self.log_steps_action.setStatusTip("Log every progress event, not only sends, replies and ends")
        self.log_steps_action.toggled.connect(self.log_steps.setChecked)
        self.log_steps.toggled.connect(self.log_steps_action.setChecked)
        log_menu.addAction(self.clear_log_action)
        log_menu.addAction(self.save_log_action)
        log_menu.addAction(self.log_steps_action)

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
        connection.start_refused.connect(self.start_form.show_error)
        connection.kinds_received.connect(self._on_kinds)
        connection.tasks_updated.connect(self._on_tasks_updated)
        connection.task_list_received.connect(self._on_task_list)
        connection.records_received.connect(self._on_records)
        connection.cancel_accepted.connect(self._log_cancel_accepted)
        connection.history_received.connect(self._show_history)
        connection.request_failed.connect(self._on_request_failed)
        connection.server_error.connect(self._log_server_error)
        connection.invalid_message.connect(self._log_error)
        self.tasks.task_finished.connect(self._on_task_finished)
        self.tasks.records_wanted.connect(self._want_records)
        self.task_view.cancel_clicked.connect(self.cancel_task)
        self.task_view.history_clicked.connect(self.load_history)
        self.task_view.id_copied.connect(self._on_id_copied)
        self.start_form.start_requested.connect(self.start_kind)
        self.state_filter.currentIndexChanged.connect(
            lambda *_: self.task_view.rows.set_state(self.state_filter.currentData()))
        self.search_edit.textChanged.connect(self.task_view.rows.set_text)

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
        self.log_steps.setChecked(settings.value(SETTINGS_LOG_STEPS, False, type=bool))

    def write_settings(self):
        """Save the window's geometry and the server URL chosen in the app."""
        settings = QSettings()
        settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        settings.setValue(SETTINGS_SPLITTER, self.splitter.saveState())
        settings.setValue(SETTINGS_SERVER_URL, self._saved_server_url)
        settings.setValue(SETTINGS_LOG_STEPS, self.log_steps.isChecked())

    def save_token(self, server_url, token):
        """Keep token for server_url in the settings, in a file only this user can read."""
        settings = QSettings()
        settings.setValue(SETTINGS_TOKEN, token)
        settings.setValue(SETTINGS_TOKEN_SERVER, server_url)
        settings.sync()
        with contextlib.suppress(OSError):  # a file, on Linux and macOS; Windows keeps it in the registry
            os.chmod(settings.fileName(), 0o600)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._apply_palette()

    def _apply_palette(self):
        """Colour the banner and the status from the palette, in light and dark themes alike."""
        self.health_banner.setStyleSheet(colours.banner_style(self.palette()))
        if hasattr(self, "_link_state"):
            self._show_status()

    def closeEvent(self, event):
        self.write_settings()
        for dialog in list(self.history_dialogs.values()):
            dialog.close()
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
        """Ask the server for one more background task (the original kind)."""
        if self.connection.start_task():
            self.log_view.add_line("Start a background task", LineKind.SENT)
        else:
            self.statusBar().showMessage("Not connected: no task was started.", 5000)

    @Slot(str, object)
    def start_kind(self, kind, params):
        """Ask the server for a task of kind with params (from the start form)."""
        self.start_form.show_error("")
        if self.connection.start_task(kind=kind, params=params):
            title = self.start_form.kind().title if self.start_form.kind() else kind
            self.log_view.add_line(f"Start {title} ({', '.join(f'{k}={v}' for k, v in params.items())})",
                                   LineKind.SENT)
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
        """Ask the server for every event of task_id, to show in its history dialog."""
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
            "<p>Start any kind of task the server runs from the start form. Each task has Copy id, "
            "Cancel (while it runs) and History buttons, also in its context menu; the list sorts by "
            "any column and filters by state and text.</p>"
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
        self.start_form.set_online(online)
        if online:
            self.tasks.want_records(again=True)  # answers lost with the last connection
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
        tone = STATE_TONES[state]
        problem = self._health.problem if self._health else None
        if problem:
            text += " — tasks will wait" if self._health.redis else " — tasks cannot start"
            tone = Tone.WARN  # not green: something is wrong
        self.connection_status.setText(text)
        self.connection_status.setStyleSheet(f"color: {colours.tone(self.palette(), tone).name()};")
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
    def _on_tasks_updated(self, news):
        """Show a news_inbox.News: each task's newest update in its row, every update in open
        history dialogs, and the ends of tasks (every step only when asked) in the log."""
        for update in news.latest.values():
            self.tasks.apply(update)
        self.tasks.flush()  # news comes at most once a frame already
        if self.history_dialogs:
            self._add_to_dialogs(news.updates)
        # A flood is summed up in one line (every task's end still gets its own), so the log keeps
        # telling what happened instead of scrolling faster than anyone can read.
        every_step = self.log_steps.isChecked()
        if every_step and len(news.updates) <= LOG_EACH_UP_TO:
            shown = news.updates
        else:
            shown = news.finals
            if every_step:
                self.log_view.add_line(f"{len(news.updates)} progress updates for {len(news.latest)} tasks",
                                       LineKind.PROGRESS)
        for update in shown:
            kind = LineKind.ERROR if update.state is TaskState.FAILED else LineKind.PROGRESS
            self.log_view.add_line(f"Task {update.short_id} {update.state} {update.percent}%: "
                                   f"{update.message}", kind)

    @Slot(object)
    def _on_kinds(self, kinds):
        self.start_form.set_kinds(kinds)
        self.tasks.set_kinds(kinds)

    @Slot(object)
    def _want_records(self, task_ids):
        self._records_wanted.extend(task_ids)
        if not self._records_timer.isActive():
            self._records_timer.start()

    def _load_records(self):
        wanted, self._records_wanted = list(dict.fromkeys(self._records_wanted)), []
        for start in range(0, len(wanted), protocol.MAX_RECORDS_PER_REQUEST):
            self.connection.load_records(wanted[start:start + protocol.MAX_RECORDS_PER_REQUEST])

    @Slot(object)
    def _on_records(self, updates):
        self.tasks.apply_records(updates)
        for update in updates:
            self._update_dialog(update.task_id)

    def _add_to_dialogs(self, updates):
        for task_id, dialog in self.history_dialogs.items():
            mine = [u for u in updates if u.task_id == task_id]
            if mine:
                dialog.add_events(mine)
                self._update_dialog(task_id)

    def _update_dialog(self, task_id):
        dialog, row = self.history_dialogs.get(task_id), self.tasks.task(task_id)
        if dialog is not None and row is not None:
            self.tasks.flush()
            dialog.show_task(row, self.tasks.summary(row))

    @Slot(str)
    def _on_id_copied(self, task_id):
        self.statusBar().showMessage(f"Copied the id of task {short_id(task_id)}: {task_id}", 5000)

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
        for update in news:  # what the row had not shown yet
            self.tasks.apply(update, live=False)
        self.log_view.add_line(f"The history of task {short_id(task_id)} has {len(updates)} events",
                               LineKind.RECEIVED)
        dialog = self.history_dialogs.get(task_id)
        if dialog is None:
            dialog = self.history_dialogs[task_id] = HistoryDialog(task_id, self)
            dialog.copy_requested.connect(self.task_view.copy_id)
            dialog.finished.connect(lambda *_: self.history_dialogs.pop(task_id, None))
        dialog.add_events(updates)
        self._update_dialog(task_id)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    @Slot(str, str)
    def _log_server_error(self, code, message):
        self.log_view.add_line(f"Server error ({code}): {message}", LineKind.ERROR)

    @Slot(str)
    def _log_error(self, text):
        self.log_view.add_line(text, LineKind.ERROR)

    @Slot(str, str, str)
    def _on_task_finished(self, task_id, state, message):
        self.notifier.task_finished(task_id, state, message)


def _group(title, *parts):
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 8, 8, 8)
    for part in parts:
        layout.addLayout(part) if isinstance(part, QHBoxLayout) else layout.addWidget(part)
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

"""The task list: one row per task (id, kind and parameters, a bar in its state's colour, state, start
time, elapsed and ETA or duration, Copy id / Cancel / History, and its result, failure or message).

Updates are collected as they arrive and applied at most once per frame, so a flood of progress
events costs one repaint per frame, not one per event. Finished tasks stay listed. Rows are shown
through a proxy that sorts (newest first until a header is clicked) and filters by state and text.
A task's record (kind, params, times, result) is asked for when its events show it missing or
outdated (records_wanted); the row's buttons and context menu only say what was asked
(cancel_clicked, history_clicked): the window does the asking. Colours come from the palette.
"""
import time
from dataclasses import dataclass
from enum import IntEnum

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QSize, QSortFilterProxyModel, Qt, QTimer, Signal,
                            Slot)
from PySide6.QtGui import QAction, QFont, QFontMetrics, QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHBoxLayout, QMenu, QSizePolicy, QStyle,
                               QStyledItemDelegate, QStyleOptionProgressBar, QStyleOptionViewItem, QToolButton,
                               QTreeView, QWidget)

from shared import protocol
from shared.protocol import TaskState

from . import colours, timing
from .colours import StateColours
from .text import plain_tooltip, short_id

FLUSH_INTERVAL_MS = 16  # about one frame
TICK_MS = 1000  # elapsed and ETA move on this often
WAITING_STATE = "starting"  # shown for a task whose first progress event has not arrived yet
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ORDER = {None: 0, TaskState.QUEUED: 1, TaskState.RUNNING: 2, TaskState.SUCCEEDED: 3,
               TaskState.FAILED: 4, TaskState.CANCELLED: 5}
STATE_OF_ORDER = {number: state for state, number in STATE_ORDER.items()}


class Column(IntEnum):
    """The task list's columns, in order."""

    TASK = 0  # the short id; sorted by when the task was first seen
    KIND = 1  # the kind's title and the parameters
    PROGRESS = 2
    STATE = 3
    STARTED = 4
    TIME = 5  # elapsed and ETA while it runs, its duration once finished
    ACTIONS = 6  # the Copy id, Cancel and History buttons
    MESSAGE = 7  # the result, the failure reason, or the latest message


COLUMN_COUNT = len(Column)
# The roles data() answers; a view asks for about ten per cell it paints, each a call into Python.
ANSWERED_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.ToolTipRole,
                            Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole,
                            Qt.ItemDataRole.AccessibleTextRole})
HEADERS = {Column.TASK: "Task", Column.KIND: "Kind", Column.PROGRESS: "Progress", Column.STATE: "State",
           Column.STARTED: "Started", Column.TIME: "Time", Column.ACTIONS: "", Column.MESSAGE: "Result / message"}


@dataclass(slots=True)
class TaskRow:
    """What the list shows about one task."""

    task_id: str
    order: int = 0  # when the list first saw it: newer tasks have higher numbers
    state: TaskState | None = None  # None until the first progress event
    percent: int = 0
    message: str = ""
    attempt: int = 1
    ts: float = 0.0  # the server's time of the latest event
    received: float = 0.0  # when it arrived here (time.monotonic())
    # Its record (payloads.TaskRecord.as_dict()) once received, with the state and attempt it came with.
    record: dict | None = None
    record_seq: int = -1  # the seq of the state the record came with
    record_asked: str = ""  # the change of its life the record was last asked for at
    cancel_pending: bool = False  # a cancel was sent and its answer is awaited

    @property
    def state_text(self):
        """Return the state as the list shows it."""
        return str(self.state) if self.state else WAITING_STATE

    @property
    def is_final(self):
        """Tell whether the task has ended (so it can no longer be cancelled)."""
        return self.state is not None and self.state.is_final

    @property
    def kind(self):
        """Return the name of its kind, or None while unknown."""
        return (self.record or {}).get("kind")

    def view(self):
        """Return its latest state with its record, as timing.py and protocol.record_outdated read it."""
        return {**(self.record or {}), "state": self.state_text, "percent": self.percent, "ts": self.ts,
                "message": self.message, "attempt": self.attempt}


class TaskListModel(QAbstractTableModel):
    """The tasks seen since the window opened, in the order first seen."""

    task_finished = Signal(str, str, str)  # task id, final state, message
    records_wanted = Signal(object)  # task ids whose record is missing or outdated

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows = []
        self._row_of = {}  # task id -> row number
        self._pending = {}  # task id -> (newest TaskUpdate not yet shown, whether it arrived live)
        self._kinds = {}  # name -> payloads.TaskKind, for titles and the order of parameters
        self._palette = QApplication.palette()
        self._colours = StateColours(self._palette)
        self._bold = QFont()
        self._bold.setBold(True)
        self._flush_timer = QTimer(self, singleShot=True, interval=FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)
        self._tick_timer = QTimer(self, interval=TICK_MS)
        self._tick_timer.timeout.connect(self.tick)
        self._tick_timer.start()

    def set_palette(self, palette):
        """Colour states for palette (the view's)."""
        self._palette = palette
        self._colours = StateColours(palette)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, COLUMN_COUNT - 1))

    def set_kinds(self, kinds):
        """Take the kinds the server runs (payloads.TaskKind), for titles and parameters."""
        self._kinds = {kind.name: kind for kind in kinds}
        if self._rows:
            self.dataChanged.emit(self.index(0, Column.KIND), self.index(len(self._rows) - 1, Column.KIND))

    @Slot(object)
    def apply(self, update, live=True):
        """Take a TaskUpdate newer than any taken for its task; the row changes on the next flush."""
        self._pending[update.task_id] = (update, live)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    @Slot(object)
    def apply_list(self, updates):
        """Take the server's list of recent tasks; tasks that ended before they were listed stay quiet."""
        for update in updates:
            self.apply(update, live=False)

    def apply_records(self, updates):
        """Take tasks' records (TaskUpdates with .record); a record older than the one held is ignored.

        Only the record is taken: a task's state moves on through its events alone.
        """
        self.flush()
        changed = []
        updates = [update for update in updates if update.task_id in self._row_of]
        for update in updates:
            if self._take_record(self._rows[self._row_of[update.task_id]], update):
                changed.append(self._row_of[update.task_id])
        self._changed(changed)

    @staticmethod
    def _take_record(row, update):
        if update.record is None or update.seq < row.record_seq:
            return False
        row.record = {**update.record.as_dict(), "state": str(update.state), "attempt": update.attempt}
        row.record_seq = update.seq
        return True

    @Slot(str)
    def add_task(self, task_id):
        """List task_id now, before its first progress event."""
        if task_id not in self._row_of:
            self._insert([TaskRow(task_id)])

    def flush(self):
        """Show every queued update: new rows in one insert, changed rows in one dataChanged."""
        self._flush_timer.stop()
        pending, self._pending = self._pending, {}
        self._insert([TaskRow(task_id) for task_id in pending if task_id not in self._row_of])
        changed = []
        records = False  # whether a record came too (then the Kind and Started columns change as well)
        now = time.monotonic()
        for task_id, (update, live) in pending.items():
            row = self._rows[self._row_of[task_id]]
            was_watched = row.state is not None and not row.state.is_final
            row.state, row.percent, row.message = update.state, update.percent, update.message
            row.attempt, row.ts, row.received = update.attempt, update.ts, now
            records |= self._take_record(row, update)
            changed.append(self._row_of[task_id])
            # Announce an end the user was waiting for, not every old task the server lists.
            if update.state.is_final and (live or was_watched):
                self.task_finished.emit(task_id, str(update.state), update.message)
        # Only the columns an event changes: the view then repaints only those cells, and the proxy
        # sorts again only when sorted by one of them.
        self._changed(changed, Column.TASK if records else Column.PROGRESS)
        self.want_records([self._rows[n] for n in changed])

    def want_records(self, rows=None, again=False):
        """Ask (records_wanted) for the records of rows (default: all) that are missing or outdated, each
        once per change of its task's life; again: also those asked for already (their answer was lost
        with a connection)."""
        wanted = []
        for row in self._rows if rows is None else rows:
            if row.state is None or not protocol.record_outdated(row.record, row.view()):
                continue
            key = f"{row.state}:{row.attempt}"
            if key != row.record_asked or again:
                row.record_asked = key
                wanted.append(row.task_id)
        if wanted:
            self.records_wanted.emit(wanted)

    def tick(self):
        """Move the times of unfinished tasks on."""
        running = [n for n, row in enumerate(self._rows) if row.state is not None and not row.state.is_final]
        if running:
            self.dataChanged.emit(self.index(min(running), Column.TIME), self.index(max(running), Column.TIME),
                                  [Qt.ItemDataRole.DisplayRole])

    def set_cancel_pending(self, task_id, pending):
        """Mark that a cancel of task_id awaits the server's answer (or no longer does)."""
        row = self._row_of.get(task_id)
        if row is not None and self._rows[row].cancel_pending != pending:
            self._rows[row].cancel_pending = pending
            self.dataChanged.emit(self.index(row, Column.ACTIONS), self.index(row, Column.ACTIONS))

    def task(self, task_id):
        """Return the TaskRow shown for task_id, or None."""
        row = self._row_of.get(task_id)
        return None if row is None else self._rows[row]

    def task_at(self, row):
        """Return the TaskRow shown in row number row."""
        return self._rows[row]

    def tasks(self):
        """Return every TaskRow, in the order first seen."""
        return list(self._rows)

    def kind_title(self, row):
        """Return the title of a task's kind ("Task" while unknown)."""
        kind = self._kinds.get(row.kind)
        return kind.title if kind else (row.kind or "Task")

    def summary(self, row):
        """Return the kind and parameters of a task, as its Kind column shows them."""
        kind = self._kinds.get(row.kind)
        params = timing.params_summary((row.record or {}).get("params"), kind and kind.params)
        return f"{self.kind_title(row)} · {params}" if params else self.kind_title(row)

    def _changed(self, changed, first_column=Column.TASK):
        if changed:
            self.dataChanged.emit(self.index(min(changed), first_column), self.index(max(changed), COLUMN_COUNT - 1))

    def _insert(self, rows):
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        for number, row in enumerate(rows, first):
            row.order = number
            self._rows.append(row)
            self._row_of[row.task_id] = number
        self.endInsertRows()

    # QAbstractTableModel

    # Painting calls these hundreds of times a frame (through the proxy's mapping, too), each time
    # taking the GIL: they are kept to a few cheap lines, and colours are worked out once per palette.

    def index(self, row, column, parent=QModelIndex()):
        # One call into Python instead of three (QAbstractTableModel's checks rowCount and columnCount).
        if 0 <= row < len(self._rows) and 0 <= column < COLUMN_COUNT and not parent.isValid():
            return self.createIndex(row, column)
        return QModelIndex()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role not in ANSWERED_ROLES or not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            return self._sort_key(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            text = {Column.TASK: row.task_id, Column.KIND: self.summary(row),
                    Column.MESSAGE: self._text(row, Column.MESSAGE)}.get(column)
            return plain_tooltip(text) if text else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == Column.STATE:
                return self._colours.of(row.state)
            if column == Column.MESSAGE and timing.outcome(row.view())[0] == "failure":
                return self._colours.bad
        if role == Qt.ItemDataRole.FontRole and column == Column.STATE:
            return self._bold
        if role == Qt.ItemDataRole.AccessibleTextRole and column == Column.PROGRESS:
            return f"{row.percent}%"
        return None

    def _text(self, row, column):
        if column == Column.TASK:
            return short_id(row.task_id)
        if column == Column.KIND:
            return self.summary(row)
        if column == Column.PROGRESS:
            return row.percent
        if column == Column.STATE:
            return row.state_text
        record = row.record or {}
        if column == Column.STARTED:
            at = record.get("started") or record.get("created")
            return timing.format_clock(at) if at else ""
        if column == Column.TIME:
            return self._times(row)
        if column == Column.MESSAGE:
            return timing.outcome(row.view())[1]
        return None

    def _times(self, row):
        """Return elapsed · ETA while running, waiting while queued, the duration once finished."""
        times = timing.timing(row.view(), timing.since(row.received))
        if times["duration"] is not None:
            return f"took {timing.format_duration(times['duration'])}"
        if times["elapsed"] is not None:
            eta = "…" if times["eta"] is None else timing.format_duration(times["eta"])
            return f"{timing.format_duration(times['elapsed'])} · ETA {eta}"
        if times["waiting"] is not None:
            return f"waiting {timing.format_duration(times['waiting'])}"
        return ""

    def _sort_key(self, row, column):
        record = row.record or {}
        if column == Column.TASK:
            return row.order
        if column == Column.PROGRESS:
            return row.percent
        if column == Column.STATE:
            return STATE_ORDER[row.state]
        if column == Column.STARTED:
            return record.get("started") or record.get("created") or 0.0
        if column == Column.TIME:
            times = timing.timing(row.view(), timing.since(row.received))
            return next((value for value in times.values() if value is not None), -1.0)
        return str(self._text(row, column) or "").lower()


class TaskFilter(QSortFilterProxyModel):
    """The rows shown: sorted by any column (newest first at the start), filtered by state and text."""

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.setSourceModel(model)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self._state = None  # a TaskState, or None for every state
        self._text = ""

    def set_state(self, state):
        """Show only tasks in state (None: every state)."""
        self.beginFilterChange()
        self._state = TaskState(state) if state else None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text):
        """Show only tasks whose id or kind contains text (any case)."""
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row, source_parent):
        model = self.sourceModel()
        row = model.task_at(source_row)
        if self._state is not None and row.state is not self._state:
            return False
        if self._text:
            words = f"{row.task_id} {row.kind or ''} {model.kind_title(row)}".lower()
            return self._text in words
        return True

    def task_at(self, proxy_row):
        """Return the TaskRow shown in proxy_row."""
        return self.sourceModel().task_at(self.mapToSource(self.index(proxy_row, 0)).row())


class ProgressBarDelegate(QStyledItemDelegate):
    """Draw a number from 0 to 100 as a progress bar in the colour of its task's state."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._colours = None  # StateColours of the palette last painted with

    def paint(self, painter, option, index):
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        item.text = ""  # the bar carries the number
        widget = option.widget
        style = widget.style() if widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, widget)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(4, 3, -4, -3)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = int(index.data() or 0)
        bar.text = f"{bar.progress}%"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        palette = QPalette(option.palette)
        if self._colours is None or self._colours.key != option.palette.cacheKey():
            self._colours = StateColours(option.palette)
        state = STATE_OF_ORDER.get(index.siblingAtColumn(Column.STATE).data(SORT_ROLE))
        palette.setColor(QPalette.ColorRole.Highlight, self._colours.of(state))
        palette.setColor(QPalette.ColorRole.HighlightedText, self._colours.text_on(state))
        bar.palette = palette
        bar.fontMetrics = option.fontMetrics
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)

    def sizeHint(self, option, index):
        return QSize(160, option.fontMetrics.height() + 10)


class TaskActions(QWidget):
    """The buttons in a task's row: Copy id, Cancel (while the task may still run) and History.

    They take no keyboard focus: the keyboard reaches a task through its row (Ctrl+C, Delete, Enter,
    and the context menu), so Tab goes from the list to the log in one step.
    """

    def __init__(self, task_id, parent=None):
        super().__init__(parent)
        self.task_id = task_id
        self.setObjectName(f"taskActions-{task_id}")
        short = short_id(task_id)
        self.copy_button = _row_button("Copy id", f"Copy the whole id of task {short}", f"copyButton-{task_id}")
        self.cancel_button = _row_button("Cancel", f"Cancel task {short}", f"cancelButton-{task_id}")
        self.history_button = _row_button("History", f"Show every event of task {short} in a window of its own",
                                          f"historyButton-{task_id}")
        # A finished task's History stays where the others are.
        policy = self.cancel_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.cancel_button.setSizePolicy(policy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 1, 4, 1)
        layout.setSpacing(4)
        for button in (self.copy_button, self.cancel_button, self.history_button):
            layout.addWidget(button)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def show_row(self, row):
        """Match the buttons to the row: no Cancel once the task ended, none twice."""
        self.cancel_button.setVisible(not row.is_final)
        self.cancel_button.setEnabled(not row.cancel_pending)
        self.cancel_button.setToolTip(f"Cancelling task {short_id(self.task_id)}…" if row.cancel_pending
                                      else f"Cancel task {short_id(self.task_id)}")


def _row_button(text, description, name):
    button = QToolButton(objectName=name, text=text, toolTip=description)
    button.setAccessibleName(f"{text}: {description}")
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class TaskListView(QTreeView):
    """The task table: a flat, sortable tree view, one uniform row per task, with a context menu."""

    cancel_clicked = Signal(str)  # task id
    history_clicked = Signal(str)  # task id
    id_copied = Signal(str)  # task id, now on the clipboard

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.setObjectName("taskList")
        self.tasks = model
        self.rows = TaskFilter(model, self)
        self.setModel(self.rows)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)  # lets the view skip measuring rows during a flood
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setItemDelegateForColumn(Column.PROGRESS, ProgressBarDelegate(self))
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setAccessibleName("Tasks")
        self.setSortingEnabled(True)
        self.sortByColumn(Column.TASK, Qt.SortOrder.DescendingOrder)  # newest first
        # Fixed starting widths, measured on what the columns show (no state or time is ever cut):
        # sizing columns to their contents would measure every row on every update.
        self.header().setStretchLastSection(True)
        metrics = self.fontMetrics()
        bold = QFont(self.font())
        bold.setBold(True)
        widest_state = max(QFontMetrics(bold).horizontalAdvance(state) for state in [*map(str, TaskState), WAITING_STATE])
        padding = 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 16
        for column, width in ((Column.TASK, metrics.horizontalAdvance("0123abcd")),
                              (Column.KIND, metrics.horizontalAdvance("M") * 19),
                              (Column.PROGRESS, metrics.horizontalAdvance("M") * 9),
                              (Column.STATE, widest_state),
                              (Column.STARTED, metrics.horizontalAdvance("00:00:00")),
                              (Column.TIME, metrics.horizontalAdvance("0:00:00 · ETA 0:00:00"))):
            self.setColumnWidth(column, width + padding)
        self.setColumnWidth(Column.ACTIONS, TaskActions("").sizeHint().width())
        self.rows.rowsInserted.connect(self._add_actions)
        self.rows.dataChanged.connect(self._update_actions)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)
        self.copy_action = self._row_action("&Copy id", QKeySequence.StandardKey.Copy, self.copy_id)
        self.cancel_action = self._row_action("C&ancel", QKeySequence.StandardKey.Delete, self.cancel_clicked.emit)
        self.history_action = self._row_action("&History…", "Return", self.history_clicked.emit)
        model.set_palette(self.palette())

    def _row_action(self, text, shortcut, act):
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(lambda *_: self.current_task_id() and act(self.current_task_id()))
        self.addAction(action)  # its shortcut works while the list has the focus
        return action

    def current_task_id(self):
        """Return the id of the selected task, or None."""
        index = self.currentIndex()
        return self.rows.task_at(index.row()).task_id if index.isValid() else None

    def select_task(self, task_id):
        """Make task_id's row the current one (if it is shown)."""
        for proxy_row in range(self.rows.rowCount()):
            if self.rows.task_at(proxy_row).task_id == task_id:
                self.setCurrentIndex(self.rows.index(proxy_row, 0))
                return True
        return False

    def copy_id(self, task_id):
        """Put task_id on the clipboard."""
        QGuiApplication.clipboard().setText(task_id)
        self.id_copied.emit(task_id)

    def context_menu(self, task_id):
        """Return the menu of a task's row: Copy id, Cancel (while it may run), History."""
        row = self.tasks.task(task_id)
        menu = QMenu(self)
        menu.setObjectName("taskMenu")
        for action in (self.copy_action, self.cancel_action, self.history_action):
            menu.addAction(action)
        self.cancel_action.setEnabled(row is not None and not row.is_final and not row.cancel_pending)
        return menu

    @Slot(object)
    def _show_menu(self, position):
        index = self.indexAt(position)
        if not index.isValid():
            return
        self.setCurrentIndex(index)
        self.context_menu(self.current_task_id()).popup(self.viewport().mapToGlobal(position))

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self.tasks.set_palette(self.palette())

    @Slot(QModelIndex, int, int)
    def _add_actions(self, _parent, first, last):
        for proxy_row in range(first, last + 1):
            task = self.rows.task_at(proxy_row)
            actions = TaskActions(task.task_id)
            actions.copy_button.clicked.connect(lambda *_, t=task.task_id: self.copy_id(t))
            actions.cancel_button.clicked.connect(lambda *_, t=task.task_id: self.cancel_clicked.emit(t))
            actions.history_button.clicked.connect(lambda *_, t=task.task_id: self.history_clicked.emit(t))
            actions.show_row(task)
            self.setIndexWidget(self.rows.index(proxy_row, Column.ACTIONS), actions)

    @Slot(QModelIndex, QModelIndex)
    def _update_actions(self, top_left, bottom_right):
        for proxy_row in range(top_left.row(), bottom_right.row() + 1):
            actions = self.indexWidget(self.rows.index(proxy_row, Column.ACTIONS))
            if actions is not None:
                actions.show_row(self.rows.task_at(proxy_row))

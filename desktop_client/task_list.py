"""The task list: one row per task (short id, progress bar, state, Cancel and History, message).

Updates are collected as they arrive and applied at most once per frame, so a flood of progress
events costs one repaint per frame, not one per event. Finished tasks stay listed. The row's
buttons only say what was clicked (cancel_clicked, history_clicked): the window does the asking.
"""
from dataclasses import dataclass
from enum import IntEnum

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHBoxLayout, QSizePolicy, QStyle,
                               QStyledItemDelegate, QStyleOptionProgressBar, QStyleOptionViewItem,
                               QToolButton, QTreeView, QWidget)

from shared.protocol import TaskState

from .text import plain_tooltip, short_id

FLUSH_INTERVAL_MS = 16  # about one frame
WAITING_STATE = "starting"  # shown for a task whose first progress event has not arrived yet
STATE_COLOURS = {TaskState.SUCCEEDED: "#047857", TaskState.FAILED: "#b91c1c",
                 TaskState.CANCELLED: "#b45309"}


class Column(IntEnum):
    """The task list's columns, in order."""

    TASK = 0
    PROGRESS = 1
    STATE = 2
    ACTIONS = 3  # the Cancel and History buttons
    MESSAGE = 4


HEADERS = {Column.TASK: "Task", Column.PROGRESS: "Progress", Column.STATE: "State",
           Column.ACTIONS: "", Column.MESSAGE: "Message"}


@dataclass(slots=True)
class TaskRow:
    """What the list shows about one task."""

    task_id: str
    state: TaskState | None = None  # None until the first progress event
    percent: int = 0
    message: str = ""
    cancel_pending: bool = False  # a cancel was sent and its answer is awaited

    @property
    def state_text(self):
        """Return the state as the list shows it."""
        return str(self.state) if self.state else WAITING_STATE

    @property
    def is_final(self):
        """Tell whether the task has ended (so it can no longer be cancelled)."""
        return self.state is not None and self.state.is_final


class TaskListModel(QAbstractTableModel):
    """The tasks seen since the window opened, oldest first."""

    task_finished = Signal(str, str, str)  # task id, final state, message

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows = []
        self._row_of = {}  # task id -> row number
        self._pending = {}  # task id -> (newest TaskUpdate not yet shown, whether it arrived live)
        self._flush_timer = QTimer(self, singleShot=True, interval=FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)

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

    @Slot(str)
    def add_task(self, task_id):
        """List task_id now, before its first progress event."""
        if task_id not in self._row_of:
            self._insert([TaskRow(task_id)])

    def flush(self):
        """Show every queued update: new rows in one insert, changed rows in one dataChanged."""
        pending, self._pending = self._pending, {}
        self._insert([TaskRow(task_id) for task_id in pending if task_id not in self._row_of])
        changed = []
        for task_id, (update, live) in pending.items():
            row = self._rows[self._row_of[task_id]]
            was_watched = row.state is not None and not row.state.is_final
            row.state, row.percent, row.message = update.state, update.percent, update.message
            changed.append(self._row_of[task_id])
            # Announce an end the user was waiting for, not every old task the server lists.
            if update.state.is_final and (live or was_watched):
                self.task_finished.emit(task_id, str(update.state), update.message)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0),
                                  self.index(max(changed), len(Column) - 1))

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
        """Return every TaskRow, oldest first."""
        return list(self._rows)

    def _insert(self, rows):
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        for number, row in enumerate(rows, first):
            self._rows.append(row)
            self._row_of[row.task_id] = number
        self.endInsertRows()

    # QAbstractTableModel

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {Column.TASK: short_id(row.task_id), Column.PROGRESS: row.percent,
                    Column.STATE: row.state_text, Column.MESSAGE: row.message}.get(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            text = {Column.TASK: row.task_id, Column.MESSAGE: row.message}.get(column)
            return plain_tooltip(text) if text else None
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.STATE:
            colour = STATE_COLOURS.get(row.state)
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.AccessibleTextRole and column == Column.PROGRESS:
            return f"{row.percent}%"
        return None


class ProgressBarDelegate(QStyledItemDelegate):
    """Draw a number from 0 to 100 as a progress bar, in the current style."""

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
        bar.palette = option.palette
        bar.fontMetrics = option.fontMetrics
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)

    def sizeHint(self, option, index):
        return QSize(160, option.fontMetrics.height() + 10)


class TaskActions(QWidget):
    """The buttons in a task's row: Cancel (while the task may still run) and History."""

    def __init__(self, task_id, parent=None):
        super().__init__(parent)
        self.task_id = task_id
        self.setObjectName(f"taskActions-{task_id}")
        self.cancel_button = _row_button("Cancel", f"Cancel task {short_id(task_id)}",
                                         f"cancelButton-{task_id}")
        self.history_button = _row_button("History", f"Show every event of task {short_id(task_id)} "
                                          "in the log", f"historyButton-{task_id}")
        # A finished task's History stays where the others are.
        policy = self.cancel_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.cancel_button.setSizePolicy(policy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 1, 4, 1)
        layout.setSpacing(4)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.history_button)
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
    button.setAccessibleName(description)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


class TaskListView(QTreeView):
    """The task table: a flat tree view, one uniform row per task, scrolled to new tasks."""

    cancel_clicked = Signal(str)  # task id
    history_clicked = Signal(str)  # task id

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.setObjectName("taskList")
        self.setModel(model)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)  # lets the view skip measuring rows during a flood
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setItemDelegateForColumn(Column.PROGRESS, ProgressBarDelegate(self))
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        # Fixed starting widths: sizing columns to their contents would measure every row on
        # every update.
        self.header().setStretchLastSection(True)
        em = self.fontMetrics().horizontalAdvance("M")
        for column, width in ((Column.TASK, 7), (Column.PROGRESS, 16), (Column.STATE, 8)):
            self.setColumnWidth(column, width * em)
        self.setColumnWidth(Column.ACTIONS, TaskActions("").sizeHint().width())
        model.rowsInserted.connect(self._add_actions)
        model.dataChanged.connect(self._update_actions)

    @Slot(QModelIndex, int, int)
    def _add_actions(self, _parent, first, last):
        model = self.model()
        for row in range(first, last + 1):
            task = model.task_at(row)
            actions = TaskActions(task.task_id)
            actions.cancel_button.clicked.connect(lambda *_, t=task.task_id: self.cancel_clicked.emit(t))
            actions.history_button.clicked.connect(lambda *_, t=task.task_id: self.history_clicked.emit(t))
            actions.show_row(task)
            self.setIndexWidget(model.index(row, Column.ACTIONS), actions)
        self.scrollTo(model.index(last, 0))

    @Slot(QModelIndex, QModelIndex)
    def _update_actions(self, top_left, bottom_right):
        model = self.model()
        for row in range(top_left.row(), bottom_right.row() + 1):
            actions = self.indexWidget(model.index(row, Column.ACTIONS))
            if actions is not None:
                actions.show_row(model.task_at(row))

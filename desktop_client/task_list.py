"""The task list: one row per task (short id, progress bar, state, message), updated live.

Updates are collected as they arrive and applied at most once per frame, so a flood of progress
events costs one repaint per frame, not one per event. Finished tasks stay listed.
"""
import html
from dataclasses import dataclass
from enum import IntEnum

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QStyle,
                               QStyledItemDelegate, QStyleOptionProgressBar, QStyleOptionViewItem,
                               QTreeView)

from shared.protocol import TaskState

from .payloads import short_id

FLUSH_INTERVAL_MS = 16  # about one frame
WAITING_STATE = "starting"  # shown for a task whose first progress event has not arrived yet
STATE_COLOURS = {TaskState.SUCCEEDED: "#047857", TaskState.FAILED: "#b91c1c",
                 TaskState.CANCELLED: "#b45309"}


class Column(IntEnum):
    """The task list's columns, in order."""

    TASK = 0
    PROGRESS = 1
    STATE = 2
    MESSAGE = 3


HEADERS = {Column.TASK: "Task", Column.PROGRESS: "Progress", Column.STATE: "State",
           Column.MESSAGE: "Message"}


@dataclass(slots=True)
class TaskRow:
    """What the list shows about one task."""

    task_id: str
    state: TaskState | None = None  # None until the first progress event
    percent: int = 0
    message: str = ""
    seq: int = -1

    @property
    def state_text(self):
        """Return the state as the list shows it."""
        return str(self.state) if self.state else WAITING_STATE


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
        """Take a TaskUpdate; the row changes on the next flush."""
        queued = self._pending.get(update.task_id)
        if queued is None or update.seq > queued[0].seq:
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
            if update.seq <= row.seq:
                continue
            was_watched = row.seq >= 0 and not row.state.is_final
            row.state, row.percent, row.message, row.seq = (update.state, update.percent,
                                                            update.message, update.seq)
            changed.append(self._row_of[task_id])
            # Announce an end the user was waiting for, not every old task the server lists.
            if update.state.is_final and (live or was_watched):
                self.task_finished.emit(task_id, str(update.state), update.message)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0),
                                  self.index(max(changed), len(Column) - 1))

    def task(self, task_id):
        """Return the TaskRow shown for task_id, or None."""
        row = self._row_of.get(task_id)
        return None if row is None else self._rows[row]

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
                    Column.STATE: row.state_text, Column.MESSAGE: row.message}[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            text = {Column.TASK: row.task_id, Column.MESSAGE: row.message}.get(column)
            return plain_tooltip(text) if text else None
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.STATE:
            colour = STATE_COLOURS.get(row.state)
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.AccessibleTextRole and column == Column.PROGRESS:
            return f"{row.percent}%"
        return None


def plain_tooltip(text):
    """Return a tooltip that shows text literally.

    Qt guesses whether a tooltip is rich text, so raw server text like "<img src=x>" would be
    parsed; escaping it inside <qt> makes the guess certain and the text literal.
    """
    return f"<qt>{html.escape(text)}</qt>"


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


class TaskListView(QTreeView):
    """The task table: a flat tree view, one uniform row per task, scrolled to new tasks."""

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
        model.rowsInserted.connect(lambda _parent, _first, last: self.scrollTo(model.index(last, 0)))

"""A task's history in a window of its own: what the task is (kind, parameters, times, result or failure)
and every event, in order, kept up to date while it is open. Server text is shown as plain text."""
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout)

from shared.protocol import TaskState

from . import colours, timing
from .text import plain_tooltip, short_id

COLUMNS = ("#", "Time", "State", "%", "Message")


class HistoryDialog(QDialog):
    """Every event of one task, and its record."""

    copy_requested = Signal(str)  # task id

    def __init__(self, task_id, parent=None):
        super().__init__(parent)
        self.task_id = task_id
        self.setObjectName(f"historyDialog-{task_id}")
        self.setWindowTitle(f"History of task {short_id(task_id)}")
        self.resize(720, 420)
        self._last_seq = 0
        self._shown = None  # what show_task() was last given
        self.summary = {name: _plain_label() for name in ("id", "kind", "state", "times", "outcome")}
        self.summary["id"].setText(task_id)
        self.summary["id"].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        for name, label in (("id", "Task"), ("kind", "Kind"), ("state", "State"), ("times", "Times"),
                            ("outcome", "Outcome")):
            form.addRow(label + ":", self.summary[name])
        self.events = QTreeWidget(objectName="historyEvents")
        self.events.setRootIsDecorated(False)
        self.events.setUniformRowHeights(True)
        self.events.setAlternatingRowColors(True)
        self.events.setHeaderLabels(COLUMNS)
        self.events.setAccessibleName(f"Events of task {short_id(task_id)}")
        for column, width in enumerate((40, 80, 90, 40)):
            self.events.setColumnWidth(column, width)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("&Copy id", objectName="historyCopyButton")
        copy.clicked.connect(lambda: self.copy_requested.emit(task_id))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.events, 1)
        layout.addWidget(buttons)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:  # a theme changed: colours from the new palette
            for number in range(self.events.topLevelItemCount()):
                item = self.events.topLevelItem(number)
                item.setForeground(2, colours.state_colour(self.palette(), TaskState(item.text(2))))
            if self._shown is not None:
                self.show_task(*self._shown)

    def show_task(self, row, summary):
        """Show what the task is and how it went: row is its task_list.TaskRow, summary its kind and params."""
        self._shown = (row, summary)
        view = row.view()
        self.summary["kind"].setText(summary)
        self.summary["times"].setText(timing.times_text(view, timing.since(row.received)) or "—")
        self.summary["state"].setText(f"{row.state_text}, {row.percent}%"
                                      + (f" (attempt {row.attempt})" if row.attempt > 1 else ""))
        self.summary["state"].setStyleSheet(f"color: {colours.state_colour(self.palette(), row.state).name()};"
                                            "font-weight: bold;")
        kind, text = timing.outcome(view)
        self.summary["outcome"].setText(text or "—")
        colour = colours.tone(self.palette(), colours.Tone.BAD) if kind == "failure" else None
        self.summary["outcome"].setStyleSheet(f"color: {colour.name()};" if colour else "")

    def add_events(self, updates):
        """Add the events after those shown (TaskUpdates, in order)."""
        items = []
        for update in updates:
            if update.seq <= self._last_seq:
                continue
            self._last_seq = update.seq
            item = QTreeWidgetItem([str(update.seq), timing.format_clock(update.ts), str(update.state),
                                    str(update.percent), update.message])
            item.setForeground(2, colours.state_colour(self.palette(), update.state))
            item.setToolTip(4, plain_tooltip(update.message))
            items.append(item)
        self.events.addTopLevelItems(items)
        if items:
            self.events.scrollToItem(items[-1])

    def event_count(self):
        """Return how many events are shown."""
        return self.events.topLevelItemCount()


def _plain_label():
    label = QLabel(wordWrap=True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label

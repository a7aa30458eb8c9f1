"""The log pane: timestamped plain-text lines, bounded, added in batches so a flood stays cheap.
Each kind of line has its colour from the palette (colours.py), so it reads in light and dark themes."""
import collections
import re
from datetime import datetime
from enum import Enum

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontDatabase, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

from . import colours
from .colours import Tone

MAX_LINES = 5000
FLUSH_INTERVAL_MS = 50
# Line breaks and other control characters in server text would forge extra log lines.
_CONTROL = re.compile(r"\r\n|[\r\n\u2028\u2029]|[\x00-\x08\x0b-\x1f\x7f]")


class LineKind(Enum):
    """What a log line is about; each kind has its label and its tone (None: the palette's text colour)."""

    INFO = ("info", None)
    SENT = ("sent", Tone.RUN)
    RECEIVED = ("received", Tone.OK)
    PROGRESS = ("progress", Tone.MUTED)
    ERROR = ("error", Tone.BAD)

    def __init__(self, label, tone):
        self.label = label
        self.tone = tone


class LogView(QPlainTextEdit):
    """A read-only log that accepts lines at any rate and shows them every FLUSH_INTERVAL_MS."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("logView")
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setMaximumBlockCount(MAX_LINES)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Everything sent to and received from the server shows here.")
        self._pending = collections.deque(maxlen=MAX_LINES)
        self._skipped = 0
        self._formats = {}
        self._colour_lines()
        self._flush_timer = QTimer(self, singleShot=True, interval=FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)

    def colour_of(self, kind):
        """Return the colour lines of kind are written in."""
        return self._formats[kind].foreground().color()

    def _colour_lines(self):
        """Take the line colours from the palette, and recolour the lines shown (a theme changed)."""
        before = {fmt.foreground().color().name(): kind for kind, fmt in self._formats.items()}
        self._formats = {kind: _char_format(kind, self.palette()) for kind in LineKind}
        if not before or self.document().isEmpty():
            return
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        block = self.document().begin()
        while block.isValid():
            kind = before.get(QTextCursor(block).charFormat().foreground().color().name())
            if kind is not None:
                cursor.setPosition(block.position())
                cursor.setPosition(block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor)
                cursor.setCharFormat(self._formats[kind])
            block = block.next()
        cursor.endEditBlock()

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._colour_lines()

    def add_line(self, text, kind=LineKind.INFO):
        """Queue a line stamped with the current time; it shows within FLUSH_INTERVAL_MS."""
        if len(self._pending) == self._pending.maxlen:
            self._skipped += 1  # the deque drops the oldest: it would scroll out at once anyway
        stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
        self._pending.append((kind, f"{stamp}  {kind.label:<10}{_CONTROL.sub('↵', text)}"))
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self):
        """Show the queued lines now, keeping the view at the bottom if it was there."""
        if not self._pending and not self._skipped:
            return
        lines = list(self._pending)
        self._pending.clear()
        if self._skipped:
            if len(lines) >= MAX_LINES:  # make room, or the document would trim the notice itself
                lines.pop(0)
                self._skipped += 1
            lines.insert(0, (LineKind.INFO, f"… {self._skipped} lines skipped: more arrived at once "
                                            f"than the log keeps ({MAX_LINES})"))
            self._skipped = 0
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.beginEditBlock()
        first = self.document().isEmpty()
        # One insertText per run of same-kind lines: a flood is one call, not thousands.
        for kind, run in _runs(lines):
            if not first:
                cursor.insertBlock()
            cursor.insertText("\n".join(run), self._formats[kind])
            first = False
        cursor.endEditBlock()
        if at_bottom:
            bar.setValue(bar.maximum())

    def clear_log(self):
        """Remove every line, shown or queued."""
        self._pending.clear()
        self._skipped = 0
        self.clear()

    def text(self):
        """Return the whole log as plain text, queued lines included."""
        self.flush()
        return self.toPlainText()


def _char_format(kind, palette):
    char_format = QTextCharFormat()
    char_format.setForeground(colours.tone(palette, kind.tone) if kind.tone else palette.color(QPalette.ColorRole.Text))
    if kind is LineKind.ERROR:
        char_format.setFontWeight(QFont.Weight.Bold)
    return char_format


def _runs(lines):
    run_kind, run = None, []
    for kind, text in lines:
        if kind is not run_kind and run:
            yield run_kind, run
            run = []
        run_kind = kind
        run.append(text)
    if run:
        yield run_kind, run

"""The start form: a kind selector and one field per parameter, built from the kinds the server runs
(GET /task-kinds): integers and numbers become spin boxes with their limits, booleans check boxes,
strings with an enum combo boxes, other strings line edits; every field starts at its default. The
app spells no kind's name: all of it comes from the server. It only says what was asked
(start_requested); the window does the asking.
"""
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from . import colours
from .text import plain_tooltip

INT_LIMIT = 2**31 - 1  # QSpinBox's range; wider integers get a QDoubleSpinBox without decimals
NUMBER_LIMIT = 1e12


class StartForm(QGroupBox):
    """Start a task of any kind the server runs, with its parameters."""

    start_requested = Signal(str, object)  # kind name, params

    def __init__(self, parent=None):
        super().__init__("Start a task", parent)
        self.setObjectName("startForm")
        self._kinds = {}
        self._fields = {}  # parameter name -> (widget, its schema)
        self._online = False
        self.kind_box = QComboBox(objectName="kindBox")
        self.kind_box.setAccessibleName("Kind of task")
        self.kind_box.currentIndexChanged.connect(self._show_kind)
        self.start_button = QPushButton("S&tart", objectName="startKindButton", enabled=False)
        self.start_button.clicked.connect(self._start)
        self.description = QLabel(objectName="kindDescription", wordWrap=True)
        self.description.setTextFormat(Qt.TextFormat.PlainText)
        self.error = QLabel(objectName="startError", wordWrap=True, visible=False)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.fields = QWidget(objectName="kindFields")
        self._fields_layout = QHBoxLayout(self.fields)
        self._fields_layout.setContentsMargins(0, 0, 0, 0)
        self._fields_layout.setSpacing(12)

        row = QHBoxLayout()
        kind_label = QLabel("&Kind:")
        kind_label.setBuddy(self.kind_box)
        row.addWidget(kind_label)
        row.addWidget(self.kind_box)
        row.addSpacing(8)
        row.addWidget(self.fields, 1)
        row.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(row)
        layout.addWidget(self.description)
        layout.addWidget(self.error)

    def set_kinds(self, kinds):
        """Offer kinds (payloads.TaskKind), keeping the chosen one if it is still there."""
        chosen = self.kind_box.currentData()
        self._kinds = {kind.name: kind for kind in kinds}
        self.kind_box.blockSignals(True)
        self.kind_box.clear()
        for kind in kinds:
            self.kind_box.addItem(kind.title, kind.name)
        index = self.kind_box.findData(chosen)
        self.kind_box.setCurrentIndex(max(index, 0))
        self.kind_box.blockSignals(False)
        self._show_kind()

    def set_online(self, online):
        """Enable Start while connected (and some kind is known)."""
        self._online = online
        self.start_button.setEnabled(online and bool(self._kinds))

    def kind(self):
        """Return the chosen kind, or None."""
        return self._kinds.get(self.kind_box.currentData())

    def field(self, name):
        """Return the widget of a parameter."""
        return self._fields[name][0]

    def params(self):
        """Return the parameters as entered."""
        params = {}
        for name, (widget, spec) in self._fields.items():
            if isinstance(widget, QCheckBox):
                params[name] = widget.isChecked()
            elif isinstance(widget, QComboBox):
                params[name] = widget.currentText()
            elif isinstance(widget, QLineEdit):
                params[name] = widget.text()
            elif spec.get("type") == "integer":
                params[name] = int(widget.value())
            else:
                params[name] = widget.value()
        return params

    def show_error(self, message, field=""):
        """Show the server's refusal of a start; field ("params.below") marks its widget."""
        for widget, _spec in self._fields.values():
            widget.setStyleSheet("")
            widget.setToolTip(plain_tooltip(widget.accessibleDescription()))
        self.error.setVisible(bool(message))
        self.error.setText(message or "")
        self.error.setStyleSheet(f"color: {colours.tone(self.palette(), colours.Tone.BAD).name()};")
        name = field[len("params."):] if field.startswith("params.") else None
        if name in self._fields:
            widget = self._fields[name][0]
            widget.setStyleSheet(f"border: 2px solid {colours.tone(self.palette(), colours.Tone.BAD).name()};")
            widget.setToolTip(plain_tooltip(message))
            widget.setFocus()

    @Slot()
    def _show_kind(self):
        kind = self.kind()
        while self._fields_layout.count():
            item = self._fields_layout.takeAt(0)
            if item.widget():
                item.widget().hide()  # at once: deleteLater() leaves it drawn until the event loop runs
                item.widget().deleteLater()
        self._fields = {}
        self.description.setText(kind.description if kind else "")
        self.description.setVisible(bool(kind and kind.description))
        if kind:
            for name, spec in kind.properties.items():
                self._fields_layout.addWidget(self._field(name, spec))
        self._fields_layout.addStretch(1)
        self.show_error("")
        self.set_online(self._online)

    def _field(self, name, spec):
        """Return a labelled widget for one parameter."""
        title = str(spec.get("title") or name)
        box = QWidget()
        layout = QFormLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        if spec["type"] == "boolean":
            widget = QCheckBox(title)
            widget.setChecked(spec.get("default") is True)
            layout.addRow(widget)
        else:
            widget = _input(spec)
            label = QLabel(title + ":")
            label.setBuddy(widget)
            layout.addRow(label, widget)
        widget.setObjectName(f"param-{name}")
        widget.setAccessibleName(title)
        description = str(spec.get("description") or "")
        widget.setAccessibleDescription(description)
        widget.setToolTip(plain_tooltip(description) if description else "")
        self._fields[name] = (widget, spec)
        return box

    @Slot()
    def _start(self):
        kind = self.kind()
        if kind and self._online:
            self.start_requested.emit(kind.name, self.params())


def _input(spec):
    """Return the widget for an integer, number or string parameter, set to its default."""
    kind, default = spec["type"], spec.get("default")
    if kind == "string":
        if isinstance(spec.get("enum"), list):
            widget = QComboBox()
            widget.addItems([str(value) for value in spec["enum"]])
            if default is not None:
                widget.setCurrentText(str(default))
            return widget
        widget = QLineEdit(str(default) if default is not None else "")
        if isinstance(spec.get("maxLength"), int):
            widget.setMaxLength(spec["maxLength"])
        return widget
    low = _limit(spec, "minimum", "exclusiveMinimum", -NUMBER_LIMIT, 1)
    high = _limit(spec, "maximum", "exclusiveMaximum", NUMBER_LIMIT, -1)
    if kind == "integer" and -INT_LIMIT <= low and high <= INT_LIMIT:
        widget = QSpinBox()
        widget.setRange(int(low), int(high))
    else:
        widget = NumberBox()
        widget.setDecimals(0 if kind == "integer" else 3)
        widget.setRange(low, high)
    widget.setGroupSeparatorShown(kind == "integer")
    widget.setAccelerated(True)
    widget.setMinimumWidth(widget.fontMetrics().horizontalAdvance("0" * min(len(f"{high:,.0f}"), 14)) + 40)
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        widget.setValue(default)
    return widget


class NumberBox(QDoubleSpinBox):
    """A spin box for numbers that shows 40 as "40" and 0.25 as "0.25", not "40.000"."""

    def textFromValue(self, value):
        text = f"{value:,.{self.decimals()}f}" if self.isGroupSeparatorShown() else f"{value:.{self.decimals()}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    def valueFromText(self, text):
        return float(text.replace(",", "") or 0)


def _limit(spec, inclusive, exclusive, fallback, step):
    if isinstance(spec.get(inclusive), (int, float)):
        return spec[inclusive]
    if isinstance(spec.get(exclusive), (int, float)):
        return spec[exclusive] + (step if spec["type"] == "integer" else step * 0.001)
    return fallback

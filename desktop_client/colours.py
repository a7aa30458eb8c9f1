"""The app's colours, taken from the palette: every coloured text stays 4.5:1 against the background it is
drawn on, in a light palette and in a dark one (WCAG 1.4.3); a bar's fill is 3:1 against its groove.

Each tone (success, warning, failure, running, …) has a shade for light backgrounds and one for dark
ones; the shade used is the one that reads best on the palette's base and window colours, so the app
follows the desktop's light or dark theme (or --theme) without a colour of its own hard-coded.
"""
from enum import Enum

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from shared.protocol import TaskState

TEXT_CONTRAST = 4.5
THEMES = ("system", "light", "dark")


class Tone(Enum):
    """What a colour says. Values: (shade for light backgrounds, shade for dark backgrounds)."""

    OK = ("#047857", "#34d399")
    WARN = ("#a14a07", "#fbbf24")
    BAD = ("#b91c1c", "#fb8a8a")
    RUN = ("#1d4ed8", "#60a5fa")
    MUTED = ("#586171", "#a3b0c2")


STATE_TONES = {TaskState.QUEUED: Tone.MUTED, TaskState.RUNNING: Tone.RUN, TaskState.SUCCEEDED: Tone.OK,
               TaskState.FAILED: Tone.BAD, TaskState.CANCELLED: Tone.WARN}


def luminance(colour):
    """Return the WCAG relative luminance of a QColor."""
    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())


def contrast(first, second):
    """Return the WCAG contrast ratio of two QColors (1 to 21)."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def backgrounds(palette):
    """Return the colours text of the app is drawn on: the views' base (and alternate rows) and the window."""
    group = QPalette.ColorGroup.Active
    return [palette.color(group, role) for role in
            (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase, QPalette.ColorRole.Window)]


def tone(palette, which):
    """Return the shade of a Tone that reads best on the palette's backgrounds."""
    shades = [QColor(shade) for shade in which.value]
    return max(shades, key=lambda shade: min(contrast(shade, bg) for bg in backgrounds(palette)))


def state_colour(palette, state):
    """Return the colour of a task state (None: not known yet) in the palette."""
    return tone(palette, STATE_TONES.get(state, Tone.MUTED))


def text_on(fill):
    """Return black or white, whichever reads better on fill."""
    return max((QColor("#000000"), QColor("#ffffff")), key=lambda colour: contrast(colour, fill))


class StateColours:
    """The colour of each task state in one palette, and the text that reads on it, worked out once
    (the task list asks for them for every cell it paints)."""

    def __init__(self, palette):
        self.key = palette.cacheKey()  # changes when the palette does
        self._fills = {state: state_colour(palette, state) for state in (None, *TaskState)}
        self._texts = {state: text_on(fill) for state, fill in self._fills.items()}
        self.bad = tone(palette, Tone.BAD)

    def of(self, state):
        """Return the colour of state (None: not known yet)."""
        return self._fills[state]

    def text_on(self, state):
        """Return black or white, whichever reads better on the colour of state."""
        return self._texts[state]


def is_dark(palette):
    """Tell whether the palette draws light text on a dark window."""
    return luminance(palette.color(QPalette.ColorRole.Window)) < 0.2


def banner_style(palette):
    """Return the health banner's style sheet: the palette's text on a warning tint, a warning border."""
    warn = tone(palette, Tone.WARN)
    base = palette.color(QPalette.ColorRole.Base)
    tint = QColor.fromRgbF(*(base_part * 0.85 + warn_part * 0.15 for base_part, warn_part in
                             zip(base.getRgbF()[:3], warn.getRgbF()[:3])))
    text = palette.color(QPalette.ColorRole.Text)
    return (f"QLabel {{ background: {tint.name()}; color: {text.name()}; border: 1px solid {warn.name()}; "
            "border-radius: 4px; padding: 6px; }")


def dark_palette():
    """Return a dark palette for the Fusion style (text 4.5:1 and more on every background)."""
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, "#1e2430"), (roles.WindowText, "#e2e8f0"), (roles.Base, "#141a24"),
                         (roles.AlternateBase, "#1b2230"), (roles.Text, "#e2e8f0"), (roles.Button, "#2a3240"),
                         (roles.ButtonText, "#e2e8f0"), (roles.ToolTipBase, "#2a3240"),
                         (roles.ToolTipText, "#e2e8f0"), (roles.Highlight, "#2f6fd6"),
                         (roles.HighlightedText, "#ffffff"), (roles.Link, "#93c5fd"), (roles.PlaceholderText, "#a3b0c2"),
                         (roles.BrightText, "#ffffff"), (roles.Light, "#3a4456"), (roles.Midlight, "#323b4b"),
                         (roles.Mid, "#8491a5"), (roles.Dark, "#0f141c"), (roles.Shadow, "#000000")):
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QColor("#8491a5"))
    return palette


def light_palette():
    """Return Fusion's own light palette."""
    return QStyleFactory.create("Fusion").standardPalette()


def apply_theme(app, theme):
    """Use the desktop's palette ("system"), or Fusion with a light or dark one."""
    if theme == "system":
        return
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if theme == "dark" else light_palette())


def current_palette(widget=None):
    """Return the palette a widget (or the application) draws with."""
    return widget.palette() if widget is not None else QApplication.palette()

"""One row of the results table: a measured figure, what it is compared with, and its target."""
from dataclasses import dataclass, field


@dataclass
class Row:
    """A figure as printed: ours, the baseline and the floor in one unit, and the verdict."""

    figure: str  # what is measured, e.g. "1. emit → client p50 (eventlet)"
    unit: str  # "ms", "µs", "deliveries/s", "MB", "connections", "x"
    ours: float | None = None
    baseline: float | None = None
    floor: float | None = None
    ratio: float | None = None  # the ratio the target is about (ours / reference), when it has one
    ratio_of: str = ""  # what the ratio is taken against: "floor", "baseline", "publish"
    target: str = ""
    met: bool | None = None  # None: no target, or the figure could not be measured
    note: str = ""
    details: dict = field(default_factory=dict)  # raw medians and runs, for the JSON results

    @property
    def verdict(self):
        """Return 'met', 'missed' or '' (no target, or not measured)."""
        return {True: "met", False: "missed"}.get(self.met, "")


def at_most(value, limit):
    """Return whether value is measured and at most limit (None when it is missing)."""
    return None if value is None else value <= limit


def at_least(value, limit):
    """Return whether value is measured and at least limit (None when it is missing)."""
    return None if value is None else value >= limit

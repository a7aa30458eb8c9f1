"""Work around PySide6 6.12.0 losing references to None and True on Python before 3.12.

With PySide6-Essentials 6.12.0 on Python 3.11, every call of a Qt method that returns nothing
takes a reference from None, and every Signal.emit() one from True (a missing Py_INCREF). On
Python 3.12+ both objects are immortal and nothing happens; on 3.11 the count reaches zero after
some thousands of calls and the interpreter aborts with "Fatal Python error: none_dealloc".
PySide6 6.11.3 does not have the bug. Where the bug is detected, None, True and False get a
reference count no program can use up, which is what Python 3.12 does for them.
"""
import ctypes
import sys

from PySide6.QtCore import QObject, Signal

HEADROOM = 1 << 48  # references added: at a million lost per second, enough for nine years


class _Probe(QObject):
    fired = Signal()


def loses_references():
    """Tell whether this PySide6 drops references to None or True."""
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(20):
        probe.setObjectName("probe")  # returns void
        probe.fired.emit()  # returns True
    return (sys.getrefcount(None) < none_before - 10) or (sys.getrefcount(True) < true_before - 10)


def apply():
    """Make None, True and False immortal if this PySide6 loses references to them; tell if it did."""
    if sys.version_info >= (3, 12) or not loses_references():
        return False
    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt heads every object
        if abs(refcount.value - sys.getrefcount(singleton)) > 1000:
            return False  # an unusual object layout (a debug build): leave it alone
        refcount.value += HEADROOM
    return True


APPLIED = apply()

"""Name the Debian packages a Linux desktop lacks before Qt aborts with a vaguer message.

Qt's X11 (xcb) plugin loads about fifteen libraries; when one is missing Qt aborts, naming at most
libxcb-cursor0 whatever the missing one is. Checking first lets the app say exactly what to install.
"""
import ctypes
import os
import sys

# Library loaded by Qt's xcb platform plugin -> the Debian/Ubuntu package that ships it.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
}


def uses_x11(qt_args=(), environ=os.environ):
    """Tell whether Qt is about to use its X11 plugin (given Qt's command-line arguments)."""
    qt_args = list(qt_args)
    platform = environ.get("QT_QPA_PLATFORM", "")
    if "-platform" in qt_args[:-1]:
        platform = qt_args[qt_args.index("-platform") + 1]
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    return (sys.platform.startswith("linux") and bool(environ.get("DISPLAY"))
            and not environ.get("WAYLAND_DISPLAY"))


def missing_x11_packages():
    """Return the packages whose libraries Qt's X11 plugin needs and cannot load."""
    missing = []
    for library, package in XCB_LIBRARIES.items():
        try:
            ctypes.CDLL(library)
        except OSError:
            missing.append(package)
    return missing


def problem(qt_args=()):
    """Return what stops the window from opening on this system, with the fix, or None."""
    if not uses_x11(qt_args):
        return None
    missing = missing_x11_packages()
    if not missing:
        return None
    return ("Qt cannot open a window on this X11 display: these libraries are missing.\n"
            f"On Debian or Ubuntu: sudo apt-get install {' '.join(missing)}\n"
            "(Or run without a display: QT_QPA_PLATFORM=offscreen.)")

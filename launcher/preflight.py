"""Checks made before anything starts, each failing with one sentence: the cause, then the fix.

Only the standard library is imported at the top, so that a missing package is reported as such,
not as a traceback from importing it; what needs the project's packages imports them inside.
"""
import errno
import importlib.util
import os
import socket
import sys

from server import page_client  # the standard library only, as this module
from shared import config

ROOT = config.PROJECT_ROOT
SETUP_HINT = ("run ./dev run, which installs them into .venv first (or pip install 'taskprogress[desktop]'; "
              "--no-desktop runs without the desktop app)")

# Import name -> the name pip installs it under (see pyproject.toml).
PACKAGES = {"celery": "celery[redis]", "redis": "redis", "flask": "Flask",
            "flask_socketio": "Flask-SocketIO", "socketio": "python-socketio", "honcho": "honcho"}
EVENTLET = {"eventlet": "eventlet"}
DESKTOP = {"PySide6": "PySide6-Essentials"}


class LaunchError(RuntimeError):
    """A reason the system cannot start, told as one sentence naming the cause and the fix."""


def check_packages(async_mode, desktop):
    """Fail when a Python package the system's processes import is not installed."""
    wanted = dict(PACKAGES, **(EVENTLET if async_mode == "eventlet" else {}), **(DESKTOP if desktop else {}))
    missing = [pip_name for module, pip_name in wanted.items() if importlib.util.find_spec(module) is None]
    if missing:
        them = f"package {missing[0]} is" if len(missing) == 1 else f"packages {', '.join(missing)} are"
        raise LaunchError(f"The Python {them} not installed in {sys.prefix}: {SETUP_HINT}.")


def check_page_assets(vendor_dir=page_client.VENDOR_DIR):
    """Fail when the page's socket.io client (in the wheel; put in a checkout by ./dev setup) is missing."""
    if not os.path.exists(page_client.path(vendor_dir)):
        raise LaunchError(f"The page's socket.io client is missing ({page_client.path(vendor_dir)}): run "
                          "./dev setup (or python -m server.page_client in the project folder).")


def check_port(host, port):
    """Fail when the web server could not listen on host:port, above all when the port is taken."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # create_server sets SO_REUSEADDR as the web server does, so a port in TIME_WAIT is free.
        with socket.create_server((host, port), family=family):
            pass
    except socket.gaierror as exc:
        raise LaunchError(f"SERVER_HOST {host!r} is not an address of this machine ({exc.strerror}): "
                          "set SERVER_HOST to 127.0.0.1 or unset it.") from None
    except OSError as exc:
        raise LaunchError(_port_problem(host, port, exc.errno)) from None


def _port_problem(host, port, errno_value):
    if errno_value == errno.EADDRINUSE:
        return (f"Port {port} on {host} is already in use: stop the program using it, or choose "
                "another port with --port N (or SERVER_PORT).")
    if errno_value == errno.EACCES:
        return (f"Port {port} needs administrator rights to listen on: choose a port above 1023 "
                "with --port N (or SERVER_PORT).")
    if errno_value == errno.EADDRNOTAVAIL:
        return f"SERVER_HOST {host!r} is not an address of this machine: set it to 127.0.0.1 or unset it."
    return (f"The web server could not listen on {host}:{port} ({os.strerror(errno_value)}): choose "
            "another port with --port N, or another SERVER_HOST.")


def check_display(environ):
    """Fail when the desktop app would have no display to open its window on (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    if not any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        raise LaunchError("The desktop app needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is "
                          "set: run with --no-desktop (headless), or set QT_QPA_PLATFORM=offscreen.")


def choose_redis(environ, private, data_dir):
    """Return (url, None) for a Redis that answers, or (url, (RedisServer, lock fd)) to start one.

    An explicit REDIS_URL is used or refused, never replaced: a user who named a Redis expects
    the data there, and a silent private one would hide the mistake.
    """
    from .redis_server import (DataDirInUse, RedisNotFound, RedisServer, data_dir_password, find_redis_server,
                               lock_data_dir, ping)

    explicit = environ.get("REDIS_URL")
    if explicit:
        if private:
            raise LaunchError("REDIS_URL is set and --private-redis was given: unset REDIS_URL for a "
                              "private Redis, or drop --private-redis to use the one REDIS_URL names.")
        if ping(explicit, timeout=2.0):
            return explicit, None
        raise LaunchError(f"No Redis answers at REDIS_URL={config.redacted(explicit)}: start that Redis, "
                          "correct REDIS_URL, or unset it to let run_all.py start a private Redis.")
    default = config.DEFAULTS["REDIS_URL"]
    if not private and ping(default):
        return default, None
    try:
        find_redis_server()
        lock_fd = lock_data_dir(os.path.abspath(data_dir))
    except (RedisNotFound, DataDirInUse) as exc:
        raise LaunchError(str(exc)) from None
    # Locked, even on loopback: any local user or process could otherwise read and write every task.
    server = RedisServer(data_dir=os.path.abspath(data_dir), persist=True,
                         password=data_dir_password(os.path.abspath(data_dir)))
    return server.url, (server, lock_fd)

"""Run the desktop client: python -m desktop_client [--server URL] [--token TOKEN] (installed: taskprogress-desktop)"""
import argparse
import importlib.util
import os
import signal
import sys

from shared import config

from . import APPLICATION_NAME, ORGANIZATION_NAME, system_check
from .text import check_url, split_token

NO_QT = ("The desktop app needs PySide6, which is not installed in {prefix}: pip install "
         "'taskprogress[desktop]' (in a checkout, ./dev run installs it).")


def parse_args(argv):
    """Return the options, and the arguments left for Qt (such as -platform offscreen)."""
    prog = os.path.basename(sys.argv[0])
    parser = argparse.ArgumentParser(
        prog="python -m desktop_client" if prog.endswith(".py") else prog,
        description="The desktop client of the task-progress system: send messages, start "
                    "background tasks and watch their progress live.",
        epilog="The server URL is remembered between runs; --server overrides it for one run "
               "without changing it. Without either, SERVER_HOST and SERVER_PORT give it "
               "(default http://127.0.0.1:5000).")
    parser.add_argument("--server", metavar="URL", type=_url,
                        help="server to connect to, such as http://127.0.0.1:5000")
    parser.add_argument("--token", metavar="TOKEN",
                        help="the server's token, when it needs one ('-' reads it from standard input, "
                             "out of sight of ps; default: $AUTH_TOKEN, else the one remembered for the "
                             "server)")
    parser.add_argument("--remember-token", action="store_true",
                        help="save --token in the settings for this server (a file only you can read)")
    parser.add_argument("--theme", choices=("system", "light", "dark"), default="system",
                        help="the desktop's colours (default), or Qt's Fusion style in light or dark")
    return parser.parse_known_args(argv)


def _url(text):
    try:
        return check_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _qt_installed():
    return importlib.util.find_spec("PySide6") is not None


def main(argv=None):
    """Open the window and run until it is closed; return the exit status."""
    argv = sys.argv if argv is None else argv
    options, qt_args = parse_args(argv[1:])
    if not _qt_installed():
        print(NO_QT.format(prefix=sys.prefix), file=sys.stderr)
        return 1
    try:
        settings = config.load(names=config.DESKTOP_SETTINGS)  # checked before Qt starts, and says more
    except config.ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    problem = system_check.problem(qt_args)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(argv[:1] + qt_args)
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationName(APPLICATION_NAME)
    from . import colours
    from .main_window import MainWindow  # after the names are set: it reads QSettings

    colours.apply_theme(app, options.theme)

    # A URL as the server prints it, with ?token=…, gives the token too.
    server, url_token = split_token(options.server) if options.server else (None, None)
    token = sys.stdin.readline().strip() if options.token == "-" else options.token
    window = MainWindow(server_url=server, token=token or url_token or settings.auth_token or None,
                        remember_token=options.remember_token)
    window.show()
    # One line per connection change on stdout, for run_all.py's output and for scripts.
    window.connection.state_changed.connect(
        lambda state, attempt, detail: print(f"{state}: {window.connection.url}"
                                             + (f" ({detail})" if detail else ""), flush=True))
    # Ctrl+C in the terminal, or SIGTERM from run_all.py, closes the window the normal way
    # (settings saved). Python only runs signal handlers between bytecodes, so a timer wakes the
    # interpreter now and then.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    signal.signal(signal.SIGTERM, lambda *_: window.close())
    wake = QTimer(interval=200)
    wake.timeout.connect(lambda: None)
    wake.start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

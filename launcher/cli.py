"""run_all.py's main: parse the options, check what is needed, then run the system until it stops."""
import os
import secrets
import sys
import threading
import webbrowser

from shared import config, protocol

from . import options as run_options
from . import preflight


def main(argv=None, environ=None):
    """Run the whole system from the command line; return the exit code."""
    options = run_options.parser().parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    try:
        return run(options, environ)
    except preflight.LaunchError as exc:
        print(f"run_all: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # before any child was started: nothing to stop
        return 130


def run(options, environ):
    """Check everything first, then start the system's processes and supervise them."""
    settings = _settings(run_options.child_env(environ, options, _redis_url(environ)))
    desktop = not options.no_desktop
    preflight.check_packages(settings.async_mode, desktop)
    preflight.check_port(settings.server_host, settings.server_port)
    preflight.check_page_assets()
    if desktop:
        preflight.check_display(environ)
    redis_url, private_redis = preflight.choose_redis(environ, options.private_redis, options.redis_dir)

    # Imported only now: they need the packages checked above.
    from honcho.printer import Printer

    from . import stages
    from .manager import Manager

    env = _with_token(run_options.child_env(environ, options, redis_url))
    settings = _settings(env)
    manager = Manager(Printer(sys.stdout, colour=not environ.get("NO_COLOR")),
                      on_ready=lambda: _announce(manager, _page_url(settings), options.open_browser))
    if private_redis:
        server, lock_fd = private_redis
        manager.say(f"starting a private Redis on port {server.port}, its data in {server.data_dir}")
        manager.add_process(stages.redis_process(server, lock_fd))
    else:
        manager.say(f"using the Redis at {config.redacted(redis_url)}")
    manager.add_process(stages.worker_process(env, settings))
    manager.add_process(stages.server_process(env, settings))
    if desktop:
        manager.add_process(stages.desktop_process(env, settings))
    return manager.run()


def _with_token(env):
    """Return env with a fresh AUTH_TOKEN when the server needs one and none was given.

    Made here rather than by the server, so the desktop app gets it too (in its environment:
    never on a command line, where `ps` would show it).
    """
    settings = _settings(env)
    if settings.requires_token and not settings.auth_token:
        return dict(env, AUTH_TOKEN=secrets.token_urlsafe(32))
    return env


def _page_url(settings):
    """Return the URL to open the page at: with the token, when the server needs one."""
    if not settings.auth_token:
        return settings.server_url
    return f"{settings.server_url}/?{protocol.AUTH_TOKEN_FIELD}={settings.auth_token}"


def _redis_url(environ):
    return environ.get("REDIS_URL") or config.DEFAULTS["REDIS_URL"]


def _settings(env):
    try:
        return config.load(env)
    except config.ConfigError as exc:
        raise preflight.LaunchError(f"Configuration error: {exc}.") from None


def _announce(manager, url, open_browser):
    manager.say(f"ready: open {url} in a browser (Ctrl+C stops everything)")
    if open_browser:
        # A console browser would hold the loop that shows output and stops children: not here.
        threading.Thread(target=_open_browser, args=(manager, url), daemon=True).start()


def _open_browser(manager, url):
    if not webbrowser.open(url):
        manager.say(f"could not start a web browser: open {url} yourself")

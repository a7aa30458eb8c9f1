"""run_all.py's main: parse the options, check what is needed, then run the system until it stops."""
import os
import secrets
import shlex
import shutil
import sys
import threading
import webbrowser

from shared import config, protocol

from . import options as run_options
from . import preflight


def main(argv=None, environ=None):
    """Run the whole system from the command line; return the exit code."""
    options = run_options.parser().parse_args(argv)
    environ = config.environment() if environ is None else dict(environ)
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
                      on_ready=lambda: _announce(manager, settings, options.open_browser, password_file))
    password_file = None
    if private_redis:
        server, lock_fd = private_redis
        password_file = server.password_file
        manager.say(f"starting a private Redis on port {server.port}, its data in {server.data_dir}")
        manager.add_process(stages.redis_process(server, lock_fd, options.verbose))
    else:
        manager.say(f"using the Redis at {config.redacted(redis_url)}")
    manager.add_process(stages.worker_process(env, settings, options.redis_dir, options.verbose))
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
        return dict(env, AUTH_TOKEN=secrets.token_hex(32))  # hex: never starts with "-", which a command line would take for an option
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


def _announce(manager, settings, open_browser, password_file):
    url = _page_url(settings)
    manager.say(look_inside(settings.redis_url, password_file))
    manager.say(f"ready: open {url} in a browser (Ctrl+C stops everything)")
    if open_browser:
        # A console browser would hold the loop that shows output and stops children: not here.
        threading.Thread(target=_open_browser, args=(manager, url), daemon=True).start()


def look_inside(redis_url, password_file=None):
    """Return a line with a REDIS_URL to copy, and the Celery commands that look inside the system with it.

    The password is never printed: a private Redis's is read from its file by the line itself.
    """
    shown = config.redacted(redis_url)
    if password_file and "***" in shown:
        scheme, _, rest = shown.partition("***")
        url = f'"{scheme}$(cat {shlex.quote(password_file)}){rest}"'
    else:
        url = shlex.quote(shown)
    celery = _celery_command()
    # Flower 2 answers its HTTP API only with FLOWER_UNAUTHENTICATED_API set (or with auth configured).
    return (f'REDIS_URL={url} (then, workers: {celery} -b "$REDIS_URL" inspect active; Flower: '
            f'FLOWER_UNAUTHENTICATED_API=1 {celery} -b "$REDIS_URL" flower)')


def _celery_command():
    """Return `celery` if that is this environment's, else the path of this environment's."""
    beside_python = os.path.join(os.path.dirname(sys.executable), "celery")
    if not os.access(beside_python, os.X_OK) or shutil.which("celery") == beside_python:
        return "celery"
    return shlex.quote(beside_python)


def _open_browser(manager, url):
    if not webbrowser.open(url):
        manager.say(f"could not start a web browser: open {url} yourself")

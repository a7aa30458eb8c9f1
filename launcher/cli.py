"""run_all.py's main: parse the options, check what is needed, then run the system until it stops."""
import os
import shlex
import shutil
import sys
import threading
import webbrowser

from shared import config

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
    desktop = _wants_desktop(options, environ)
    preflight.check_packages(settings.async_mode, desktop)
    preflight.check_port(settings.server_host, settings.server_port)
    preflight.check_page_assets()
    if desktop:
        preflight.check_display(environ)
    redis_url, private_redis = preflight.choose_redis(environ, options.private_redis, options.redis_dir)

    # Imported only now: they need the packages checked above.
    from honcho.printer import Printer

    from . import system
    from .manager import Manager

    env = run_options.child_env(environ, options, redis_url)
    settings = _settings(env)
    manager = Manager(Printer(sys.stdout, colour=not environ.get("NO_COLOR")),
                      on_ready=lambda: _announce(manager, settings, options.open_browser))
    if private_redis:
        server, lock_fd = private_redis
        manager.say(f"starting a private Redis on port {server.port}, its data in {server.data_dir}")
        manager.add_process(system.redis_process(server, lock_fd, options.verbose))
    else:
        manager.say(f"using the Redis at {config.redacted(redis_url)}")
    manager.add_process(system.worker_process(env, settings, options.redis_dir, options.verbose))
    manager.add_process(system.server_process(env, settings))
    if desktop:
        manager.add_process(system.desktop_process(env, settings))
    return manager.run()


def _redis_url(environ):
    return environ.get("REDIS_URL") or config.DEFAULTS["REDIS_URL"]


def _settings(env):
    try:
        return config.load(env)
    except config.ConfigError as exc:
        raise preflight.LaunchError(f"Configuration error: {exc}.") from None


def _wants_desktop(options, environ):
    if options.no_desktop:
        return False
    if not preflight.desktop_present():
        print(f"run_all: the desktop app is not in this checkout yet ({preflight.DESKTOP_ENTRY} is "
              "missing): running headless.", file=sys.stderr)
        return False
    return True


def _announce(manager, settings, open_browser):
    url = settings.server_url
    manager.say(look_inside(settings.redis_url))
    manager.say(f"ready: open {url} in a browser (Ctrl+C stops everything)")
    if open_browser:
        # A console browser would hold the loop that shows output and stops children: not here.
        threading.Thread(target=_open_browser, args=(manager, url), daemon=True).start()


def look_inside(redis_url):
    """Return a line with redis_url to copy, and the Celery commands that look inside the system with it."""
    url = shlex.quote(redis_url)
    celery = _celery_command()
    # Flower 2 answers its HTTP API only with FLOWER_UNAUTHENTICATED_API set (or with auth configured).
    return (f"REDIS_URL={url} (workers: {celery} -b {url} inspect active; Flower: "
            f"FLOWER_UNAUTHENTICATED_API=1 {celery} -b {url} flower)")


def _celery_command():
    """Return `celery` if that is this environment's, else the path of this environment's."""
    beside_python = os.path.join(os.path.dirname(sys.executable), "celery")
    if not os.access(beside_python, os.X_OK) or shutil.which("celery") == beside_python:
        return "celery"
    return shlex.quote(beside_python)


def _open_browser(manager, url):
    if not webbrowser.open(url):
        manager.say(f"could not start a web browser: open {url} yourself")

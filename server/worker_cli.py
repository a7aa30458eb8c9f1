"""taskprogress-worker: the project's Celery worker under one name, `celery -A server.worker worker ARGS`.

Its options are Celery's worker options (-n NAME, -c N, -l LEVEL, ...), passed on as they are; its
settings come from the environment over a .env file, as the server's do. --help needs neither Redis
nor valid settings.
"""
import os
import sys

from shared import config

DESCRIPTION = """\
Run a Celery worker of the task-progress system: celery -A server.worker worker [OPTIONS].
Settings come from the environment, over a .env file in the current directory: REDIS_URL,
WORKER_CONCURRENCY, LOG_LEVEL (the default of --loglevel), LOG_TIMESTAMPS and the TASK_* settings
(README, Configuration). Run as many workers as you like on one Redis, each with its own
--hostname (-n), such as -n worker1@%h."""


def main(argv=None):
    """Run the worker with Celery's worker options argv (default: the command line)."""
    prog = os.path.basename(sys.argv[0])
    prog = "python -m server.worker_cli" if prog.endswith(".py") else prog
    args = sys.argv[1:] if argv is None else list(argv)
    if "-h" in args or "--help" in args:
        print_help(prog)
        return 0
    if not any(_sets_log_level(arg) for arg in args):
        try:
            args.insert(0, f"--loglevel={config.load(names={'LOG_LEVEL'}).log_level}")
        except config.ConfigError as exc:
            sys.exit(f"Configuration error: {exc}")
    # Celery's own entry point, as `celery` runs it (it handles -P eventlet/gevent before importing).
    sys.argv = [prog, "-A", "server.worker", "worker", *args]
    from celery.__main__ import main as celery_main

    return celery_main()


def _sets_log_level(arg):
    return arg.startswith(("--loglevel", "-l"))


def print_help(prog):
    """Print this command's usage, then Celery's worker options."""
    import click
    from celery.bin.worker import worker

    print(f"usage: {prog} [CELERY WORKER OPTIONS]\n\n{DESCRIPTION}\n")
    help_text = worker.get_help(click.Context(worker, info_name=prog))
    # Celery's usage line and examples name `celery -A proj worker`: from its option groups on.
    print(help_text[help_text.find("Worker Options:"):])


if __name__ == "__main__":
    sys.exit(main())

"""The start stages of run_all.py: its processes in start order, their commands, environment and checks."""
import hashlib
import os
import socket
import sys

from shared import config

from . import readiness
from .process import Process
from .quiet import RedisLines

ROOT = config.PROJECT_ROOT


def worker_name(data_dir):
    """Return the worker's Celery node name: the same at every start from one launcher data dir.

    Flower and `celery events` keep a node they saw; a new name per start would leave one more
    offline worker behind each time. Two checkouts sharing a Redis still get different names.
    """
    digest = hashlib.sha1(os.path.abspath(data_dir).encode()).hexdigest()[:8]
    return f"run_all-{digest}@{socket.gethostname()}"


def redis_process(server, lock_fd, verbose=False):
    """Return the private redis-server as a process of the system."""
    return Process("redis", server.command(), dict(os.environ), ROOT,
                   ready=lambda: readiness.redis_answers(server.url), ready_timeout=10,
                   waiting_for=f"PING to be answered at {config.redacted(server.url)}", stops_last=True,
                   popen_kwargs={"pass_fds": (lock_fd,), **server.popen_kwargs},
                   shown=None if verbose else RedisLines())


def worker_process(env, settings, data_dir, verbose=False):
    """Return the Celery worker, ready once its heartbeat says it is consuming."""
    name = worker_name(data_dir)
    # Mingle and gossip only serve several workers sharing revokes and clock; mingle costs a second
    # at every start, and this system's cancelling goes through its own store, not Celery's revoke.
    quiet = [] if verbose else ["--quiet"]  # no banner
    argv = [sys.executable, "-m", "celery", *quiet, "-A", "server.worker", "worker",
            f"--loglevel={settings.log_level}", f"--hostname={name}", "--without-mingle", "--without-gossip"]
    return Process("worker", argv, env, ROOT, ready=lambda: readiness.worker_alive(settings.redis_url, name),
                   ready_timeout=60, waiting_for=f"worker {name} to send its heartbeat", stop_main_first=True)


def server_process(env, settings):
    """Return the web server, ready once its /healthz answers 200."""
    url = settings.server_url
    return Process("server", [sys.executable, "-m", "server"], env, ROOT,
                   ready=lambda: readiness.health(url)[0] == 200, ready_timeout=30,
                   waiting_for=f"{url}/healthz to answer 200")


def desktop_process(env, settings):
    """Return the desktop app; closing its window (exit 0) stops the system."""
    argv = [sys.executable, "-m", "desktop_client", "--server", settings.server_url]
    return Process("desktop", argv, env, ROOT, clean_exit_stops=True)


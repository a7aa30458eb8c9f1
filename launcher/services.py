"""The worker and the server as children of a program that drives them (tests, benchmarks).

Each writes its output to a log file of its own; see lifecycle.py for how it is started and stopped.
run_all.py supervises its children itself (manager.py), with their output on its terminal.
"""
import os
import sys

from shared import config

from . import lifecycle, readiness
from .redis_server import free_port

ROOT = config.PROJECT_ROOT


class Service:
    """A child process started in its own session, its output captured in a log file."""

    def __init__(self, name, argv, env, log_dir, cwd=ROOT):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.process = None

    def start(self):
        """Start the process; stdout and stderr go to the log file."""
        with open(self.log_path, "ab") as log:
            self.process = lifecycle.popen_in_session(self.argv, env=self.env, cwd=self.cwd, stdout=log,
                                                      stderr=log)
        return self

    def log_text(self):
        """Return everything the process has written so far."""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def alive(self):
        """Tell whether the process is still running."""
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, check, timeout=30.0):
        """Wait until check() is true, failing early (with the log) if the process dies."""
        def ready():
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   f"{self.log_text()[-3000:]}")
            return check()
        try:
            readiness.wait_until(ready, timeout, what=self.name)
        except TimeoutError:
            raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{self.log_text()[-3000:]}") from None
        return self

    def stop(self, grace=10.0, main_first=False):
        """TERM the process (its group, or its main process only), then KILL the group after grace."""
        if self.process is not None:
            lifecycle.stop(self.process, grace, main_first)

    def kill(self):
        """KILL the process group at once, as a crash would."""
        lifecycle.kill(self.process)


def python(*args):
    """Return an argv that runs this interpreter with args."""
    return [sys.executable, *args]


def service_env(redis_url, **extra):
    """Return the environment of a worker or server on redis_url, with extra settings."""
    env = dict(os.environ, REDIS_URL=redis_url, PYTHONUNBUFFERED="1")
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_worker(redis_url, log_dir, name="worker", include=(), **env):
    """Start a Celery worker (with the task modules in include too) and wait until it is alive."""
    argv = python("-m", "celery", "-A", "server.worker", "worker", "--loglevel=INFO",
                  f"--hostname={name}@%h", "--without-mingle", "--without-gossip",
                  *(f"--include={module}" for module in include))
    service = Service(name, argv, service_env(redis_url, **env), log_dir).start()
    node = f"{name}@{readiness.hostname()}"
    service.node = node
    return service.wait_ready(lambda: readiness.worker_alive(redis_url, node), timeout=60)


def start_server(redis_url, log_dir, async_mode, name=None, port=None, **env):
    """Start `python -m server` on a free port and wait until /healthz answers."""
    port = port or free_port()
    service = Service(name or f"server-{async_mode}", python("-m", "server"),
                      service_env(redis_url, SERVER_PORT=port, SOCKETIO_ASYNC_MODE=async_mode, **env),
                      log_dir).start()
    service.url = f"http://127.0.0.1:{port}"
    service.port = port
    return service.wait_ready(lambda: readiness.health(service.url)[0] is not None, timeout=30)

"""The systems under test, each on a private Redis of its own so no system's traffic reaches another's.

ours-eventlet, ours-threading: `python -m server` (+ a Celery worker when a figure needs one).
baseline-eventlet, baseline-threading: bench/baseline (+ its Celery worker on demand).
floor: a bare Redis for PUBLISH -> SUBSCRIBE.
Started on first use, all stopped by Lab.close(), even after a failure.
"""
import contextlib
import os
import time
import urllib.request
from dataclasses import dataclass, field

from celery import Celery

from launcher.redis_server import RedisServer, free_port
from launcher.services import Service, python, service_env, start_server, start_worker

OURS, BASELINE, FLOOR = "ours", "baseline", "floor"
# No log line per event or request; tasks as the tests run them.
SERVER_ENV = {"LOG_LEVEL": "WARNING", "WORKER_CONCURRENCY": "2", "BACKGROUND_TASK_SECONDS": "1"}


@dataclass
class System:
    """One system under test: its Redis, and its server and worker once started."""

    kind: str  # OURS, BASELINE or FLOOR
    mode: str | None  # the async mode of its server
    redis: RedisServer
    server: Service | None = None
    worker: Service | None = None
    extra: list = field(default_factory=list)

    @property
    def name(self):
        """Return e.g. 'ours-eventlet', or 'floor'."""
        return f"{self.kind}-{self.mode}" if self.mode else self.kind

    @property
    def url(self):
        """Return the server's URL."""
        return self.server.url

    @property
    def redis_url(self):
        """Return the URL of the system's private Redis."""
        return self.redis.url


class Lab:
    """Start systems on demand and stop every process it started."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        os.makedirs(log_dir, exist_ok=True)
        self._systems = {}
        self._cleanup = contextlib.ExitStack()

    def system(self, kind, mode=None, worker=False):
        """Return the running system, starting its Redis, server (and worker) on first use."""
        key = (kind, mode)
        if key not in self._systems:
            redis = self._cleanup.enter_context(RedisServer())
            self._systems[key] = System(kind, mode, redis)
        system = self._systems[key]
        if kind != FLOOR and system.server is None:
            system.server = self._start_server(system)
        if worker and system.worker is None:
            system.worker = self._start_worker(system)
        return system

    def restart_server(self, system):
        """Stop the system's server and start a fresh one (fresh memory, no leftover clients)."""
        system.server.stop()
        system.server = self._start_server(system)
        return system

    def extra_server(self, system):
        """Start one more server process of ours on the system's Redis (stopped by close())."""
        system.extra.append(self._start_server(system, name=f"{system.name}-{len(system.extra) + 2}"))
        return system.extra[-1]

    def _start_server(self, system, name=None):
        if system.kind == OURS:
            service = start_server(system.redis_url, self.log_dir, system.mode, name=name or system.name,
                                   **SERVER_ENV)
        else:
            service = start_baseline_server(system.redis_url, self.log_dir, system.mode, system.name)
        self._cleanup.callback(service.stop)
        return service

    def _start_worker(self, system):
        name = f"{system.name}-worker"
        if system.kind == OURS:
            service = start_worker(system.redis_url, self.log_dir, name=name, **SERVER_ENV)
        else:
            service = start_baseline_worker(system.redis_url, self.log_dir, name)
        self._cleanup.callback(service.stop)
        return service

    def close(self):
        """Stop every process started, in reverse order."""
        self._cleanup.close()
        self._systems.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def start_baseline_server(redis_url, log_dir, async_mode, name):
    """Start the article's server (bench/baseline) on a free port and wait until it answers."""
    port = free_port()
    service = Service(name, python("-m", "bench.baseline"),
                      service_env(redis_url, SERVER_PORT=port, SOCKETIO_ASYNC_MODE=async_mode), log_dir).start()
    service.url, service.port = f"http://127.0.0.1:{port}", port
    return service.wait_ready(lambda: _answers(service.url), timeout=30)


def start_baseline_worker(redis_url, log_dir, name):
    """Start the article's Celery worker and wait until it answers a ping."""
    argv = python("-m", "celery", "-A", "bench.baseline.app:celery", "worker", "--loglevel=WARNING",
                  "--concurrency=2", f"--hostname={name}@%h")
    service = Service(name, argv, service_env(redis_url, SOCKETIO_ASYNC_MODE="threading"), log_dir).start()
    control = Celery(broker=redis_url, set_as_current=False)
    try:  # the article's worker sends no heartbeat of ours: ask Celery whether it answers
        return service.wait_ready(lambda: bool(control.control.ping(timeout=0.5)), timeout=60)
    finally:
        control.close()


def _answers(url):
    try:
        with urllib.request.urlopen(url + "/", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        time.sleep(0.05)
        return False

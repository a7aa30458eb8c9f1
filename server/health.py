"""What the system can tell about its own health (Redis reachable, workers alive), pushed to clients.

One monitor per server process checks once a second and sends `system health` to this process's
clients whenever the answer changes (and to each client as it connects), so both clients can show
"no worker running" or "Redis unreachable" instead of a green "connected". It also sweeps the task
leases (watchdog.py), as every worker does.
"""
import logging
import threading

from shared import protocol

from . import watchdog
from .progress import RedisUnavailable, ServerBusy

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0


def check(store):
    """Return the system's health now: {redis: bool, workers: int}."""
    try:
        return {"redis": True, "workers": store.live_workers()}
    except (RedisUnavailable, ServerBusy):
        return {"redis": False, "workers": 0}


def for_clients(health):
    """Return the `system health` payload: the health, and what it means for tasks in words (or None)."""
    from .tasks import worker_command
    if not health["redis"]:
        problem = ("Redis unreachable: tasks cannot start. Start Redis, or check REDIS_URL on the server.")
    elif not health["workers"]:
        problem = (f"No worker running: tasks will wait in the queue. Start one with `{worker_command()}` "
                   "(run_all.py starts one for you).")
    else:
        problem = None
    return dict(health, problem=problem)


class HealthMonitor:
    """Watch Redis and the workers from this server process, and tell its clients when that changes."""

    def __init__(self, socketio, store):
        self._socketio = socketio
        self._store = store
        self._sweeper = watchdog.Sweeper(store)
        self._current = None
        self._starting = threading.Lock()

    def current(self):
        """Return the latest `system health` payload, checking now if the monitor has not run yet."""
        with self._starting:
            if self._current is None:
                self._current = check(self._store)
                self._socketio.start_background_task(self.run)
        return for_clients(self._current)

    def run(self):
        """Check every CHECK_SECONDS until the process ends."""
        while True:
            self._socketio.sleep(CHECK_SECONDS)
            try:
                self.tick()
            except Exception:
                log.exception("health check failed; trying again in %g s", CHECK_SECONDS)

    def tick(self):
        """Check once; tell every client of this process if the health changed; sweep the leases."""
        health = check(self._store)
        if health != self._current:
            log.log(logging.INFO if health["redis"] and health["workers"] else logging.WARNING,
                    "system health: Redis %s, %d worker(s) alive",
                    "reachable" if health["redis"] else "unreachable", health["workers"])
            self._current = health
            self._socketio.emit(protocol.SYSTEM_HEALTH, for_clients(health), namespace=protocol.NAMESPACE,
                                ignore_queue=True)
        if health["redis"]:
            self._sweeper.sweep()

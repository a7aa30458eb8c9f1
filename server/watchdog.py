"""Duties every server and worker process shares: ending tasks whose lease ran out, and forgetting
the oldest finished tasks beyond the retained count.

Any number of processes sweep at once; the expiry script re-checks each lease inside Redis, so a
lost task gets exactly one final event, and no single process has to survive for it to come.
After a Redis outage nobody could report, so nothing is swept until every worker has had a whole
lease period to report again: the sweeper waits that long after its own last failure, and after
Redis itself (re)started.
"""
import logging
import threading
import time

from .progress import RedisUnavailable, ServerBusy

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0


class Sweeper:
    """End, as failed, the tasks whose worker stopped reporting; forget the oldest beyond the count."""

    def __init__(self, store):
        self._store = store
        self._quiet_until = 0.0

    def sweep(self):
        """Expire the leases that ran out; return the ids of the tasks ended."""
        if time.monotonic() < self._quiet_until:
            return []
        try:
            if self._store.redis_uptime() < self._store.lease_seconds:
                return []  # Redis just (re)started: workers may not have reported since
            expired = self._store.expire_leases()
            self._store.forget_oldest()
        except (RedisUnavailable, ServerBusy):
            self._quiet_until = time.monotonic() + self._store.lease_seconds
            return []
        for task_id in expired:
            log.warning("task %s failed: its worker sent no report for %g s", task_id,
                        self._store.lease_seconds)
        return expired


def run_every(seconds, duty, stop):
    """Call duty every `seconds` until the threading.Event stop is set; log, never die, on errors."""
    while not stop.wait(seconds):
        try:
            duty()
        except Exception:
            log.exception("%s failed; trying again in %g s", getattr(duty, "__name__", duty), seconds)


def start_thread(name, seconds, duty):
    """Run duty every `seconds` on a daemon thread; return the Event that stops it."""
    stop = threading.Event()
    threading.Thread(target=run_every, args=(seconds, duty, stop), name=name, daemon=True).start()
    return stop

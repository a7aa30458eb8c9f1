"""How many tasks a client may start: a rate per client, a cap per client and a cap for the server.

A client is one socket connection, or one remote address over HTTP. Each has a token bucket
(``TASK_START_BURST`` starts at once, refilled at ``TASK_START_RATE`` a second) and may have at most
``MAX_ACTIVE_TASKS_PER_CLIENT`` tasks queued or running; all clients together at most
``MAX_QUEUED_TASKS``. A start over any of them is refused with ``rate_limited`` (RateLimited), so one
client's flood cannot fill every worker slot while other clients' starts and echoes go on.

The counts are this server process's own: the tasks it started that were not yet seen to finish.
Finished tasks are found only when a count reaches its cap, by asking the task store for the
states of the counted ones in one round trip. A slot is reserved before a task is queued, so
concurrent starts cannot overshoot a cap.
"""
import contextlib
import logging
import math
import threading
import time

from flask import current_app

from shared.protocol import ErrorCode, ProtocolError

from . import progress, tasks

log = logging.getLogger(__name__)

CAP_RETRY_SECONDS = 5  # Retry-After when a cap, not the rate, refused a start
TOTAL_PRUNE_SECONDS = 1.0  # the whole server's count is re-checked at most this often when full
MAX_IDLE_BUCKETS = 10_000  # past this many clients, full buckets of clients without tasks are dropped
LOG_EVERY_SECONDS = 10.0  # a limited client costs a log line this often, not one per refused start


class RateLimited(ProtocolError):
    """A task start refused by a limit; retry_after says in how many seconds to try again."""

    def __init__(self, reason, retry_after):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(ErrorCode.RATE_LIMITED, f"{reason} (try again in {self.retry_after} s)")


class TaskLimits:
    """Admit or refuse task starts per client, and count each client's unfinished tasks."""

    def __init__(self, burst, rate, per_client, total, unfinished, clock=time.monotonic):
        """unfinished(task_ids) returns those of task_ids whose task is still queued or running."""
        self.burst, self.rate, self.per_client, self.total = burst, rate, per_client, total
        self._unfinished = unfinished
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets = {}  # client -> [tokens, time of last refill, time of last log line, refusals since]
        self._active = {}  # client -> set of task ids (or reservations) not yet seen to finish
        self._count = 0  # sum of the sets' sizes
        self._total_checked = float("-inf")

    @contextlib.contextmanager
    def slot(self, client):
        """Reserve a task for client, or raise RateLimited; yield a function taking the task's id.

        Leaving without an id (the start failed) frees the slot.
        """
        reservation = object()
        self._admit(client, reservation)
        task_id = None

        def started(new_task_id):
            nonlocal task_id
            task_id = new_task_id
        try:
            yield started
        finally:
            with self._lock:
                active = self._active.setdefault(client, set())
                active.discard(reservation)
                if task_id is not None:
                    active.add(task_id)
                else:
                    self._count -= 1

    def forget(self, client):
        """Drop a departed client's bucket; its unfinished tasks still count for the server."""
        with self._lock:
            self._buckets.pop(client, None)

    def _admit(self, client, reservation):
        with self._lock:
            self._take_token(client)
        if len(self._active.get(client, ())) >= self.per_client:
            self._prune([client])
        if self._count >= self.total and self._clock() - self._total_checked >= TOTAL_PRUNE_SECONDS:
            self._total_checked = self._clock()
            self._prune(list(self._active))
        with self._lock:
            active = self._active.setdefault(client, set())
            if len(active) >= self.per_client:
                self._refuse(client, f"you have {_tasks(len(active))} unfinished; the limit is "
                                     f"{self.per_client} a client: wait for some to finish", CAP_RETRY_SECONDS)
            if self._count >= self.total:
                self._refuse(client, f"the server has {_tasks(self._count)} unfinished, its limit: "
                                     "try again later", CAP_RETRY_SECONDS)
            active.add(reservation)
            self._count += 1

    def _take_token(self, client):
        """Take one start from client's bucket, or refuse (call with the lock held)."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= MAX_IDLE_BUCKETS:
                self._drop_idle_buckets(now)
            bucket = self._buckets[client] = [float(self.burst), now, float("-inf"), 0]
        bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if bucket[0] < 1:
            self._refuse(client, f"too many task starts: at most {self.burst} at once and "
                                 f"{self.rate:g} a second", (1 - bucket[0]) / self.rate)
        bucket[0] -= 1

    def _refuse(self, client, reason, retry_after):
        bucket = self._buckets.get(client)
        if bucket is not None:
            bucket[3] += 1
            now = self._clock()
            if now - bucket[2] >= LOG_EVERY_SECONDS:
                log.warning("limiting task starts of %s: %s (%d refused since the last such line)",
                            client, reason, bucket[3])
                bucket[2], bucket[3] = now, 0
        raise RateLimited(reason, retry_after)

    def _prune(self, clients):
        """Forget the tasks of clients that have finished (one round trip to the task store)."""
        with self._lock:
            counted = {client: [t for t in self._active.get(client, ()) if isinstance(t, str)]
                       for client in clients}
        task_ids = [task_id for ids in counted.values() for task_id in ids]
        if not task_ids:
            return
        still = set(self._unfinished(task_ids))
        with self._lock:
            for client, ids in counted.items():
                active = self._active.get(client, set())
                for task_id in ids:
                    if task_id not in still and task_id in active:
                        active.discard(task_id)
                        self._count -= 1
                if not active and client not in self._buckets:
                    self._active.pop(client, None)

    def _drop_idle_buckets(self, now):
        for client, (tokens, refilled, _logged, _refused) in list(self._buckets.items()):
            full = tokens + (now - refilled) * self.rate >= self.burst
            if full and not self._active.get(client):
                del self._buckets[client]


def _tasks(count):
    return f"{count} task" if count == 1 else f"{count} tasks"


def init_app(app):
    """Give the app its TaskLimits, from the settings."""
    settings = app.config["SETTINGS"]
    app.extensions["task_limits"] = TaskLimits(
        settings.task_start_burst, settings.task_start_rate, settings.max_active_tasks_per_client,
        settings.max_queued_tasks, unfinished=lambda task_ids: progress.get().unfinished(task_ids))


def start_task(client, kind, params):
    """Start a task of kind with params for client if its limits allow (else raise RateLimited); return its id.

    A request the kind's schema refuses (ProtocolError) is refused before it counts against a limit.
    """
    kind, params = tasks.check_request(kind, params)
    limits = current_app.extensions["task_limits"]
    with limits.slot(client) as started:
        task_id = tasks.start_checked(kind, params)
        started(task_id)
    return task_id


def forget(client):
    """Forget a client that left (a closed socket connection)."""
    current_app.extensions["task_limits"].forget(client)

"""What the worker does besides running tasks, wired to Celery's signals in the worker's main process.

- A heartbeat each second, so servers can count live workers (and tell clients when none is).
- The lease sweep (watchdog.py), so lost tasks end even when no server runs.
- A lease on each task taken from the queue, so a worker that dies before starting it is noticed.
- Celery's revoke, with or without terminate (Flower, `celery control revoke`), ends our task
  `cancelled`, as our own cancel does.
- A warm shutdown (SIGTERM, Ctrl+C) puts the tasks this worker runs back in the queue at their
  next report; they run again, as their next attempt, when a worker starts.
- Each pool process leaves the worker's process group, so a SIGTERM to the whole group (honcho,
  a test's or a supervisor's stop) reaches only the main process and still means a warm shutdown;
  and it dies with the main process (Linux's parent-death signal), so a worker killed as a whole
  (kill -9, an OOM kill) leaves no pool process running a task nobody watches.
"""
import ctypes
import logging
import os
import signal
import sys
import threading

from celery import signals
from celery.worker import state as worker_state

from shared.protocol import TaskState

from . import progress, watchdog

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0


class WorkerDuties:
    """The worker main process's duties, started when the worker is ready."""

    def __init__(self, store):
        self._store = store
        self._sweeper = watchdog.Sweeper(store)
        self._hostname = None
        self._stop = None
        self._stopping = False
        self._revokes_passed = set()

    def install(self):
        """Connect to Celery's signals (strong references: the handlers are bound methods)."""
        signals.worker_ready.connect(self._on_ready, weak=False)
        signals.task_received.connect(self._on_received, weak=False)
        signals.task_revoked.connect(self._on_revoked, weak=False)
        signals.worker_shutting_down.connect(self._on_shutting_down, weak=False)
        signals.worker_shutdown.connect(self._on_shutdown, weak=False)
        signals.worker_process_init.connect(_detach_from_group, weak=False)

    def _on_ready(self, sender=None, **_):
        self._hostname = sender.hostname
        self._stop = watchdog.start_thread("worker-duties", HEARTBEAT_SECONDS, self.tick)
        self.tick()

    def tick(self):
        """Beat, sweep, and pass Celery's revokes of running tasks on to the store."""
        try:
            self._store.worker_alive(self._hostname)
            if self._stopping:
                self._requeue_active()
            else:
                self._pass_revokes()
        except (progress.RedisUnavailable, progress.ServerBusy) as exc:
            log.debug("worker duties skipped: %s", exc)
        self._sweeper.sweep()

    def _pass_revokes(self):
        # A revoke without terminate only marks the task in this process; it stops at its next report.
        for request in list(worker_state.active_requests):
            if request.id in worker_state.revoked and request.id not in self._revokes_passed:
                self._store.request_cancel(request.id, progress.REVOKED)
                self._revokes_passed.add(request.id)
        self._revokes_passed &= {request.id for request in worker_state.active_requests}

    def _requeue_active(self):
        for request in list(worker_state.active_requests):
            self._store.request_requeue(request.id)

    def _on_received(self, request=None, **_):
        try:
            self._store.hold(request.id)
        except (progress.RedisUnavailable, progress.ServerBusy) as exc:
            log.warning("task %s taken from the queue, but not leased: %s", request.id, exc)

    def _on_revoked(self, request=None, terminated=False, expired=False, **_):
        message = progress.REVOKED + (" (terminated)" if terminated else " (expired)" if expired else "")
        try:
            self._store.record(request.id, TaskState.CANCELLED, progress.KEEP_PERCENT, message,
                               retry_for=5)
        except (progress.RedisUnavailable, progress.ServerBusy) as exc:
            log.error("task %s was revoked, but could not be marked cancelled: %s", request.id, exc)

    def _on_shutting_down(self, **_):
        # Called inside Celery's signal handler: hand the Redis work to a thread of its own.
        self._stopping = True
        threading.Thread(target=self._requeue_safely, name="worker-requeue", daemon=True).start()

    def _requeue_safely(self):
        try:
            self._requeue_active()
        except (progress.RedisUnavailable, progress.ServerBusy) as exc:
            log.error("could not put this worker's tasks back in the queue: %s", exc)

    def _on_shutdown(self, **_):
        if self._stop is not None:
            self._stop.set()
        try:
            if self._hostname:
                self._store.worker_gone(self._hostname)
        except (progress.RedisUnavailable, progress.ServerBusy):
            pass  # its heartbeat just ages out


PR_SET_PDEATHSIG = 1


def _detach_from_group(**_):
    """In a new pool process: leave the worker's process group, and die when the worker does."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return  # without the death signal, staying in the group is the safer way to be stopped
        if os.getppid() != parent:
            os._exit(1)  # the worker died before the death signal was set
        os.setpgid(0, 0)
    except (OSError, AttributeError) as exc:
        log.debug("pool process stays in the worker's process group: %s", exc)

"""Helpers for the desktop client's tests: task events recorded as the worker records them, forged
events for robustness tests, what a Connection delivered, and a GUI-thread stall meter."""
import gc
import threading
import time

import socketio
from PySide6.QtCore import QObject, QTimer, Slot

from server.progress import TaskProgress
from shared import config, protocol
from shared.protocol import TaskState


def task_progress(redis_url):
    """Return a TaskProgress on the test Redis: events recorded with it travel the real path
    (Redis Stream, the server's relay, each event with its cursor), as the worker's do."""
    return TaskProgress(redis_url, retention_seconds=3600, stream_length=100_000)


def record_burst(store, task_id, count):
    """Record count events of task_id as fast as one Redis round trip each allows; return the seconds taken.

    seq runs 1..count; the last event is `succeeded` with the message "burst done".
    """
    started = time.perf_counter()
    for seq in range(1, count + 1):
        final = seq == count
        store.record(task_id, TaskState.SUCCEEDED if final else TaskState.RUNNING,
                     100 if final else 100 * seq // count,
                     "burst done" if final else f"burst {seq} of {count}")
    return time.perf_counter() - started


def in_background(function, *args):
    """Run function(*args) on a thread, so the GUI thread stays free; return the thread.

    The thread's `result` attribute holds the return value once it is done.
    """
    def run():
        thread.result = function(*args)

    thread = threading.Thread(target=run, daemon=True)
    thread.result = None
    thread.start()
    return thread


class DeliveredEvents(QObject):
    """Keep what a Connection delivered to the window: each TaskUpdate, and each task list."""

    def __init__(self, connection):
        super().__init__(connection)
        self.updates = []
        self.task_lists = []  # (updates, reset) of each `task list`
        connection.tasks_updated.connect(self._on_progress)
        connection.task_list_received.connect(self._on_task_list)

    @Slot(object)
    def _on_progress(self, news):
        self.updates.extend(news.updates)

    @Slot(object, bool)
    def _on_task_list(self, updates, reset):
        self.task_lists.append((updates, reset))

    def of(self, task_id):
        """Return the TaskUpdates delivered for task_id, in delivery order."""
        return [update for update in self.updates if update.task_id == task_id]

    def seqs(self, task_id):
        """Return the seq of each TaskUpdate delivered for task_id, in delivery order."""
        return [update.seq for update in self.of(task_id)]


def progress_event(task_id, state, percent, message, seq):
    """Return a `task progress` payload shaped like the server's."""
    return {"task_id": task_id, "state": str(TaskState(state)), "percent": percent,
            "message": message, "seq": seq, "ts": time.time()}


class ServerSideEmitter:
    """Publish any event through the server's message queue, so the real server fans it out.

    Not how task progress travels (that is task_progress() above): this forges events, stale
    or malformed ones included, to show what the client does with them.
    """

    def __init__(self, redis_url):
        self._manager = socketio.RedisManager(redis_url, channel=config.SOCKETIO_CHANNEL,
                                              write_only=True)

    def emit(self, event, data):
        """Broadcast event with data to every client on the namespace."""
        self._manager.emit(event, data, namespace=protocol.NAMESPACE)


class TickGapMeter:
    """Measure how late a fast QTimer fires (the GUI thread's worst stall), and the GC's pauses."""

    def __init__(self, interval_ms=5):
        self.interval_ms = interval_ms
        self.ticks = 0
        self.worst_gap = 0.0
        self.gc_pauses = []  # (generation, seconds) of each collection while measuring
        self._last = None
        self._gc_started = None
        self._timer = QTimer(interval=interval_ms)
        self._timer.timeout.connect(self._tick)

    def _on_gc(self, phase, info):
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started is not None:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_started))

    def summary(self):
        """Return the figures as one printable line."""
        full = [seconds for generation, seconds in self.gc_pauses if generation == 2]
        return (f"{self.ticks} ticks of a {self.interval_ms} ms timer, worst GUI-thread gap "
                f"{self.worst_gap * 1000:.1f} ms; {len(self.gc_pauses)} GC runs, {len(full)} full, "
                f"longest {max((s for _, s in self.gc_pauses), default=0) * 1000:.1f} ms; "
                f"{len(gc.get_objects())} objects tracked")

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.worst_gap = max(self.worst_gap, now - self._last)
        self._last = now
        self.ticks += 1

    def __enter__(self):
        gc.callbacks.append(self._on_gc)
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.stop()
        gc.callbacks.remove(self._on_gc)

"""Helpers for the desktop client's tests: server-side event injection and a GUI-thread stall meter."""
import threading
import time

import socketio
from PySide6.QtCore import QTimer

from shared import config, protocol
from shared.protocol import TaskState


def progress_event(task_id, state, percent, message, seq):
    """Return a `task progress` payload shaped like the server's."""
    return {"task_id": task_id, "state": str(TaskState(state)), "percent": percent,
            "message": message, "seq": seq, "ts": time.time()}


class ServerSideEmitter:
    """Publish events through Redis as the worker does, so the real server fans them out."""

    def __init__(self, redis_url):
        self._manager = socketio.RedisManager(redis_url, channel=config.SOCKETIO_CHANNEL,
                                              write_only=True)

    def emit(self, event, data):
        """Broadcast event with data to every client on the namespace."""
        self._manager.emit(event, data, namespace=protocol.NAMESPACE)

    def progress_burst(self, task_id, count):
        """Broadcast count `task progress` events for task_id, seq 1..count, the last succeeded."""
        for seq in range(1, count + 1):
            final = seq == count
            self.emit(protocol.TASK_PROGRESS, progress_event(
                task_id, TaskState.SUCCEEDED if final else TaskState.RUNNING,
                100 if final else 100 * seq // count,
                "burst done" if final else f"burst {seq} of {count}", seq))

    def in_background(self, method, *args):
        """Run one of the methods above on a thread, so the GUI thread stays free; return the thread."""
        thread = threading.Thread(target=method, args=args, daemon=True)
        thread.start()
        return thread


class TickGapMeter:
    """Measure how late a fast QTimer fires: the GUI thread's worst stall while it runs."""

    def __init__(self, interval_ms=5):
        self.interval_ms = interval_ms
        self.ticks = 0
        self.worst_gap = 0.0
        self._last = None
        self._timer = QTimer(interval=interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.worst_gap = max(self.worst_gap, now - self._last)
        self._last = now
        self.ticks += 1

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.stop()

"""Helpers for the desktop client's tests: server-side event injection and a GUI-thread stall meter."""
import gc
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

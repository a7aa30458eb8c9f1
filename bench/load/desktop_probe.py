"""The desktop app under a flood: its real main window (offscreen) with a GUI-thread stall meter.

python -m bench.load.desktop_probe --server URL
Prints `ready` once connected. On `go T N R` it measures from T for N / R seconds, then until all N
events arrived (or DRAIN_SECONDS passed), and prints `result {...}`: the gaps between ticks of a
TICK_MS timer on the GUI thread (a gap is how long the GUI thread could not react), its resident
memory, sampled every SAMPLE_MS, and the CPU its threads used (THREAD_GROUPS).

The threads' user CPU is the measure of their share of the GIL: the socket threads run Python (frame
parsing, JSON, payload checks) with the GIL held, and release it in their system calls, whose time is
system CPU. Every hold is time the GUI thread may wait before it can run any Python, a slot or a
model's data() alike. Where the long gaps (over LONG_GAP_MS) went is split with the GUI thread's own
scheduler statistics: running on a core, waiting for a core (the machine is busy), and the rest,
blocked: waiting for the GIL (the event loop does not sleep while a tick is due).
"""
import argparse
import json
import os
import sys
import tempfile
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.load.senders import parse_go  # noqa: E402
from bench.procstat import rss_mib, thread_cpu_seconds  # noqa: E402
from bench.stats import percentile  # noqa: E402

TICK_MS = 4
SAMPLE_MS = 500
DRAIN_SECONDS = 15
WARM_UP_SECONDS = 5  # memory growth counts from here
LONG_GAP_MS = 16  # figure 6's target; gaps longer than this are split into running, waiting for a core, and blocked
# Python threads by what their name contains (the first match wins): the GUI thread, python-socketio's
# and python-engineio's threads; any other thread (Qt's own, stdin) counts as "other".
THREAD_GROUPS = (("gui", "MainThread"), ("socket_reader", "_read_loop"), ("socket_dispatch", "socketio-dispatch"),
                 ("socket_other", "_write_loop"), ("socket_other", "socketio"), ("socket_other", "engineio"))


class Probe(QObject):
    """Tick on the GUI thread, sample memory, and report when the run is over."""

    go_received = Signal(float, int, float)  # from the stdin thread: start, count, rate

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.go_received.connect(self.begin)
        self._tick_timer = QTimer(self, interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer)
        self._tick_timer.timeout.connect(self._tick)
        self._sample_timer = QTimer(self, interval=SAMPLE_MS)
        self._sample_timer.timeout.connect(self._sample)

    def begin(self, start, count, rate):
        """Start measuring at start (CLOCK_MONOTONIC seconds)."""
        self.start, self.count, self.end = start, count, start + count / rate
        self.received_before = self.window.connection.position.received
        self.gaps, self.rss, self._last = [], [], None
        self._long = [0.0, 0.0, 0.0]  # the long gaps' milliseconds: in all, on a core, waiting for one
        QTimer.singleShot(max(0, int((start - time.monotonic()) * 1000)), self._measure)

    def _measure(self):
        self._tick_timer.start()
        self._sample_timer.start()
        self._threads_before, self._measured_from = thread_cpu_seconds(os.getpid()), time.monotonic()

    def _tick(self):
        now, sched = time.monotonic(), gui_schedstat()
        if self._last is not None:
            gap = (now - self._last) * 1000
            self.gaps.append(gap)
            if gap > LONG_GAP_MS and sched and self._last_sched:
                self._long[0] += gap
                self._long[1] += (sched[0] - self._last_sched[0]) / 1e6
                self._long[2] += (sched[1] - self._last_sched[1]) / 1e6
        self._last, self._last_sched = now, sched
        received = self.window.connection.position.received - self.received_before
        if now > self.end and (received >= self.count or now > self.end + DRAIN_SECONDS):
            self._report(now, received)

    def _sample(self):
        self.rss.append((time.monotonic() - self.start, rss_mib(os.getpid())))

    def _report(self, now, received):
        self._tick_timer.stop()
        self._sample_timer.stop()
        warm_up = min(WARM_UP_SECONDS, (self.end - self.start) / 2)  # a short run still gets a figure
        after_warm_up = [mib for at, mib in self.rss if at >= warm_up]
        result = {"expected": self.count, "received": received, "drain_seconds": max(0.0, now - self.end),
                  "ticks": len(self.gaps), "gap_p50_ms": percentile(self.gaps, 50),
                  "gap_p99_ms": percentile(self.gaps, 99), "gap_max_ms": max(self.gaps, default=None),
                  "rss_start_mib": self.rss[0][1] if self.rss else None,
                  "rss_growth_mib": (max(after_warm_up) - after_warm_up[0]) if after_warm_up else None,
                  "rss": self.rss, "long_gaps": long_gap_shares(*self._long),
                  "cpu_share": thread_shares(self._threads_before, thread_cpu_seconds(os.getpid()),
                                             now - self._measured_from)}
        print("result " + json.dumps(result), flush=True)
        QApplication.quit()


def gui_schedstat():
    """Return the calling thread's (nanoseconds on a core, nanoseconds waiting for one), or None
    where the kernel does not tell."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as stat:
            on_core, waiting, _slices = stat.read().split()
    except (OSError, ValueError):
        return None
    return int(on_core), int(waiting)


def long_gap_shares(total_ms, on_core_ms, waiting_ms):
    """Return how the long gaps' time split: {"ms", "running", "waiting_for_core", "blocked"} (fractions)."""
    if not total_ms:
        return {"ms": 0.0}
    running, waiting = on_core_ms / total_ms, waiting_ms / total_ms
    return {"ms": round(total_ms, 1), "running": round(running, 3), "waiting_for_core": round(waiting, 3),
            "blocked": round(max(0.0, 1 - running - waiting), 3)}


def thread_shares(before, after, seconds):
    """Return, for each of THREAD_GROUPS and "other", the {"user", "system"} CPU it used over seconds,
    in fractions of one core."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    shares = {}
    for tid, (user, system) in after.items():
        user_before, system_before = before.get(tid, (0.0, 0.0))
        name = names.get(tid, "")
        group = next((group for group, part in THREAD_GROUPS if part in name), "other")
        share = shares.setdefault(group, {"user": 0.0, "system": 0.0})
        share["user"] += (user - user_before) / seconds
        share["system"] += (system - system_before) / seconds
    return {group: {key: round(value, 3) for key, value in share.items()} for group, share in shares.items()}


def read_go_lines(probe):
    """Forward each `go` line on stdin to the GUI thread (stdin thread)."""
    for line in sys.stdin:
        probe.go_received.emit(*parse_go(line))


def isolate_settings():
    """Keep the app's saved settings (server URL, geometry) out of the user's own."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      tempfile.mkdtemp(prefix="bench-desktop-settings-"))


def main(argv=None):
    """Open the window on the server, say ready once connected, then measure one run."""
    parser = argparse.ArgumentParser(prog="python -m bench.load.desktop_probe")
    parser.add_argument("--server", required=True)
    options = parser.parse_args(argv)
    app = QApplication(sys.argv[:1])
    isolate_settings()
    app.setOrganizationName("TaskProgressBench")
    app.setApplicationName("Task Progress Desktop (benchmark)")
    from desktop_client.connection import ConnectionState
    from desktop_client.main_window import MainWindow

    window = MainWindow(server_url=options.server)
    window.show()
    probe = Probe(window)

    def say_ready_when_connected(state, *_):
        if state == ConnectionState.CONNECTED:
            window.connection.state_changed.disconnect(say_ready_when_connected)
            print("ready", flush=True)
            threading.Thread(target=read_go_lines, args=(probe,), daemon=True).start()

    window.connection.state_changed.connect(say_ready_when_connected)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

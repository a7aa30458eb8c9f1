"""Start the system's processes one stage at a time, show their output, and stop them all together.

Why not honcho's ``Manager.loop``: it starts every process at once, starts shutting down only once
all of them have started (so a child that dies before a later stage starts would hang it), and
turns a Ctrl+C into exit code 130. What honcho does well is kept: its Printer
(``HH:MM:SS name | line``, colour only on a TTY), its Message, its colour cycle and its
process-group TERM/KILL. What is added is readiness-gated starting inside one event loop: a
thread polls the newest process's readiness check and posts ``ready`` into the queue that also
carries every child's lines and exits, and the signals; the loop starts the next stage on that
message. A child's death, a readiness timeout and a signal thus all end up in one place.
"""
import datetime
import queue
import signal
import threading
import time

from honcho import colour
from honcho.colour import get_colours
from honcho.printer import Message

from . import lifecycle, readiness, reaper
from .process import describe_exit

SYSTEM_NAME = "run_all"
SYSTEM_COLOUR = colour.intense_white  # not in the children's cycle, so the launcher's lines stand out
GRACE_SECONDS = 5.0  # from TERM to KILL, as honcho's KILL_WAIT
WARM_SHUTDOWN_SECONDS = 15.0  # from TERM to KILL for a process that stops its children itself
KILL_WAIT_SECONDS = 3.0  # for the kernel to finish off what KILL hit
STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
CLEAN, FAILED = 0, 1


class Manager:
    """Run processes in order, each started once the one before is ready; stop all on any end."""

    def __init__(self, printer, grace=GRACE_SECONDS, on_ready=None):
        self._printer = printer
        self._grace = grace
        self._on_ready = on_ready
        # SimpleQueue.put is reentrant, so the signal handler can post into it too.
        self._events = queue.SimpleQueue()
        self._processes = []
        self._colours = get_colours()
        self._stopping = threading.Event()
        self._exit_code = None
        self._print_lock = threading.Lock()
        self._printer.width = len(SYSTEM_NAME)

    def add_process(self, process):
        """Add process as the next stage; it starts once the previous one is ready."""
        process.colour = next(self._colours)
        self._processes.append(process)
        self._printer.width = max(self._printer.width, len(process.name))
        return process

    def run(self):
        """Start the stages, supervise them, stop everything; return the exit code."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        reaper.become_subreaper()
        try:
            self._start_next()
            while self._exit_code is None:
                self._handle(self._next_event())
        except BaseException:
            self._exit_code = FAILED
            raise
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self._exit_code

    def say(self, text):
        """Print a line of the launcher's own."""
        self._print(Message(type="line", data=text, time=datetime.datetime.now(), name=SYSTEM_NAME,
                            colour=SYSTEM_COLOUR))

    def _on_signal(self, signum, frame):
        self._events.put(Message(type="signal", data=signum, time=datetime.datetime.now(),
                                 name=SYSTEM_NAME, colour=None))

    def _next_event(self, timeout=0.1):
        reaper.reap_orphans({p.pid for p in self._processes if p.running})
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _handle(self, message):
        if message is None:
            return
        process = self._find(message.name)
        if message.type == "line":
            text = _text(message.data)
            process.tail.append(text)
            shown = process.shown(text) if process.shown else text
            if shown is not None:
                self._print(message._replace(data=shown))
        elif message.type == "stop":
            process.returncode = message.data["returncode"]
            self._on_exit(process)
        elif message.type == "ready":
            self._on_stage_ready(process)
        elif message.type == "unready" and not self._stopping.is_set():
            self._finish(FAILED, f"{process.name} did not become ready within "
                                 f"{process.ready_timeout:g} s (waited for {process.waiting_for})")
            self._show_tail(process)
        elif message.type == "signal":
            self._finish(CLEAN, f"{signal.Signals(message.data).name} received: stopping everything")

    def _start_next(self):
        process = next((p for p in self._processes if not p.started), None)
        if process is None:
            if self._on_ready:
                self._on_ready()
            return
        try:
            pid = process.start(self._events)
        except OSError as exc:
            self._finish(FAILED, f"could not start {process.name} ({exc}): {' '.join(process.argv)}")
            return
        self.say(f"{process.name} started (pid {pid})")
        threading.Thread(target=self._await_ready, args=(process,), daemon=True,
                         name=f"{process.name}-readiness").start()

    def _await_ready(self, process):
        check = process.ready or (lambda: True)
        try:
            if readiness.wait_until(check, process.ready_timeout, interval=0.1, cancel=self._stopping):
                self._events.put(process.message("ready", None))
        except TimeoutError:
            self._events.put(process.message("unready", None))

    def _on_stage_ready(self, process):
        if self._stopping.is_set() or not process.running:
            return
        if process.ready is not None:
            self.say(f"{process.name} is ready")
        self._start_next()

    def _on_exit(self, process):
        if self._stopping.is_set():
            normal = process.returncode in (0, -signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM)
            self.say(f"{process.name} stopped" + ("" if normal else f" ({describe_exit(process.returncode)})"))
        elif process.clean_exit_stops and process.returncode == 0:
            self._finish(CLEAN, f"{process.name} closed: stopping everything")
        else:
            self._finish(FAILED, f"{process.name} {describe_exit(process.returncode)}: "
                                 "stopping everything")
            self._show_tail(process)

    def _show_tail(self, process):
        if not process.tail:
            self.say(f"{process.name} wrote nothing")
            return
        self.say(f"the last lines {process.name} wrote:")
        for line in process.tail:
            self.say(f"  {process.name}: {line}")

    def _finish(self, exit_code, reason):
        if self._exit_code is None:
            self._exit_code = exit_code
            self.say(reason)
        self._stopping.set()

    def _stop_all(self):
        """Stop every process: the others first, then those they depend on (Redis)."""
        self._stopping.set()
        first = [p for p in self._processes if p.started and not p.stops_last]
        last = [p for p in self._processes if p.started and p.stops_last]
        for group in (first, last):
            self._stop(group)
        self._drain()

    def _stop(self, processes):
        """TERM each process group, KILL what is left after the grace period, wait until all are gone."""
        self._signal_groups(processes, force=False)
        # A warm shutdown puts the worker's tasks back in the queue first: give it longer.
        grace = max([self._grace] + [WARM_SHUTDOWN_SECONDS for p in processes if p.stop_main_first])
        if not self._wait_gone(processes, grace):
            self._signal_groups(processes, force=True)
            if not self._wait_gone(processes, KILL_WAIT_SECONDS):
                left = ", ".join(f"{p.name} (process group {p.pid})" for p in processes if not self._gone(p))
                self.say(f"still running after SIGKILL, left behind: {left}")

    def _signal_groups(self, processes, force):
        for process in processes:
            if self._gone(process):
                continue
            if not force and process.stop_main_first:
                # A warm shutdown: its main process stops its own children, after their tasks are
                # back in the queue; the group is killed only if that takes longer than the grace.
                self.say(f"sending SIGTERM to {process.name} (pid {process.pid})")
                lifecycle.signal_main(process.pid, signal.SIGTERM)
                continue
            name = "SIGKILL" if force else "SIGTERM"
            self.say(f"sending {name} to {process.name} (process group {process.pid})")
            # Each child leads its own session, so its group holds it and everything it started.
            lifecycle.signal_group(process.pid, signal.SIGKILL if force else signal.SIGTERM)

    def _wait_gone(self, processes, seconds):
        deadline = time.monotonic() + seconds
        while not all(self._gone(p) for p in processes):
            if time.monotonic() > deadline:
                return False
            message = self._next_event(timeout=0.05)
            if message is not None and message.type == "signal":
                self.say("second signal: killing what is left")
                self._signal_groups(processes, force=True)
            else:
                self._handle(message)
        return True

    def _gone(self, process):
        return process.returncode is not None and not lifecycle.group_alive(process.pid)

    def _drain(self):
        """Print the lines still queued, so the children's last words are shown."""
        while True:
            try:
                message = self._events.get_nowait()
            except queue.Empty:
                return
            if message.type == "line":
                self._handle(message)

    def _find(self, name):
        return next((p for p in self._processes if p.name == name), None)

    def _print(self, message):
        try:
            with self._print_lock:
                self._printer.write(message)
        except (BrokenPipeError, ValueError):
            pass  # nobody reads the output any more; stopping the children matters more


def _text(data):
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text.rstrip("\r\n")

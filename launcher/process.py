"""One child of the launcher: started in its own session, its lines and its exit posted as messages.

Built from honcho's pieces (its Popen: own session, stderr merged into stdout; its Message) rather
than its Process, because honcho's Process reports an exit only once the output pipe closes, and a
killed Celery worker's pool processes keep that pipe open: here one thread relays lines and
another reports the exit as soon as it happens.
"""
import collections
import datetime
import signal
import subprocess
import threading

from honcho.printer import Message
from honcho.process import Popen

# How long an exit report waits for the lines the child wrote just before it exited.
OUTPUT_DRAIN_SECONDS = 0.5
TAIL_LINES = 15


class Process:
    """A child process of the system, with the check that tells when it is ready to serve."""

    def __init__(self, name, argv, env, cwd, ready=None, ready_timeout=60.0, waiting_for="ready",
                 clean_exit_stops=False, stops_last=False, stop_main_first=False, popen_kwargs=None,
                 shown=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.ready = ready  # a callable returning true once ready; None: ready as soon as started
        self.ready_timeout = ready_timeout
        self.waiting_for = waiting_for  # what the check waits for, in words, for a timeout message
        self.clean_exit_stops = clean_exit_stops  # an exit with 0 is the user's way to stop it all
        self.stops_last = stops_last  # stopped after the others, which depend on it
        self.stop_main_first = stop_main_first  # TERM to the main process only, the group after the grace
        self.popen_kwargs = popen_kwargs or {}
        self.shown = shown  # line -> the text to print, or None to hide it (see quiet.py); None: all
        self.colour = None
        self.pid = None
        self.returncode = None
        self.tail = collections.deque(maxlen=TAIL_LINES)
        self._child = None

    @property
    def started(self):
        """Tell whether the child was started."""
        return self.pid is not None

    @property
    def running(self):
        """Tell whether the child was started and has not been seen to exit."""
        return self.started and self.returncode is None

    def start(self, events):
        """Start the child now; post its output lines and its exit to events."""
        # Without a terminal of its own, a child reading the launcher's stdin would only be stopped.
        self._child = Popen(self.argv, shell=False, env=self.env, cwd=self.cwd,
                            stdin=subprocess.DEVNULL, **self.popen_kwargs)
        self.pid = self._child.pid
        reader = threading.Thread(target=self._relay_lines, args=(events,), daemon=True,
                                  name=f"{self.name}-output")
        reader.start()
        threading.Thread(target=self._report_exit, args=(events, reader), daemon=True,
                         name=f"{self.name}-exit").start()
        return self.pid

    def _relay_lines(self, events):
        with self._child.stdout as output:
            for line in iter(output.readline, b""):
                events.put(self.message("line", line))

    def _report_exit(self, events, reader):
        returncode = self._child.wait()
        reader.join(OUTPUT_DRAIN_SECONDS)
        events.put(self.message("stop", {"returncode": returncode}))

    def message(self, kind, data):
        """Return a honcho Message about this process."""
        return Message(type=kind, data=data, time=datetime.datetime.now(), name=self.name,
                       colour=self.colour)


def describe_exit(returncode):
    """Return how a process ended, in words."""
    if returncode is not None and returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"

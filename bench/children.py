"""Load processes driven over stdin/stdout: each prints `ready`, waits for `go`, prints a JSON result.

Every child runs in its own session and is stopped (TERM, then KILL) by its owner, even on failure.
"""
import json
import os
import queue
import subprocess
import sys
import threading
import time
from launcher import lifecycle
from shared.config import PROJECT_ROOT as ROOT

NODE_CLIENTS = os.path.join(ROOT, "bench", "load")


class ChildFailed(RuntimeError):
    """A load process died or did not answer in time."""


class Child:
    """One load process: start it, wait for its lines, tell it to go, read its result."""

    def __init__(self, name, argv, env=None):
        self.name = name
        self.argv = argv
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.process = None
        self._lines = queue.Queue()
        self._stderr = []

    def start(self):
        """Start the process with pipes to its stdin and stdout."""
        self.process = lifecycle.popen_in_session(self.argv, cwd=ROOT, env=self.env, stdin=subprocess.PIPE,
                                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=_pump, args=(self.process.stdout, self._lines.put, self._lines.put),
                         daemon=True).start()
        threading.Thread(target=_pump, args=(self.process.stderr, self._stderr.append),
                         daemon=True).start()
        return self

    def wait_line(self, prefix, timeout):
        """Return the first stdout line starting with prefix, skipping others; ChildFailed on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise ChildFailed(f"{self.name}: no {prefix!r} line within {timeout:.0f}s; "
                                  f"stderr: {self.stderr_tail()}") from None
            if line is None:
                raise ChildFailed(f"{self.name} exited with {self.process.wait()}; "
                                  f"stderr: {self.stderr_tail()}")
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    def send(self, line):
        """Write one line to the child's stdin."""
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def result(self, timeout):
        """Return the child's JSON result line (`result {...}`)."""
        return json.loads(self.wait_line("result", timeout))

    def stderr_tail(self, lines=15):
        """Return the last lines the child wrote to stderr."""
        return "\n".join(line for line in self._stderr[-lines:] if line)

    def stop(self, grace=3.0):
        """TERM the child's process group, KILL it after grace seconds."""
        if self.process is not None:
            lifecycle.stop(self.process, grace)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _pump(stream, sink, on_end=None):
    for line in stream:
        sink(line.rstrip("\n"))
    if on_end is not None:
        on_end(None)  # end of output: a waiting reader learns the child is gone


def python_child(name, module, *args, env=None):
    """Return a Child running `python -m module args` with this interpreter."""
    return Child(name, [sys.executable, "-m", module, *map(str, args)], env)


def node_child(name, script, *args):
    """Return a Child running one of the Node load scripts in bench/load/."""
    return Child(name, ["node", os.path.join(NODE_CLIENTS, script), *map(str, args)])


def go_time(lead=0.3):
    """Return a start time (CLOCK_MONOTONIC seconds, shared by every process) lead seconds ahead."""
    return time.monotonic() + lead

"""Real processes for integration tests: each writes to its own log file and dies with the test."""
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Service:
    """A child process started in its own session, its output captured in a log file."""

    def __init__(self, name, argv, env, log_dir, cwd=ROOT):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.process = None

    def start(self):
        """Start the process; stdout and stderr go to the log file."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    def log_text(self):
        """Return everything the process has written so far."""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def alive(self):
        """Tell whether the process is still running."""
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, check, timeout=30.0):
        """Wait until check() is true, failing early (with the log) if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   f"{self.log_text()[-3000:]}")
            if check():
                return self
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{self.log_text()[-3000:]}")

    def stop(self, grace=10.0):
        """TERM the process group, then KILL it after grace seconds."""
        if not self.alive():
            return
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait()

    def kill(self):
        """KILL the process group at once, as a crash would."""
        _signal_group(self.process, signal.SIGKILL)
        self.process.wait()


def _signal_group(process, sig):
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def python(*args):
    """Return an argv that runs this interpreter with args."""
    return [sys.executable, *args]

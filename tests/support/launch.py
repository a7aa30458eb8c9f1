"""run_all.py driven as a user would: started as a subprocess, its output read line by line."""
import contextlib
import os
import re
import subprocess
import sys
import threading

import psutil
import pytest

from shared import config

ROOT = config.PROJECT_ROOT
READY = re.compile(r"run_all \| ready: open (http://\S+) in a browser")
PREFIXED = re.compile(r"^\d\d:\d\d:\d\d (\S+)\s* \| ")
STARTED = re.compile(r"run_all \| (\w+) started \(pid \d+\)")
ALL_GONE_SECONDS = 10


class Launch:
    """run_all.py running as a subprocess, its output (stdout and stderr) kept line by line."""

    def __init__(self, args, env):
        self.process = subprocess.Popen([sys.executable, "run_all.py", *map(str, args)], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.seen = []  # every process of its tree seen so far, to kill should the test fail
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def output(self):
        """Return everything printed so far."""
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern, timeout=60):
        """Wait for a line matching pattern and return its match; fail with the output otherwise."""
        def found():
            return next((m for m in map(re.compile(pattern).search, self.lines) if m), None)
        with self._changed:
            if not self._changed.wait_for(lambda: found() or self.process.poll() is not None, timeout):
                pytest.fail(f"no line matching {pattern!r} after {timeout}s:\n{self.output()[-4000:]}")
            match = found()
        assert match, f"run_all.py exited ({self.process.returncode}) before {pattern!r}:\n{self.output()}"
        return match

    def wait_ready(self):
        """Wait for the ready line and return the URL it names."""
        return self.wait_for(READY.pattern).group(1)

    def tree(self):
        """Return every process run_all.py started, and theirs, as psutil processes."""
        tree = psutil.Process(self.process.pid).children(recursive=True)
        self.seen += tree
        return tree

    def finish(self, timeout=20):
        """Wait for run_all.py to exit and return its exit code."""
        return self.process.wait(timeout)


@pytest.fixture
def launch(tmp_path):
    """Return a function that starts run_all.py; whatever it left running is killed afterwards."""
    launches = []

    def start(*args, redis_url=None, **env):
        environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        environ.update(BACKGROUND_TASK_SECONDS="1", LOG_LEVEL="INFO", XDG_CONFIG_HOME=str(tmp_path))
        environ.update({k: str(v) for k, v in env.items()})
        if redis_url:
            environ["REDIS_URL"] = redis_url
        else:  # a private Redis in a directory of the test's own, never a Redis found on 6379
            args += ("--private-redis", "--redis-dir", str(tmp_path / "redis"))
        run = Launch(args, environ)
        run.redis_dir = None if redis_url else str(tmp_path / "redis")
        launches.append(run)
        return run

    yield start
    for run in launches:
        if run.process.poll() is None:
            run.tree()
            run.process.kill()
        for process in run.seen:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()  # psutil checks it is still the same process, not a reused pid


def assert_all_gone(processes):
    """Assert that every one of processes exits within ALL_GONE_SECONDS."""
    _gone, alive = psutil.wait_procs(processes, timeout=ALL_GONE_SECONDS)
    alive = [p for p in alive if _running(p)]
    assert not alive, f"left running: {[(p.pid, ' '.join(p.cmdline())) for p in alive]}"


def _running(process):
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def children_named(tree, launcher_pid, word):
    """Return the direct children of run_all.py, still running, whose command line contains word."""
    found = []
    for process in tree:
        try:  # a short-lived child (the --open-browser command) may be gone already
            if process.ppid() == launcher_pid and word in " ".join(process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            pass
    return found

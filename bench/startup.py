"""Time from starting `run_all.py --no-desktop` to its ready line: python -m bench.startup [--runs N]

Each run starts the whole headless system (a private Redis, the worker, the server) on a free port
with a fresh Redis data directory, waits for the ready line, then stops it with SIGINT and waits
until it has exited, so runs never overlap. ``measure`` is what another benchmark suite calls.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from launcher.redis_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READY_MARK = "run_all | ready: open "


def time_to_ready(args=("--no-desktop",)):
    """Start run_all.py once; return (seconds to the ready line, seconds from SIGINT to exit)."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as redis_dir:
        argv = [sys.executable, "run_all.py", *args, "--port", str(free_port()),
                "--private-redis", "--redis-dir", redis_dir]
        started = time.monotonic()
        launcher = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
        try:
            ready = _wait_ready(launcher, started)
            stopping = time.monotonic()
            launcher.send_signal(signal.SIGINT)
            launcher.communicate(timeout=30)  # reads the rest, so the launcher never blocks on output
            return ready, time.monotonic() - stopping
        finally:
            if launcher.poll() is None:
                launcher.kill()  # its children are then orphaned: only on a failed run
                launcher.wait()


def _wait_ready(launcher, started):
    # No timeout of our own: run_all.py gives up, and exits, when a stage is not ready in time.
    tail = []
    for line in launcher.stdout:
        if READY_MARK in line:
            return time.monotonic() - started
        tail = (tail + [line])[-20:]
    raise RuntimeError(f"run_all.py was not ready (exit code {launcher.poll()}); its last lines:\n"
                       + "".join(tail))


def measure(runs=5, args=("--no-desktop",), log=print):
    """Return the start-to-ready seconds of each of runs runs of run_all.py."""
    results = []
    for number in range(1, runs + 1):
        ready, stop = time_to_ready(args)
        results.append(ready)
        log(f"run {number}: ready after {ready:.2f} s (stopped {stop:.2f} s after SIGINT)")
    return results


def main(argv=None):
    """Print each run's start-to-ready time and their median."""
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="how many runs (default 5)")
    options = parser.parse_args(argv)
    results = measure(options.runs)
    print(f"start to ready, run_all.py --no-desktop: median {statistics.median(results):.2f} s "
          f"over {len(results)} runs ({', '.join(f'{r:.2f}' for r in results)})")


if __name__ == "__main__":
    main()

"""Figure 5: time from starting `run_all.py --no-desktop` to its ready line (median of the runs).

Also on its own: python -m bench.startup [--runs N]. Each run starts the whole headless system (a private Redis, the worker, the server) on a free port
with a fresh Redis data directory, waits for the ready line, then stops it with SIGINT and waits
until it has exited, so runs never overlap.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bench.figures import Row, at_most
from bench.stats import median
from launcher.redis_server import free_port
from shared.config import PROJECT_ROOT as ROOT

READY_MARK = "run_all | ready: open "
TARGET_SECONDS = 2.0


def run(lab, plan, log=print):
    """Measure figure 5; return (rows, data)."""
    seconds = measure(plan.startup_runs, log=lambda line: log(f"  startup {line}"))
    value = median(seconds)
    return [Row("5. run_all.py --no-desktop start → ready", "s", value, None, None, None, "",
                f"≤ {TARGET_SECONDS:g} s", at_most(value, TARGET_SECONDS),
                note=f"median of {len(seconds)} runs: " + ", ".join(f"{s:.2f}" for s in seconds))], \
        {"seconds": seconds}


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

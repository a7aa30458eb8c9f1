"""Measure how long a client that missed N task events takes to catch up on reconnect.

Usage: python -m bench.catchup [--events 1000] [--runs 5]
"""
import argparse
import statistics
import sys
import tempfile
import time
import uuid

from launcher.redis_server import RedisServer
from server.progress import TaskProgress
from shared.protocol import TaskState
from tests.support.stack import start_server
from tests.support.clients import RecordingClient


def measure_once(server_url, store, events):
    """Drop a client, record `events` events, reconnect it; return seconds until it holds them all."""
    client = RecordingClient(server_url)
    try:
        task_id = uuid.uuid4().hex
        store.record(task_id, TaskState.QUEUED, 0, "queued")
        client.wait_for(lambda _: client.progress(task_id), what="the first event")
        client.drop()
        for i in range(events):
            store.record(task_id, TaskState.RUNNING, i * 100 // events, f"step {i}")
        started = time.perf_counter()
        client.reconnect()
        client.wait_for(lambda _: len(client.progress(task_id)) == events + 1, timeout=60,
                        what=f"{events} missed events")
        elapsed = time.perf_counter() - started
        seqs = [e["seq"] for e in client.progress(task_id)]
        assert seqs == list(range(1, events + 2)), "gap or duplicate in the replay"
        return elapsed
    finally:
        client.close()


def main(argv=None):
    """Print the median catch-up time in each async mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args(argv)
    results = {}
    with RedisServer() as redis_server, tempfile.TemporaryDirectory() as log_dir:
        store = TaskProgress(redis_server.url, retention_seconds=3600, stream_length=100_000)
        for mode in ("eventlet", "threading"):
            server = start_server(redis_server.url, log_dir, mode)
            try:
                runs = [measure_once(server.url, store, options.events) for _ in range(options.runs)]
            finally:
                server.stop()
            results[mode] = runs
            print(f"catch-up of {options.events} missed events, {mode}: median "
                  f"{statistics.median(runs) * 1000:.1f} ms  (runs: "
                  f"{', '.join(f'{r * 1000:.1f}' for r in runs)} ms)", flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main() and 0)

"""Open-loop event senders, one per system, each run as its own process like a Celery worker.

python -m bench.load.senders {ours,ours-pipelined,baseline,floor} --redis-url URL [--tasks K]

Prints `ready` once connected. For each `go T N R` line on stdin (T in CLOCK_MONOTONIC seconds, shared
by every process) it sends N events, event i at T + i / R whatever happened to earlier ones, so a slow
system cannot slow the load down, then prints `result {...}`. Each event's message is "i T_i":
receivers measure latency from that intended send time.
"""
import argparse
import json
import sys
import time
import uuid

from shared import protocol
from shared.protocol import TaskState

FLOOR_CHANNEL = "bench:floor"
STREAM_LENGTH = 100_000
RETENTION_SECONDS = 3600
MAX_PIPELINE = 100


def payload(task_id, index, intended):
    """Return a `task progress`-shaped payload whose message carries index and intended send time."""
    return {"task_id": task_id, "state": str(TaskState.RUNNING), "percent": index % 100,
            "message": f"{index} {intended:.6f}", "seq": index + 1, "ts": time.time()}


def our_sender(redis_url):
    """Return send(task_id, index, intended): record through TaskProgress, as our worker does."""
    from server.progress import TaskProgress

    store = TaskProgress(redis_url, RETENTION_SECONDS, STREAM_LENGTH)
    store.ping()
    return lambda task_id, index, intended: store.record(
        task_id, TaskState.RUNNING, index % 100, f"{index} {intended:.6f}")


def baseline_sender(redis_url):
    """Return send(...): emit through a write-only SocketIO(message_queue=...), as the article does."""
    from flask_socketio import SocketIO

    emitter = SocketIO(message_queue=redis_url)
    return lambda task_id, index, intended: emitter.emit(
        protocol.TASK_PROGRESS, payload(task_id, index, intended), namespace=protocol.NAMESPACE)


def floor_sender(redis_url):
    """Return send(...): a bare Redis PUBLISH of the same payload."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.ping()
    return lambda task_id, index, intended: client.publish(
        FLOOR_CHANNEL, json.dumps(payload(task_id, index, intended)))


def our_pipelined_sender(redis_url):
    """Return send(...) for floods: TaskProgress's own record script, queued on a pipeline.

    One process calling record() tops out near 6,000 events/s here (a round trip each); the same
    script sent in pipelines of the events due together keeps 10,000/s within one core's share.
    Call flush() when an event's batch is complete.
    """
    from server.progress import TaskProgress

    store = TaskProgress(redis_url, RETENTION_SECONDS, STREAM_LENGTH)
    store.ping()
    pipe = store.pipeline()

    def send(task_id, index, intended):
        store.record_on(pipe, task_id, TaskState.RUNNING, index % 100, f"{index} {intended:.6f}")
        if len(pipe) >= MAX_PIPELINE:  # behind schedule: never hold events back for long
            pipe.execute()
    send.flush = pipe.execute
    return send


SENDERS = {"ours": our_sender, "ours-pipelined": our_pipelined_sender, "baseline": baseline_sender,
           "floor": floor_sender}


def send_on_schedule(send, start, rate, count, tasks):
    """Send count events at rate from start; return how far behind schedule the sender fell."""
    task_ids = [uuid.uuid4().hex for _ in range(tasks)]
    flush = getattr(send, "flush", None)
    worst_behind = 0.0
    for index in range(count):
        intended = start + index / rate
        wait = intended - time.monotonic()
        if wait > 0:
            if flush:
                flush()  # everything due before now goes out before waiting
                wait = intended - time.monotonic()
            time.sleep(max(0.0, wait))
        else:
            worst_behind = max(worst_behind, -wait)
        send(task_ids[index % tasks], index, intended)
    if flush:
        flush()
    return worst_behind


def main(argv=None):
    """Connect, say ready, then send one scheduled run per `go` line."""
    parser = argparse.ArgumentParser(prog="python -m bench.load.senders")
    parser.add_argument("kind", choices=sorted(SENDERS))
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--tasks", type=int, default=1, help="spread the events over this many tasks")
    options = parser.parse_args(argv)
    send = SENDERS[options.kind](options.redis_url)
    print("ready", flush=True)
    for line in sys.stdin:
        start, count, rate = parse_go(line)
        cpu_before, wall_before = time.process_time(), time.monotonic()
        behind = send_on_schedule(send, start, rate, count, options.tasks)
        wall = time.monotonic() - wall_before
        print("result " + json.dumps({"sent": count, "behind_ms": behind * 1000,
                                      "cpu_fraction": (time.process_time() - cpu_before) / wall}),
              flush=True)


def parse_go(line):
    """Return (start, count, rate) from a `go T N R` line."""
    _go, start, count, rate = line.split()
    return float(start), int(count), float(rate)


if __name__ == "__main__":
    main()

"""The worker's side of an emit, timed in one process as a Celery worker would make the calls.

python -m bench.load.emit_cost --redis-url URL --calls N --tasks T
Prints `result {...}`: microseconds per call (wall and CPU) for a bare redis.publish, our
TaskProgress.record, and the baseline's SocketIO(message_queue=...).emit; and the per-task setup:
the first emit of a new task (including getting the emitter) less a steady-state emit.
"""
import argparse
import json
import os
import statistics
import time
import uuid

from bench.load.senders import FLOOR_CHANNEL, payload
from shared import protocol
from shared.protocol import TaskState

BATCHES = 5


def per_call(call, calls):
    """Return (wall µs, CPU µs) per call: the median over BATCHES batches of calls."""
    walls, cpus = [], []
    for _ in range(BATCHES):
        wall, cpu = time.perf_counter(), time.process_time()
        for index in range(calls // BATCHES):
            call(index)
        walls.append((time.perf_counter() - wall) / (calls // BATCHES) * 1e6)
        cpus.append((time.process_time() - cpu) / (calls // BATCHES) * 1e6)
    return statistics.median(walls), statistics.median(cpus)


def timed_once(call):
    """Return the wall µs of one call."""
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1e6


def emits(redis_url, calls):
    """Return the per-emit costs of the floor, ours and the baseline."""
    import redis
    from flask_socketio import SocketIO

    from server.progress import TaskProgress

    client = redis.Redis.from_url(redis_url)
    store = TaskProgress(redis_url, 3600, 100_000)
    emitter = SocketIO(message_queue=redis_url)
    task_id = uuid.uuid4().hex
    text = json.dumps(payload(task_id, 0, 0.0))
    calls_by_name = {
        "publish": lambda i: client.publish(FLOOR_CHANNEL, text),
        "ours": lambda i: store.record(task_id, TaskState.RUNNING, i % 100, f"step {i}"),
        "baseline": lambda i: emitter.emit(protocol.TASK_PROGRESS, payload(task_id, i, 0.0),
                                           namespace=protocol.NAMESPACE),
    }
    for call in calls_by_name.values():
        per_call(call, BATCHES * 20)  # warm up: connect, load the script, fill caches
    return {name: per_call(call, calls) for name, call in calls_by_name.items()}


def our_task_setup(redis_url, tasks, steady_us):
    """Return µs a task start costs our worker beyond a steady emit: get the store, first record."""
    os.environ["REDIS_URL"] = redis_url
    from server import progress
    from server.app import create_app

    app = create_app()
    samples = []
    for _ in range(tasks):
        task_id = uuid.uuid4().hex
        with app.app_context():  # as Celery's FlaskTask runs every task
            samples.append(timed_once(lambda: progress.get().record(task_id, TaskState.RUNNING, 0, "start")))
    return statistics.median(samples[1:] or samples) - steady_us  # the first also connects the process


def baseline_task_setup(redis_url, tasks, steady_us):
    """Return µs a task start costs the baseline beyond a steady emit: a new SocketIO, its first emit."""
    from flask_socketio import SocketIO

    def start_task():
        local_socketio = SocketIO(message_queue=redis_url)
        local_socketio.emit(protocol.MY_RESPONSE, {"data": protocol.BACKGROUND_STARTING},
                            namespace=protocol.NAMESPACE)

    return statistics.median(timed_once(start_task) for _ in range(tasks)) - steady_us


def main(argv=None):
    """Time everything and print the result."""
    parser = argparse.ArgumentParser(prog="python -m bench.load.emit_cost")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=50)
    options = parser.parse_args(argv)
    costs = emits(options.redis_url, options.calls)
    result = {f"{name}_emit_us": wall for name, (wall, _cpu) in costs.items()}
    result.update({f"{name}_emit_cpu_us": cpu for name, (_wall, cpu) in costs.items()})
    result["ours_task_setup_us"] = our_task_setup(options.redis_url, options.tasks, costs["ours"][0])
    result["baseline_task_setup_us"] = baseline_task_setup(options.redis_url, options.tasks,
                                                           costs["baseline"][0])
    print("result " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

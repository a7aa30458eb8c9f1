"""Figure 8: what a task and an event cost in Redis, and Redis's memory after a simulated day at 10 tasks/s.

Everything runs on a private Redis with the default settings (shared/config.py), recording through
TaskProgress's own scripts, as the server (create) and the worker (begin, reports, the final one) do;
no worker runs, so the tasks cost no time. A task is the demo task: `queued`, `running`, a report every
STEP_SECONDS and `succeeded` with its result.

Bytes per task: used_memory's growth over plan.redis_sample_tasks tasks of one length on an empty Redis,
split by footprint()'s families; bytes per event: the difference between the two lengths, per event.

The day: 10 tasks/s for 24 h is 864,000 tasks; recorded as fast as Redis takes them, in the order a real
day interleaves them (each half-second tick starts 5 tasks and advances every task in flight by one
report), with the sweeper's forget once per simulated second. Time is compressed, not the sizes: every
structure Redis keeps is capped by count (tasks, stream, each history), and the age limit (24 h) never
binds first, so once every cap has been passed a few times over, the rest of the day repeats the same
steady state. plan.redis_day_tasks (3 x TASK_RETENTION_COUNT in the full plan) is enough to show the
plateau; used_memory is sampled along the way.
"""
import dataclasses
import math
import time
import uuid

from bench.figures import Row
from launcher.redis_server import RedisServer
from server import progress
from server.tasks import STEP_SECONDS
from shared import config, protocol
from shared.protocol import TaskState

TARGET_MB = 256
TASKS_PER_SECOND = 10
DAY_SECONDS = 24 * 3600
SHORT_TASK_SECONDS = 1
MB = 1024 * 1024
SAMPLES = 60  # used_memory samples along the simulated day


def default_store(redis_url):
    """Return a TaskProgress configured with the defaults, on redis_url."""
    settings = dataclasses.replace(config.load({}), redis_url=redis_url)
    return progress.from_settings(settings), settings


class DemoTask:
    """One demo task of a given length, recorded the way the server and its worker record it."""

    def __init__(self, store, seconds):
        self.store = store
        self.seconds = seconds
        self.steps = max(1, math.ceil(seconds / STEP_SECONDS))
        self.task_id = uuid.uuid4().hex
        self.step = 0

    @property
    def events(self):
        """Return how many events the task records in all."""
        return self.steps + 2

    def start(self):
        """Record its creation (the server) and its start (the worker): one round trip each."""
        self.store.create(self.task_id, protocol.ORIGINAL_TASK_KIND, {"seconds": float(self.seconds)},
                          "queued: waiting for a worker")
        self.store.begin(self.task_id, f"running: 0 of {self.steps} steps")

    def advance(self, pipe):
        """Queue its next report on pipe; return True once it has sent its final one."""
        self.step += 1
        if self.step < self.steps:
            self.store.record_on(pipe, self.task_id, TaskState.RUNNING, 100 * self.step // self.steps,
                                 f"running: {self.step} of {self.steps} steps")
            return False
        self.store.record_on(pipe, self.task_id, TaskState.SUCCEEDED, 100, "succeeded",
                             result={"seconds": float(self.seconds), "steps": self.steps})
        return True


def used_memory(store):
    """Return Redis's used_memory, in bytes."""
    return store.client().info("memory")["used_memory"]


def cost_per_task(store, seconds, count):
    """Record count tasks of `seconds` on an empty Redis; return what one costs, in all and per family."""
    store.client().flushall()
    before = used_memory(store)
    tasks = [DemoTask(store, seconds) for _ in range(count)]
    for task in tasks:
        task.start()
    with store.pipeline() as pipe:
        while tasks:
            tasks = [task for task in tasks if not task.advance(pipe)]
            pipe.execute()
    families = store.footprint()
    return {"seconds": seconds, "events": DemoTask(store, seconds).events,
            "bytes": (used_memory(store) - before) / count,
            "families": {name: family["bytes"] / count for name, family in families.items()}}


def simulate_day(store, settings, tasks_total, log):
    """Record tasks_total demo tasks of the default length as a day at 10 tasks/s interleaves them; return
    the samples of used_memory and the footprint at the end."""
    store.client().flushall()
    per_tick = round(TASKS_PER_SECOND * STEP_SECONDS)
    ticks_per_second = round(1 / STEP_SECONDS)
    sample_every = max(1, tasks_total // SAMPLES)
    started, running, samples, tick = 0, [], [], 0
    wall = time.monotonic()
    with store.pipeline() as pipe:
        while started < tasks_total or running:
            for _ in range(min(per_tick, tasks_total - started)):
                task = DemoTask(store, settings.background_task_seconds)
                task.start()
                running.append(task)
                started += 1
                if started % sample_every == 0:
                    samples.append({"tasks": started, "simulated_seconds": tick * STEP_SECONDS,
                                    "used_memory": used_memory(store)})
            running = [task for task in running if not task.advance(pipe)]
            pipe.execute()
            tick += 1
            if tick % ticks_per_second == 0:
                store.forget_oldest()  # as each server and worker's sweeper does, once a second
    store.forget_oldest()
    seconds = time.monotonic() - wall
    log(f"  redis memory: {tasks_total:,} tasks ({tick * STEP_SECONDS / 3600:.1f} h at {TASKS_PER_SECOND}/s) "
        f"recorded in {seconds:.0f} s: used_memory {used_memory(store) / MB:.1f} MB")
    return {"tasks": started, "samples": samples, "footprint": store.footprint(), "used_memory": used_memory(store),
            "peak": max([sample["used_memory"] for sample in samples] + [used_memory(store)]),
            "wall_seconds": seconds, "simulated_seconds": tick * STEP_SECONDS}


def run(lab, plan, log=print):
    """Measure figure 8; return (rows, data)."""
    with RedisServer() as redis:
        store, settings = default_store(redis.url)
        short = cost_per_task(store, SHORT_TASK_SECONDS, plan.redis_sample_tasks)
        default = cost_per_task(store, settings.background_task_seconds, plan.redis_sample_tasks)
        for cost in (short, default):
            log(f"  redis memory: a {cost['seconds']:g}-s task ({cost['events']} events) costs "
                f"{cost['bytes']:,.0f} bytes")
        day = simulate_day(store, settings, plan.redis_day_tasks, log)
    return rows(short, default, day, settings), {"short_task": short, "default_task": default, "day": day}


def rows(short, default, day, settings):
    """Return figure 8's rows."""
    per_event = (default["bytes"] - short["bytes"]) / (default["events"] - short["events"])
    stream = day["footprint"].get("event stream", {"bytes": 0, "longest": 0})
    stream_per_event = stream["bytes"] / max(1, stream["longest"])
    ended = day["used_memory"] / MB
    day_tasks = TASKS_PER_SECOND * DAY_SECONDS
    return [
        Row("8. Redis memory per progress event", "B", per_event, target="reported",
            note=f"one more report of a running task: its stream entry (~{stream_per_event:.0f} B) and its place "
                 f"in the task's history (kept up to {progress.HISTORY_LENGTH} events a task)"),
        Row(f"8. Redis memory per {short['seconds']:g}-s task", "B", short["bytes"], target="reported",
            note=_split(short)),
        Row(f"8. Redis memory per default ({default['seconds']:g}-s) task", "B", default["bytes"],
            target="reported", note=_split(default)),
        Row("8. Redis used_memory after a simulated day at 10 tasks/s", "MB", ended,
            target=f"< {TARGET_MB} MB", met=ended < TARGET_MB,
            note=f"{day['simulated_seconds'] / 3600:.1f} h of the day's {day_tasks:,} tasks "
                 f"({default['events']} events each) recorded in {day['wall_seconds']:.0f} s; then "
                 f"{_held(day['footprint'])}; peak {day['peak'] / MB:.1f} MB. {_caps(day, default, settings)}"),
    ]


def _caps(day, default, settings):
    """Return whether the day passed every cap (so that the rest of it repeats the same state), as words."""
    tasks = day["tasks"]
    caps = (f"TASK_RETENTION_COUNT {settings.task_retention_count:,} tasks and EVENT_STREAM_LENGTH "
            f"{settings.event_stream_length:,} events")
    if tasks > settings.task_retention_count and tasks * default["events"] > settings.event_stream_length:
        times = tasks / settings.task_retention_count
        return f"Past {caps}, {times:.1f} times over: the rest of the day repeats this state"
    return f"Not yet past {caps}: too few tasks in this plan for the day's figure"


def _split(cost):
    """Return a task's cost by family, as a note."""
    named = [(name, cost["families"].get(name, 0)) for name in
             ("task records", "task histories", "event stream", "recent tasks")]
    return f"{cost['events']} events: " + ", ".join(f"{name} {size:,.0f} B" for name, size in named)


def _held(footprint):
    """Return what Redis held at the end of the day, as words."""
    tasks = footprint.get("task records", {}).get("keys", 0)
    events = footprint.get("event stream", {}).get("longest", 0)
    return f"Redis held {tasks:,} tasks and {events:,} stream events"

"""What Redis keeps is bounded by count as well as by age: the oldest finished tasks are forgotten, a task's
history keeps at most HISTORY_LENGTH events, the stream EVENT_STREAM_LENGTH; nothing else grows with work."""
import uuid

import pytest
import requests

from launcher.readiness import wait_until
from server import progress
from server.progress import TaskProgress
from shared import protocol
from shared.protocol import TaskState
from tests.support.clients import RecordingClient
from tests.support.stack import Stack

KEEP = 10
STREAM_LENGTH = 1000  # the smallest EVENT_STREAM_LENGTH allowed
OTHERS_AT_MOST = 10  # keys not of our store (Celery's broker bindings, queue, pidbox): a few, whatever the load


def test_the_oldest_finished_tasks_beyond_the_retained_count_are_forgotten(log_dir):
    stack = Stack(log_dir, "retention", TASK_RETENTION_COUNT=KEEP)
    try:
        stack.start_worker()
        stack.start_server("eventlet")
        client = stack.client()
        task_ids = [stack.start_task(0) for _ in range(KEEP + 5)]
        for task_id in task_ids:
            assert client.wait_task_final(task_id)[-1]["state"] == "succeeded"

        def status(task_id):
            return requests.get(f"{stack.url}/tasks/{task_id}", timeout=5).status_code
        # Forgotten by the next sweep (each server and worker sweeps every second).
        wait_until(lambda: status(task_ids[4]) == 404, timeout=20, what="the oldest to be forgotten")
        assert [status(task_id) for task_id in task_ids] == [404] * 5 + [200] * KEEP
        listed = requests.get(f"{stack.url}/tasks", timeout=5).json()["tasks"]
        assert [task["task_id"] for task in listed] == task_ids[::-1][:KEEP]
        history = requests.get(f"{stack.url}/tasks/{task_ids[0]}/events", timeout=5)
        assert history.status_code == 404
    finally:
        stack.close()


def run_long_task(store, reports, requeue_after=None):
    """Record a task of `reports` progress reports through the store's scripts, as server and worker do
    (requeued by a stopping worker after `requeue_after` of them, then run again); return its id."""
    task_id = uuid.uuid4().hex
    store.create(task_id, protocol.ORIGINAL_TASK_KIND, {"seconds": reports / 2}, "queued")
    store.begin(task_id, "running")
    with store.pipeline() as pipe:
        for step in range(1, reports + 1):
            if step == requeue_after:
                pipe.execute()
                store.request_requeue(task_id)
                assert store.record(task_id, TaskState.RUNNING, step, "requeued here") is TaskState.QUEUED
                assert store.begin(task_id, "running again") is TaskState.RUNNING
            store.record_on(pipe, task_id, TaskState.RUNNING, 100 * step // (reports + 1), f"step {step}")
        store.record_on(pipe, task_id, TaskState.SUCCEEDED, 100, "succeeded", result={"steps": reports})
        pipe.execute()
    return task_id


def stream_events(store, task_id):
    """Return every event of task_id still in the stream, in order."""
    return [event for event in store.events_between("0-0", store.tail()) if event["task_id"] == task_id]


@pytest.mark.parametrize("reports", [0, progress.HISTORY_LENGTH - 3])
def test_a_task_of_up_to_history_length_events_keeps_every_one(redis_server, reports):
    store = TaskProgress(redis_server.url)
    task_id = run_long_task(store, reports)  # queued, running, the reports, succeeded
    assert store.history(task_id) == stream_events(store, task_id)
    assert len(store.history(task_id)) == reports + 3


@pytest.mark.parametrize("reports, requeue_after", [
    (progress.HISTORY_LENGTH - 2, None), (200, None), (200, 60), (200, 150), (200, 199)])
def test_a_longer_task_keeps_every_state_change_and_its_latest_progress_within_its_history_length(
        redis_server, reports, requeue_after):
    store = TaskProgress(redis_server.url)
    task_id = run_long_task(store, reports, requeue_after)
    history, every = store.history(task_id), stream_events(store, task_id)
    assert len(history) <= progress.HISTORY_LENGTH
    assert [event for event in every if event in history] == history  # the events themselves, in order
    stretches = [(event["state"], event["attempt"]) for event in every]
    for index, stretch in enumerate(stretches):  # the first and the last of each state and attempt
        if index == 0 or stretch != stretches[index - 1]:
            assert every[index] in history, every[index]
        if index == len(every) - 1 or stretch != stretches[index + 1]:
            assert every[index] in history, every[index]
    assert history[-1] == every[-1] and history[-1]["state"] == TaskState.SUCCEEDED
    assert history[-2]["message"] == f"step {reports}"  # its latest progress


def test_what_redis_keeps_stays_bounded_by_count_well_past_every_cap(log_dir):
    stack = Stack(log_dir, "bounded", TASK_RETENTION_COUNT=KEEP, EVENT_STREAM_LENGTH=STREAM_LENGTH,
                  TASK_START_BURST=1000)
    try:
        stack.start_worker()
        stack.start_server("eventlet")
        client = stack.client()
        # Tasks run by the real worker: 6 times the retained count...
        task_ids = [stack.start_task(0) for _ in range(6 * KEEP)]
        for task_id in task_ids:
            assert client.wait_task_final(task_id)[-1]["state"] == "succeeded"
        # ...and long tasks recorded as a worker records them: 3 times the stream's length in events.
        store = TaskProgress(stack.redis.url, stream_length=STREAM_LENGTH, retention_count=KEEP)
        long_ids = [run_long_task(store, 100, requeue_after=40 if n % 2 else None) for n in range(30)]
        client.wait_task_final(long_ids[-1])

        # Forgotten by the next sweeps (each server and worker sweeps every second).
        wait_until(lambda: store.footprint()["task records"]["keys"] <= KEEP, timeout=20,
                   what="the oldest tasks to be forgotten")
        kept = store.footprint()
        assert kept["task records"]["keys"] <= KEEP and kept["task histories"]["keys"] <= KEEP
        assert kept["recent tasks"]["longest"] <= KEEP
        assert kept["task histories"]["longest"] <= progress.HISTORY_LENGTH
        assert kept["event stream"]["longest"] <= STREAM_LENGTH + progress.TRIM_SLACK
        assert kept.get("leases", {"longest": 0})["longest"] == 0  # no task is running
        others = {name: family for name, family in kept.items() if name not in progress.FAMILIES.values()}
        assert sum(family["keys"] for family in others.values()) <= OTHERS_AT_MOST, others  # no key per task
        assert not any("<id>" in name for name in others), others  # e.g. Celery's results: not kept

        # What the protocol promises a reconnecting client still holds: every event after its cursor,
        # while that cursor is in the stream; the newest tasks, listed, with their history.
        cursor = store.history(long_ids[-3])[0]["cursor"]
        missed = store.events_between(cursor, store.tail())
        resumed = RecordingClient(stack.url, cursor=cursor)
        stack.clients.append(resumed)
        resumed.wait_for(lambda _: len(resumed.of(protocol.TASK_PROGRESS)) >= len(missed), what="the replay")
        assert resumed.of(protocol.TASK_PROGRESS) == missed and not resumed.of(protocol.TASK_LIST)
        listed = requests.get(f"{stack.url}/tasks", timeout=5).json()["tasks"]
        assert [task["task_id"] for task in listed] == long_ids[::-1][:KEEP]
        history = requests.get(f"{stack.url}/tasks/{long_ids[-1]}/events", timeout=5).json()["events"]
        assert history == store.history(long_ids[-1]) and history[-1]["state"] == TaskState.SUCCEEDED
    finally:
        stack.close()

"""A task's state stays true whatever dies: each fault injected into real processes.

Every test asserts what a user would notice: the task reaches the documented final state within a
bound, every connected client is told, each client's events for the task run seq 1, 2, 3 … with
no gap or repeat, and the system goes on serving new tasks.
"""
import threading
import uuid

import psutil
import pytest
import requests

from shared import protocol
from tests.support.stack import Stack

LEASE = Stack.LEASE_SECONDS
LOST_WITHIN = LEASE + 15  # the lease, a sweep, and slack for a loaded machine
# Celery takes a few seconds to notice a dead pool process and deliver its task again; a lease
# shorter than that would (truthfully) end the task "worker lost" before its re-run could start.
RERUN_LEASE = 10


@pytest.fixture
def stack(log_dir, request):
    stacks = []

    def make(**env):
        made = Stack(log_dir, f"{request.node.name[:40]}-{len(stacks)}", **env)
        stacks.append(made)
        return made
    yield make
    for made in stacks:
        made.close()


def running(make_stack, async_mode, **env):
    """Return (a stack with a worker and a server in async_mode, its worker, two connected clients)."""
    stack = make_stack(**env)
    worker = stack.start_worker()
    stack.start_server(async_mode)
    return stack, worker, [stack.client(), stack.client()]


def told(clients, task_id, state, message, timeout=LOST_WITHIN):
    """Assert every client saw task_id end in state with message; return one client's events."""
    for client in clients:
        events = client.wait_task_final(task_id, timeout=timeout)
        assert_consistent(events)
        assert events[-1]["state"] == state, events[-3:]
        assert message in events[-1]["message"], events[-1]
    return events


def assert_consistent(events):
    """Assert seq runs 1, 2, 3 … , one final event, and percent never goes back within an attempt."""
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), [e["seq"] for e in events]
    assert [protocol.TaskState(e["state"]).is_final for e in events].count(True) == 1
    for earlier, later in zip(events, events[1:]):
        if later["attempt"] == earlier["attempt"] and later["state"] == "running":
            assert later["percent"] >= earlier["percent"], (earlier, later)


def running_past(client, task_id, percent, timeout=30):
    client.wait_for(lambda _: any(e["state"] == "running" and e["percent"] >= percent
                                  for e in client.progress(task_id)), timeout, f"{task_id} at {percent}%")


def still_serves(stack, client):
    """Assert a new task runs to the end."""
    task_id = stack.start_task(0.5)
    assert client.wait_task_final(task_id)[-1]["state"] == "succeeded"


def test_a_task_whose_whole_worker_is_killed_ends_failed_and_a_late_redelivery_stops_by_itself(stack):
    stack = stack()
    worker = stack.start_worker("first")
    stack.start_server("eventlet")
    clients = [stack.client(), stack.client()]
    task_id = stack.start_task(30)
    running_past(clients[0], task_id, 5)
    worker.kill()  # SIGKILL to the worker's whole process group, as an OOM kill or a reboot would
    stack.start_worker("second")
    told(clients, task_id, "failed", f"worker lost: no report for {LEASE:g} s")
    history = requests.get(f"{stack.url}/tasks/{task_id}/events", timeout=5).json()["events"]
    record = requests.get(f"{stack.url}/tasks/{task_id}", timeout=5).json()
    assert record["error"] == {"type": "WorkerLost", "message": f"worker lost: no report for {LEASE:g} s"}

    # Celery delivers the lost message again once its visibility timeout passes: it stops at once.
    stack.celery.send_task("taskprogress.background_task", args=[task_id, 1], task_id=task_id)
    still_serves(stack, clients[0])
    assert requests.get(f"{stack.url}/tasks/{task_id}/events", timeout=5).json()["events"] == history


def test_a_killed_pool_process_reruns_its_task_visibly_as_attempt_two(stack):
    stack, worker, clients = running(stack, "threading", WORKER_CONCURRENCY=1, TASK_LEASE_SECONDS=RERUN_LEASE)
    task_id = stack.start_task(3)
    running_past(clients[0], task_id, 30)
    [pool_process] = psutil.Process(worker.process.pid).children()
    pool_process.kill()
    events = told(clients, task_id, "succeeded", "succeeded")
    restart = next(e for e in events if e["attempt"] == 2)
    assert restart["state"] == "running" and restart["percent"] == 0
    assert restart["message"] == "restarted after its worker died (attempt 2 of 3)"
    assert max(e["percent"] for e in events if e["attempt"] == 1) >= 30
    still_serves(stack, clients[0])


def test_a_sigterm_to_the_whole_worker_group_is_still_a_warm_shutdown(stack):
    # honcho, and many supervisors, stop a process by signalling its whole process group.
    stack, worker, clients = running(stack, "eventlet")
    task_id = stack.start_task(3)
    running_past(clients[0], task_id, 10)
    worker.stop()  # SIGTERM to the worker's process group
    clients[0].wait_for(lambda _: any(e["state"] == "queued" and e["seq"] > 1 for e in clients[0].progress(task_id)),
                        what="the task back in the queue")
    assert "Traceback" not in worker.log_text() and "WorkerLostError" not in worker.log_text()
    stack.start_worker("second")
    events = told(clients, task_id, "succeeded", "succeeded")
    assert any(e["message"] == "restarted after its worker stopped (attempt 2 of 3)" for e in events)


def test_a_task_that_kills_its_process_every_time_fails_after_three_attempts(stack):
    stack, worker, clients = running(stack, "eventlet", WORKER_CONCURRENCY=1, TASK_LEASE_SECONDS=RERUN_LEASE)
    task_id = uuid.uuid4().hex
    stack.celery.send_task("tests.dying_task", args=[task_id], task_id=task_id)
    events = told(clients, task_id, "failed", "its worker died during attempt 3 of 3; not run again",
                  timeout=60)
    assert sorted({e["attempt"] for e in events}) == [1, 2, 3]
    assert requests.get(f"{stack.url}/tasks/{task_id}", timeout=5).json()["error"]["type"] == "WorkerLost"
    still_serves(stack, clients[0])


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_a_redis_outage_mid_task_is_ridden_out(stack, tmp_path, async_mode):
    stack, worker, clients = running(stack, async_mode, data_dir=str(tmp_path / "redis"))
    task_id = stack.start_task(6)
    running_past(clients[0], task_id, 10)
    stack.restart_redis(down_seconds=3)
    told(clients, task_id, "succeeded", "succeeded", timeout=60)
    assert worker.alive(), worker.log_text()[-3000:]
    still_serves(stack, clients[0])
    assert "Unrecoverable error" not in worker.log_text()


def test_celery_revoke_with_terminate_ends_the_task_cancelled(stack):
    stack, worker, clients = running(stack, "eventlet")
    task_id = stack.start_task(30)
    running_past(clients[0], task_id, 5)
    stack.celery.control.revoke(task_id, terminate=True)
    told(clients, task_id, "cancelled", "revoked through Celery (terminated)")
    reply = requests.post(f"{stack.url}/tasks/{task_id}/cancel", timeout=5)
    assert reply.status_code == 409  # our Cancel now says it is over, rather than doing nothing
    still_serves(stack, clients[0])


def test_celery_revoke_without_terminate_stops_the_task_at_its_next_report(stack):
    stack, worker, clients = running(stack, "threading")
    task_id = stack.start_task(30)
    running_past(clients[0], task_id, 5)
    stack.celery.control.revoke(task_id)
    told(clients, task_id, "cancelled", "revoked through Celery")
    still_serves(stack, clients[0])


def test_a_cancel_through_our_api_shows_as_revoked_in_celery(stack):
    stack = stack()
    stack.start_worker()
    stack.start_server("eventlet")
    client = stack.client()
    seen = celery_events(stack)
    task_id = stack.start_task(30)
    running_past(client, task_id, 5)
    assert requests.post(f"{stack.url}/tasks/{task_id}/cancel", timeout=5).status_code == 202
    told([client], task_id, "cancelled", "cancelled")
    seen.wait_for(task_id, "task-revoked")
    assert "task-succeeded" not in seen.types(task_id)


def test_a_soft_time_limit_ends_the_task_failed_with_the_reason(stack):
    stack, worker, clients = running(stack, "eventlet")
    task_id = uuid.uuid4().hex
    stack.celery.send_task("tests.oversleeping_task", args=[task_id, 30], task_id=task_id,
                           soft_time_limit=1, time_limit=20)
    told(clients, task_id, "failed", "time limit exceeded (1 s)")
    record = requests.get(f"{stack.url}/tasks/{task_id}", timeout=5).json()
    assert record["error"] == {"type": "TimeLimitExceeded", "message": "time limit exceeded (1 s)"}
    still_serves(stack, clients[0])


def test_a_hard_time_limit_ends_the_task_failed_through_its_lease(stack):
    stack, worker, clients = running(stack, "eventlet")
    task_id = uuid.uuid4().hex
    stack.celery.send_task("tests.oversleeping_task", args=[task_id, 30], task_id=task_id, time_limit=1)
    told(clients, task_id, "failed", f"worker lost: no report for {LEASE:g} s")
    still_serves(stack, clients[0])


def test_tasks_get_a_time_limit_from_their_length(stack):
    from server.tasks import time_limits
    soft, hard = time_limits(10, factor=2)
    assert soft == 50 and hard == 80
    assert time_limits(protocol.MAX_TASK_SECONDS, factor=2)[0] > protocol.MAX_TASK_SECONDS


def test_a_burst_of_2000_starts_waits_for_redis_connections_instead_of_failing(stack):
    stack = stack(TASK_START_BURST=5000, TASK_START_RATE=5000, MAX_ACTIVE_TASKS_PER_CLIENT=5000,
                  MAX_QUEUED_TASKS=50000)
    stack.start_worker()
    stack.start_server("eventlet")
    client = stack.client()
    replies, done = [], threading.Event()
    lock = threading.Lock()

    def on_ack(reply=None):
        with lock:
            replies.append(reply)
            if len(replies) == 2000:
                done.set()
    for _ in range(2000):
        client.sio.emit(protocol.START_TASK, {"seconds": 0}, namespace=protocol.NAMESPACE, callback=on_ack)
    assert done.wait(120), f"{len(replies)} of 2000 starts answered"
    errors = [r for r in replies if not (isinstance(r, dict) and "task_id" in r)]
    assert errors == []
    still_serves(stack, client)


class celery_events:
    """Celery's own task events for one stack, as Flower receives them, recorded on a thread."""

    def __init__(self, stack):
        self._events = []
        self._changed = threading.Condition()
        self._app = stack.celery
        threading.Thread(target=self._capture, daemon=True).start()
        with self._changed:  # listening once the worker's heartbeats (every 2 s) come through
            assert self._changed.wait_for(lambda: self._events, 20), "no Celery event arrived"

    def _capture(self):
        try:
            with self._app.connection_for_read() as connection:
                self._app.events.Receiver(connection, handlers={"*": self._on_event}).capture(wakeup=False)
        except Exception:  # the stack's Redis stopped at the end of the test
            pass

    def _on_event(self, event):
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def types(self, task_id):
        with self._changed:
            return [e["type"] for e in self._events if e.get("uuid") == task_id]

    def wait_for(self, task_id, kind, timeout=20):
        with self._changed:
            assert self._changed.wait_for(lambda: kind in [e["type"] for e in self._events
                                                           if e.get("uuid") == task_id], timeout), \
                f"no {kind} for {task_id}: {self.types(task_id)}"

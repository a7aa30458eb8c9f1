"""What Redis keeps is bounded by count as well as by age: the oldest finished tasks are forgotten."""
import requests

from launcher.readiness import wait_until
from tests.support.stack import Stack

KEEP = 10


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

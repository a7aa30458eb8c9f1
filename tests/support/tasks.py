"""Tasks that exist only in the tests' worker, to exercise failures for real."""
import os
import signal
import time

from celery import shared_task

from server.tasks import tracked
from shared.protocol import TaskState

FAILURE_MESSAGE = "the disk is on fire"


@shared_task(name="tests.failing_task")
def failing_task(task_id):
    """Report some progress, then raise."""
    with tracked(task_id) as report:
        report(TaskState.RUNNING, 40, "about to fail")
        raise RuntimeError(FAILURE_MESSAGE)


@shared_task(name="tests.dying_task")
def dying_task(task_id):
    """Report some progress, then kill the process running it, every time it runs."""
    with tracked(task_id) as report:
        report(TaskState.RUNNING, 30, "about to die")
        os.kill(os.getpid(), signal.SIGKILL)


@shared_task(name="tests.oversleeping_task")
def oversleeping_task(task_id, seconds):
    """Keep reporting for `seconds`, whatever time limit Celery was given."""
    with tracked(task_id) as report:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.2)
            report(TaskState.RUNNING, 10, "still going")
        report(TaskState.SUCCEEDED, 100, "done")

"""Tasks that exist only in the tests' worker, to exercise failure handling for real."""
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

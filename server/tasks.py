"""Celery tasks, and starting them from the server."""
import contextlib
import logging
import math
import time
import uuid

from celery import shared_task

from shared import protocol
from shared.protocol import TaskState

from . import health, progress

log = logging.getLogger(__name__)

# How often a running task reports progress; the protocol promises at least once a second.
STEP_SECONDS = 0.5


def start_background_task(seconds):
    """Queue the background task for `seconds` of work and return its id."""
    task_id = uuid.uuid4().hex
    progress.get().publish(task_id, TaskState.QUEUED, 0, _queued_message())
    background_task.apply_async((task_id, seconds), task_id=task_id)
    log.info("queued task %s for %ss", task_id, seconds)
    return task_id


def _queued_message():
    if health.cached_worker_count() == 0:
        return "queued: no worker is running yet; start one with `celery -A server.worker worker`"
    return "queued: waiting for a worker"


@shared_task(name="taskprogress.background_task")
def background_task(task_id, seconds):
    """Do the original app's background work, reporting progress at least once a second."""
    with tracked(task_id) as report:
        progress.get().say(protocol.BACKGROUND_STARTING)
        steps = max(1, math.ceil(seconds / STEP_SECONDS))
        report(TaskState.RUNNING, 0, f"running: 0 of {steps} steps")
        for step in range(1, steps + 1):
            time.sleep(seconds / steps)
            if step < steps:
                report(TaskState.RUNNING, 100 * step // steps, f"running: {step} of {steps} steps")
        progress.get().say(protocol.BACKGROUND_COMPLETE)
        report(TaskState.SUCCEEDED, 100, "succeeded")


@contextlib.contextmanager
def tracked(task_id):
    """Yield a progress reporter for task_id; an exception ends the task as failed, readably."""
    last_percent = 0

    def report(state, percent, message):
        nonlocal last_percent
        last_percent = percent
        progress.get().publish(task_id, state, percent, message)

    try:
        yield report
    except Exception as exc:
        progress.get().publish(task_id, TaskState.FAILED, last_percent,
                               f"failed: {type(exc).__name__}: {exc}")
        raise

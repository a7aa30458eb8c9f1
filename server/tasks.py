"""Celery tasks, and starting and cancelling them from the server."""
import contextlib
import logging
import math
import time
import uuid

from celery import shared_task

from shared import protocol
from shared.protocol import ErrorCode, ProtocolError, TaskState

from . import health, progress

log = logging.getLogger(__name__)

# How often a running task reports progress (and so notices a cancel); the protocol promises
# at least one report a second.
STEP_SECONDS = 0.5


def start_background_task(seconds):
    """Queue the background task for `seconds` of work and return its id."""
    task_id = uuid.uuid4().hex
    progress.get().record(task_id, TaskState.QUEUED, 0, _queued_message())
    background_task.apply_async((task_id, seconds), task_id=task_id)
    log.info("queued task %s for %ss", task_id, seconds)
    return task_id


def cancel_task(task_id):
    """Stop a task: a queued one never starts, a running one stops at its next step."""
    store = progress.get()
    state = store.request_cancel(task_id)
    if state is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no task {task_id!r}")
    if state.is_final:
        raise ProtocolError(ErrorCode.CONFLICT, f"task {task_id} has already {state}")
    if state == TaskState.QUEUED:
        store.record(task_id, TaskState.CANCELLED, 0, "cancelled before it started")
    log.info("cancel requested for %s task %s", state, task_id)


def _queued_message():
    if health.cached_worker_count() == 0:
        return "queued: no worker is running yet; start one with `celery -A server.worker worker`"
    return "queued: waiting for a worker"


@shared_task(name="taskprogress.background_task")
def background_task(task_id, seconds):
    """Do the original app's background work, reporting progress at least once a second."""
    steps = max(1, math.ceil(seconds / STEP_SECONDS))
    with tracked(task_id) as report:
        report(TaskState.RUNNING, 0, f"running: 0 of {steps} steps")
        progress.get().say(protocol.BACKGROUND_STARTING)
        for step in range(1, steps + 1):
            time.sleep(seconds / steps)
            if step < steps:
                report(TaskState.RUNNING, 100 * step // steps, f"running: {step} of {steps} steps")
        progress.get().say(protocol.BACKGROUND_COMPLETE)
        report(TaskState.SUCCEEDED, 100, "succeeded")


class TaskStopped(Exception):
    """The task was cancelled, or already finished: stop working on it."""


@contextlib.contextmanager
def tracked(task_id):
    """Yield a progress reporter for task_id that stops the task once it is cancelled.

    An exception ends the task as failed, with a readable message.
    """
    last_percent = 0

    def report(state, percent, message):
        nonlocal last_percent
        if progress.get().record(task_id, state, percent, message) in (None, TaskState.CANCELLED):
            raise TaskStopped()
        last_percent = percent

    try:
        yield report
    except TaskStopped:
        log.info("task %s stopped: cancelled or already final", task_id)
    except Exception as exc:
        progress.get().record(task_id, TaskState.FAILED, last_percent,
                              f"failed: {type(exc).__name__}: {exc}")
        raise

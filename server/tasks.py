"""Celery tasks, and starting and cancelling them from the server.

``tracked()`` is what every task runs in: the original ``background_task`` here, and every kind
declared with ``task_api.task_kind`` (the built-in ones are in kinds.py). ``start_task`` starts a task
of any kind, the original one being protocol.ORIGINAL_TASK_KIND.
"""
import contextlib
import logging
import math
import os
import sys
import time
import uuid

import socketio
from celery import current_task, shared_task
from celery.exceptions import Ignore, SoftTimeLimitExceeded

from shared import config, protocol
from shared.protocol import ErrorCode, ProtocolError, TaskState

from . import progress, task_api

log = logging.getLogger(__name__)

# How often a running task reports progress (and so notices a cancel); the protocol promises
# at least one report a second.
STEP_SECONDS = 0.5
TIME_LIMIT_SLACK = 30.0  # seconds a task may overrun factor x its expected length...
HARD_LIMIT_GRACE = 30.0  # ...and after the soft limit, before its process is killed
RELAY_TURN_SECONDS = 0.0001  # see start_checked
MAX_ERROR_CHARS = 1000  # of an exception's message kept in a failed task's record


def check_request(kind_name, params):
    """Return (the kind called kind_name, params checked against its schema), or raise ProtocolError."""
    from flask import current_app
    kind = task_api.get(kind_name)
    return kind, task_api.validate(kind, params, current_app.config["SETTINGS"])


def start_task(kind_name, params):
    """Queue a task of the kind called kind_name with params (checked against its schema); return its id."""
    return start_checked(*check_request(kind_name, params))


def start_checked(kind, params):
    """Queue a task of kind with params that check_request() returned; return its id."""
    from flask import current_app
    settings = current_app.config["SETTINGS"]
    task_id = uuid.uuid4().hex
    # The health monitor's count (checked each second, and at once before its first use) costs the
    # start path no round trip to Redis.
    workers = current_app.extensions["health"].current()["workers"]
    message = "queued: waiting for a worker" if workers else no_worker_message()
    progress.get().create(task_id, kind.name, params, message)
    # The relay has the `queued` event now; under eventlet it runs only when this request waits,
    # and Celery's publish below takes a millisecond or more. Let it send the event first: the
    # click shows its task at once. Not sleep(0): eventlet would resume this request before it
    # polls the sockets, so the relay, waiting on its socket to Redis, would not run.
    current_app.extensions["socketio"].sleep(RELAY_TURN_SECONDS)
    expected = min(float(kind.expected_seconds(params)), protocol.MAX_TASK_SECONDS)
    soft, hard = time_limits(expected, settings.task_time_limit_factor)
    args, kwargs = kind.arguments(task_id, params)
    kind.celery_task.apply_async(args, kwargs, task_id=task_id, soft_time_limit=soft, time_limit=hard)
    log.info("queued %s task %s with %s", kind.name, task_id, params)
    return task_id


def time_limits(seconds, factor):
    """Return (soft, hard) time limits for a task expected to take `seconds`."""
    soft = seconds * factor + TIME_LIMIT_SLACK
    return soft, soft + HARD_LIMIT_GRACE


def worker_command():
    """Return a command that starts a worker for this server, working as printed from any folder."""
    return f"{sys.executable} -m celery --workdir {config.PROJECT_ROOT} -A server.worker worker"


def no_worker_message():
    """Return the `queued` text for when no worker runs, with a command that starts one."""
    return f"queued: no worker is running yet; start one with `{worker_command()}` (or use run_all.py)"


def cancel_task(task_id):
    """Stop a task: a queued one never starts, a running one stops at its next step."""
    state = progress.get().request_cancel(task_id)
    if state is None:
        raise protocol.unknown_task(task_id)
    if state.is_final:
        raise ProtocolError(ErrorCode.CONFLICT, f"task {task_id} has already {state}")
    log.info("cancel requested for %s task %s", state, task_id)


class FailedOnPurpose(RuntimeError):
    """The demo task's way to fail when asked to (its `fail` parameter), to show how failures look."""


@shared_task(name="taskprogress.background_task")
def background_task(task_id, seconds, fail=False):
    """Do the original app's background work, reporting progress at least once a second.

    With fail, raise FailedOnPurpose half-way instead of finishing.
    """
    steps = max(1, math.ceil(seconds / STEP_SECONDS))
    with tracked(task_id, f"running: 0 of {steps} steps") as report:
        say(protocol.BACKGROUND_STARTING)
        for step in range(1, steps + 1):
            time.sleep(seconds / steps)
            if fail and step >= steps / 2:
                raise FailedOnPurpose(f"failed half-way on purpose, as asked (step {step} of {steps})")
            if step < steps:
                report(TaskState.RUNNING, 100 * step // steps, f"running: {step} of {steps} steps")
        say(protocol.BACKGROUND_COMPLETE)
        report(TaskState.SUCCEEDED, 100, "succeeded", result={"seconds": seconds, "steps": steps})


_emitter = {"pid": None, "manager": None}


def say(text):
    """Broadcast a ``my response`` line to every client, as the original task did (live only)."""
    if _emitter["pid"] != os.getpid():  # one write-only emitter per process, made anew after a fork
        from flask import current_app
        _emitter.update(pid=os.getpid(), manager=socketio.RedisManager(
            current_app.config["SETTINGS"].redis_url, channel=config.SOCKETIO_CHANNEL, write_only=True))
    _emitter["manager"].emit(protocol.MY_RESPONSE, {"data": text}, namespace=protocol.NAMESPACE)


class TaskStopped(BaseException):
    """The task was cancelled, requeued or already finished: stop working on it.

    A BaseException, like KeyboardInterrupt: a task body's ``except Exception`` cannot swallow it.
    """

    def __init__(self, state):
        super().__init__(state)
        self.state = state


@contextlib.contextmanager
def tracked(task_id, first_message="running"):
    """Mark task_id running and yield a progress reporter that stops the task once it must stop.

    A task Celery runs again after its worker died runs as its next attempt (or not at all after
    the last one). A cancel ends it `cancelled` (and Celery is told it was revoked); its worker
    stopping puts it back in the queue; an exception ends it `failed`, with a readable message.
    Reports wait out a Redis outage of up to REDIS_OUTAGE_SECONDS. The reporter takes the task's
    result with its final `succeeded` report; a failure keeps the exception's type and message
    (protocol.RECORD_FIELDS' error), never its traceback.
    """
    from flask import current_app
    store = progress.get()
    patience = current_app.config["SETTINGS"].redis_outage_seconds
    last_percent = 0

    def report(state, percent, message, result=None):
        nonlocal last_percent
        stored = store.record(task_id, state, percent, message, retry_for=patience, result=result)
        if stored != state:
            raise TaskStopped(stored)
        if percent >= 0:
            last_percent = percent

    try:
        started = store.begin(task_id, first_message, retry_for=patience)
        if started is not TaskState.RUNNING:
            raise TaskStopped(started)
        yield report
    except TaskStopped as stop:
        _stopped(task_id, stop.state)
    except SoftTimeLimitExceeded:
        limit = getattr(current_task.request, "timelimit", (None, None))[1]
        reason = "time limit exceeded" + (f" ({limit:g} s)" if limit else "")
        store.record(task_id, TaskState.FAILED, last_percent, f"failed: {reason}", retry_for=patience,
                     error={"type": "TimeLimitExceeded", "message": reason})
        raise
    except Exception as exc:
        error = {"type": type(exc).__name__, "message": str(exc)[:MAX_ERROR_CHARS]}
        store.record(task_id, TaskState.FAILED, last_percent, f"failed: {error['type']}: {error['message']}",
                     retry_for=patience, error=error)
        raise


def _stopped(task_id, state):
    """Tell Celery how a task that stopped early ended, so Flower shows what clients see."""
    if state is None:  # already final when it reported: a late redelivery, or its lease ran out
        state = TaskState((progress.get().latest(task_id) or {}).get("state", TaskState.FAILED))
    log.info("task %s stopped: %s", task_id, state)
    if state is TaskState.QUEUED:
        # Its worker is stopping: the task goes back to the queue, as a fresh message (a Reject
        # would do too, but Celery logs a traceback for it; a retry is one line).
        raise current_task.retry(countdown=0, max_retries=None)
    if state is TaskState.CANCELLED:
        current_task.send_event("task-revoked", terminated=False, signum=None, expired=False)
    elif state is TaskState.FAILED:
        current_task.send_event("task-failed", exception="WorkerLostError('worker lost')", traceback="")
    else:
        current_task.send_event("task-succeeded", result="None", runtime=0)
    raise Ignore()

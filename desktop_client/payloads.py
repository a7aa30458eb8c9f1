"""Checks on what the server sends: each parser returns clean values or raises ValueError.

The server is trusted to follow shared/protocol.py, but a bug, a proxy or a newer server must
never crash the window, so every payload is checked here before a widget sees it.
"""
import math
from dataclasses import dataclass

from shared import protocol
from shared.protocol import TaskState

from .text import clip, short_id



MAX_SCHEMA_FIELDS = 50  # parameters of one kind shown in the start form


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task's record (protocol.RECORD_FIELDS), checked: what it is and how it went. None where not known."""

    kind: str | None = None
    params: dict | None = None  # name -> a JSON scalar
    created: float | None = None
    started: float | None = None  # when its current attempt began
    finished: float | None = None
    result: object = None  # any JSON value
    error: dict | None = None  # {type, message}

    def as_dict(self):
        """Return the record as timing.py and protocol.record_outdated read it."""
        return {"kind": self.kind, "params": self.params, "created": self.created, "started": self.started,
                "finished": self.finished, "result": self.result, "error": self.error}


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """One `task progress` event, checked; with the task's record when it came with one (a `task list`
    entry, a `task records` reply)."""

    task_id: str
    state: TaskState
    percent: int
    message: str
    seq: int
    ts: float
    cursor: str | None = None  # where the event sits in the server's stream, when it says
    attempt: int = 1  # which run of the task (2, 3 … after its worker died or stopped)
    record: TaskRecord | None = None

    @property
    def short_id(self):
        """Return the first 8 characters of the task id, as the page shows it."""
        return short_id(self.task_id)


@dataclass(frozen=True, slots=True)
class TaskKind:
    """A kind of task the server runs (GET /task-kinds), checked: its parameters as a JSON Schema whose
    properties are integers, numbers, booleans or strings."""

    name: str
    title: str
    description: str
    params: dict  # the JSON Schema: {"type": "object", "properties": {...}, "required": [...]}

    @property
    def properties(self):
        """Return the parameters' schemas by name, in their declared order."""
        return self.params.get("properties", {})


def parse_kinds(payload):
    """Return the TaskKinds of a GET /task-kinds reply (those that cannot be shown are left out)."""
    kinds = _object(payload, "task kinds").get("kinds")
    if not isinstance(kinds, list):
        raise ValueError("'kinds' must be a list")
    parsed = []
    for entry in kinds:
        try:
            parsed.append(_kind(entry))
        except ValueError:
            continue
    return parsed


def _kind(entry):
    fields = _object(entry, "task kind")
    name, params = fields.get("name"), fields.get("params")
    if not isinstance(name, str) or not name:
        raise ValueError("a kind needs a name")
    if not isinstance(params, dict) or not isinstance(params.get("properties", {}), dict):
        raise ValueError("a kind's params must be a schema of an object")
    properties = {}
    for field, spec in list(params.get("properties", {}).items())[:MAX_SCHEMA_FIELDS]:
        if not isinstance(spec, dict) or spec.get("type") not in ("integer", "number", "boolean", "string"):
            raise ValueError(f"parameter {field!r} has no type a form can show")
        properties[str(field)] = spec
    required = [name for name in params.get("required", []) if isinstance(name, str)]
    return TaskKind(name=clip(name, 64), title=clip(_text(fields.get("title") or name), 200),
                    description=clip(_text(fields.get("description") or ""), 1000),
                    params={"type": "object", "properties": properties, "required": required})


def parse_records_ack(payload):
    """Return (the TaskUpdates with records of a `task records` ack, how many were unusable).

    Raise ServerRefused if the server said no.
    """
    return _updates(_reply(payload, "task records reply").get("tasks"), "tasks")


def parse_progress(payload):
    """Return the TaskUpdate in a `task progress` payload."""
    fields = _object(payload, "task progress")
    task_id = fields.get("task_id")
    if not isinstance(task_id, str) or not task_id or len(task_id) > 200:
        raise ValueError("'task_id' must be a non-empty string")
    try:
        state = TaskState(fields.get("state"))
    except ValueError:
        raise ValueError(f"unknown task state {str(fields.get('state'))[:40]!r}") from None
    seq = fields.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise ValueError("'seq' must be a whole number")
    record = _record(fields) if any(name in fields for name in protocol.RECORD_FIELDS) else None
    return TaskUpdate(task_id=task_id, state=state, percent=_percent(fields.get("percent")),
                      message=clip(_text(fields.get("message", ""))), seq=seq,
                      ts=_number(fields.get("ts", 0.0), "ts"), cursor=_cursor(fields.get("cursor")),
                      attempt=_attempt(fields.get("attempt", 1)), record=record)


def _record(fields):
    """Return the TaskRecord in a latest state's fields."""
    kind, params, error = fields.get("kind"), fields.get("params"), fields.get("error")
    if kind is not None and not isinstance(kind, str):
        raise ValueError("'kind' must be a string or null")
    if params is not None and not (isinstance(params, dict) and all(
            isinstance(value, (str, int, float, bool)) or value is None for value in params.values())):
        raise ValueError("'params' must be an object of plain values")
    if error is not None:
        error = _object(error, "error")
        error = {"type": clip(_text(error.get("type", "")), 200), "message": clip(_text(error.get("message", "")))}
    return TaskRecord(kind=clip(kind, 64) if kind else None,
                      params={clip(str(k), 64): clip(v) if isinstance(v, str) else v for k, v in params.items()}
                      if params is not None else None,
                      created=_time(fields.get("created")), started=_time(fields.get("started")),
                      finished=_time(fields.get("finished")), result=fields.get("result"), error=error)


def _time(value):
    return None if value is None else _number(value, "time")


@dataclass(frozen=True, slots=True)
class Health:
    """A `system health`, checked: whether tasks can run, and what to tell the user if not."""

    redis: bool
    workers: int
    problem: str | None  # what the health means for tasks, in words; None when all is well


def parse_health(payload):
    """Return the Health in a `system health` payload."""
    fields = _object(payload, "system health")
    redis, workers, problem = fields.get("redis"), fields.get("workers"), fields.get("problem")
    if not isinstance(redis, bool):
        raise ValueError("'redis' must be true or false")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError("'workers' must be a whole number")
    if problem is not None and not isinstance(problem, str):
        raise ValueError("'problem' must be a string or null")
    return Health(redis, workers, clip(problem) if problem else None)


@dataclass(frozen=True, slots=True)
class TaskList:
    """A `task list`, checked: recent tasks' latest state and where the stream carries on."""

    updates: list  # TaskUpdate, oldest first
    unusable: int  # entries that were ignored as malformed
    cursor: str | None  # the cursor to resume from, when the server gave one
    reset: bool  # the server could not replay what was missed since the cursor sent


def parse_progress_batch(payload):
    """Return (updates in order, how many events were unusable) from a `task progress batch`."""
    return _updates(_object(payload, "task progress batch").get("events"), "events")


def parse_task_list(payload):
    """Return the TaskList in a `task list` payload."""
    fields = _object(payload, "task list")
    updates, unusable = _updates(fields.get("tasks"), "tasks")
    return TaskList(list(reversed(updates)), unusable,  # the server lists the newest first
                    _cursor(fields.get("cursor")), fields.get("reset") is True)


def parse_history_ack(payload, task_id):
    """Return (updates in order, how many were unusable) from a `task history` ack.

    Raise ServerRefused if the server said no.
    """
    fields = _reply(payload, "task history reply")
    if fields.get("task_id") != task_id:
        raise ValueError("the reply is about another task")
    return _updates(fields.get("events"), "events")


def parse_cancel_ack(payload):
    """Check a `cancel task` ack; raise ServerRefused if the server said no."""
    if _reply(payload, "cancel task reply").get("ok") is not True:
        raise ValueError("the reply says neither 'ok' nor 'error'")


def parse_response(payload):
    """Return the text of a `my response` payload."""
    data = _object(payload, "my response").get("data")
    if not isinstance(data, str):
        raise ValueError("'data' must be a string")
    return clip(data)


def parse_error(payload):
    """Return (code, message) of a `protocol error` payload, or of an ack's `error` field."""
    fields = _object(payload, "protocol error")
    return clip(_text(fields.get("code", "unknown")), 100), clip(_text(fields.get("message", "")))


def check_ack(payload=None, *_):
    """Check an ack that carries nothing but a possible refusal; raise ServerRefused if it is one."""
    if isinstance(payload, dict) and "error" in payload:
        raise ServerRefused(*parse_error(payload["error"]))


def parse_task_ack(payload):
    """Return the task id in a `start task` ack; raise ServerRefused if the server said no."""
    fields = _reply(payload, "start task reply")
    task_id = fields.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("the reply has no 'task_id'")
    return task_id


class ServerRefused(Exception):
    """The server answered a request with an error payload."""

    def __init__(self, code, message):
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


def _object(payload, what):
    if not isinstance(payload, dict):
        raise ValueError(f"'{what}' must carry an object, not {type(payload).__name__}")
    return payload


def _reply(payload, what):
    fields = _object(payload, what)
    if "error" in fields:
        raise ServerRefused(*parse_error(fields["error"]))
    return fields


def _updates(entries, name):
    """Return (the TaskUpdates among entries, in their order, how many were unusable)."""
    if not isinstance(entries, list):
        raise ValueError(f"'{name}' must be a list")
    updates, unusable = [], 0
    for entry in entries:
        try:
            updates.append(parse_progress(entry))
        except ValueError:
            unusable += 1
    return updates, unusable


def _cursor(value):
    if value is not None and not (isinstance(value, str) and protocol.CURSOR.match(value)):
        raise ValueError("'cursor' is not a cursor")
    return value


def _text(value):
    return value if isinstance(value, str) else str(value)


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"'{name}' must be a number")
    return float(value)


def _attempt(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("'attempt' must be a whole number from 1")
    return value


def _percent(value):
    # Clamped rather than refused: a slightly-off bar is better than a lost update.
    return int(min(100.0, max(0.0, _number(value, "percent"))))

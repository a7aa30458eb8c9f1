"""The socket.io and HTTP protocol, spelled once for the server, the page, the desktop client and tests.

Compatible with the original article's app: namespace ``/test``, ``my event`` answered by
``my response``, and ``GET /bg`` broadcasting two ``my response`` messages. Everything else is additive.

Nothing lost: every ``task progress`` event carries a ``cursor`` (its Redis Stream entry id). A client
connects with ``auth={"cursor": <last cursor it saw, or null>}``; the server then sends every event after
that cursor, in order, before the live ones. A client that also sends ``"batch": true`` gets the same
events as ``task progress batch`` ``{events: [...]}`` instead, several per message when they come fast
(one message per batch per client instead of one per event). Without a cursor (first start) or with one older than the
retained history, it sends a ``task list`` (recent tasks' latest state, and the cursor to carry on from).
A list can be a little ahead of its cursor, so clients drop any event whose ``seq`` is not greater than
the one they hold for that task.

A refused request gets its error twice: in its ack (``{"error": {code, message}}``) and as a
``protocol error`` event, for clients that send without waiting for acks.

Limits: one client may start ``TASK_START_BURST`` tasks at once and ``TASK_START_RATE`` a second after
that, and have at most ``MAX_ACTIVE_TASKS_PER_CLIENT`` queued or running (a client is one socket
connection, or one remote address over HTTP); the server as a whole takes at most ``MAX_QUEUED_TASKS``.
A start over a limit is refused with ``rate_limited`` (HTTP 429 with ``Retry-After``); its message
says when to try again. JSON nested deeper than ``MAX_JSON_DEPTH`` is refused as ``invalid_json``.

Task kinds: the server lists the kinds of task it can run at ``GET /task-kinds`` (each with its parameters as
a JSON Schema). ``start task`` and ``POST /tasks`` take ``{"kind": name, "params": {...}}``; ``{"seconds": N}``
(or nothing) still means the original kind (ORIGINAL_TASK_KIND). Parameters are checked against the kind's
schema on the server; a refusal is ``invalid_payload`` and names the field (``error.field``).

Task records: progress events stay small (PROGRESS_FIELDS). A task's record (RECORD_FIELDS: its kind,
parameters, times, result or error) comes with its latest state: in a ``task list``, from ``GET /tasks``
and ``GET /tasks/<id>``, and in the ack of ``task records`` ``{task_ids: [...]}``, which clients send
when an event shows them a task whose record they lack or whose record has moved on (``record_outdated``).

Authentication: when the server requires a token (see README's Security section), a socket.io client
sends it as ``auth={"token": ...}`` (``AUTH_TOKEN_FIELD``), an HTTP client as
``Authorization: Bearer ...``; a refused connection gets ``unauthorized``.
"""
import json
import math
import re
from enum import StrEnum

NAMESPACE = "/test"

# Client -> server events.
MY_EVENT = "my event"
START_TASK = "start task"
CANCEL_TASK = "cancel task"
TASK_HISTORY = "task history"
TASK_RECORDS = "task records"
# Server -> client events.
MY_RESPONSE = "my response"
TASK_PROGRESS = "task progress"
TASK_PROGRESS_BATCH = "task progress batch"
TASK_LIST = "task list"
SYSTEM_HEALTH = "system health"
PROTOCOL_ERROR = "protocol error"

# HTTP routes (Flask rule syntax).
ROUTE_INDEX = "/"
ROUTE_BACKGROUND = "/bg"
ROUTE_TASKS = "/tasks"
ROUTE_TASK = "/tasks/<task_id>"
ROUTE_TASK_EVENTS = "/tasks/<task_id>/events"
ROUTE_TASK_CANCEL = "/tasks/<task_id>/cancel"
ROUTE_TASK_KINDS = "/task-kinds"
ROUTE_FAVICON = "/favicon.ico"
ROUTE_HEALTH = "/healthz"
ROUTE_SOCKETIO_CLIENT = "/vendor/socket.io.min.js"

# The fields of every `task progress` event (and of each entry of a `task list`). `attempt` counts
# the task's runs: 1, then 2, 3 … when Celery runs it again after its worker died or stopped
# (the first event of a re-run says so); `percent` never goes back within one attempt.
PROGRESS_FIELDS = ("task_id", "state", "percent", "message", "seq", "attempt", "ts", "cursor")
# What a task's latest state (a `task list` entry, GET /tasks, GET /tasks/<id>, a `task records` entry)
# carries besides PROGRESS_FIELDS; never sent with each progress event. null where not known (yet):
#   kind      the task kind's name (GET /task-kinds), null for a task recorded without one
#   params    its parameters, as validated, defaults filled in (an object; null without a kind)
#   created   when it was queued (Unix time, seconds)
#   started   when its current attempt began running (null while queued)
#   finished  when it reached its final state (null until then)
#   result    what the task returned, any JSON value (null unless it succeeded)
#   error     why it failed: {type, message}, the exception's type name ("WorkerLost",
#             "TimeLimitExceeded" when the system ended it) and its message (null unless it failed)
RECORD_FIELDS = ("kind", "params", "created", "started", "finished", "result", "error")
# The fields of a kind in GET /task-kinds: `params` is a JSON Schema of an object whose properties are
# integers, numbers, booleans or strings (each with its title, default and limits), so clients build
# a form from it.
KIND_FIELDS = ("name", "title", "description", "params")
# The fields of `system health`, sent to each client on connecting and whenever they change:
# whether Redis answers, how many workers are alive (0: tasks wait in the queue), and what that
# means for tasks, in words, for clients to show (null when all is well).
HEALTH_FIELDS = ("redis", "workers", "problem")

BACKGROUND_STARTED_REPLY = "Started"
BACKGROUND_STARTING = "background task starting ..."
BACKGROUND_COMPLETE = "background task complete!"
CONNECTED_GREETING = "I'm connected!"

MAX_MESSAGE_BYTES = 64 * 1024
MAX_REQUEST_BYTES = 1024 * 1024  # an HTTP body, a socket.io polling POST or websocket message
MAX_JSON_DEPTH = 32  # the protocol's payloads nest 4 deep; anything far deeper is an attack
AUTH_TOKEN_FIELD = "token"  # in a connecting client's auth, and the page's ?token= query
MAX_TASK_SECONDS = 3600
RECENT_TASKS_LIMIT = 50
MAX_RECORDS_PER_REQUEST = 50  # task ids in one `task records`
MAX_PARAMS_BYTES = 4096  # a task's parameters, as JSON
ORIGINAL_TASK_KIND = "demo"  # the kind GET /bg, {"seconds": N} and an empty start request mean
TASK_ID = re.compile(r"^[0-9a-f]{32}$")
CURSOR = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")


class TaskState(StrEnum):
    """Where a task is in its life; the last three are final."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self):
        """Tell whether no further progress can follow this state."""
        return self in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)


class ErrorCode(StrEnum):
    """Machine-readable reasons carried by every error, on the socket and over HTTP."""

    INVALID_PAYLOAD = "invalid_payload"
    INVALID_JSON = "invalid_json"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_TYPE = "invalid_type"
    TOO_LARGE = "too_large"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_EVENT = "unknown_event"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REDIS_UNAVAILABLE = "redis_unavailable"
    SERVER_BUSY = "server_busy"
    INTERNAL_ERROR = "internal_error"
    RATE_LIMITED = "rate_limited"  # HTTP 429, with Retry-After
    UNAUTHORIZED = "unauthorized"  # HTTP 401: no valid token
    FORBIDDEN = "forbidden"  # HTTP 403: a cross-site request, or a Host this server does not serve
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # HTTP 415: a body that is not application/json


class ProtocolError(ValueError):
    """A message from a client that the protocol does not allow."""

    def __init__(self, code, message, field=None):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.field = field  # the request field at fault ("kind", "params.below"), when one is

    def as_payload(self):
        """Return the ``{code, message}`` body sent back to the client (and ``field`` when one is at fault)."""
        payload = {"code": str(self.code), "message": self.message}
        if self.field:
            payload["field"] = self.field
        return payload


def unknown_task(task_id):
    """Return the error for a task id that names no task (never one, or one past its retention)."""
    return ProtocolError(ErrorCode.NOT_FOUND,
                         f"no task {str(task_id)[:64]!r} (unknown, or older than the retention period)")


def echo_text(data):
    """Return the original app's answer to ``my event``."""
    return f'Backend saw "{data}" from the frontend'


def parse_message(payload):
    """Return the text of a ``my event`` payload, or raise ProtocolError naming the problem."""
    data = _required_field(payload, MY_EVENT, "data", '"text"')
    if not isinstance(data, str):
        raise ProtocolError(ErrorCode.INVALID_TYPE,
                            f"'data' must be a string, not {_type_name(data)}")
    size = len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(ErrorCode.TOO_LARGE,
                            f"'data' is {size} bytes; the limit is {MAX_MESSAGE_BYTES} bytes")
    return data


def parse_json(text):
    """Return the value of JSON text (str or bytes), or raise ProtocolError (a ValueError) naming the problem.

    Nesting deeper than MAX_JSON_DEPTH is refused before parsing, so no input can exhaust the stack.
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(ErrorCode.INVALID_JSON, "the JSON is not valid UTF-8") from None
    if _nesting(text) > MAX_JSON_DEPTH:
        raise ProtocolError(ErrorCode.INVALID_JSON,
                            f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(ErrorCode.INVALID_JSON, "the JSON is not valid") from None


_JSON_BRACKET_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _nesting(text):
    """Return how deep the arrays and objects of JSON text nest (brackets inside strings aside)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0  # the common case, at C speed: too few brackets to be too deep
    depth = deepest = 0
    for match in _JSON_BRACKET_OR_STRING.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def parse_task_request(payload, default_seconds):
    """Return how many seconds a requested task should run, or raise ProtocolError."""
    if payload is None:
        return default_seconds
    if not isinstance(payload, dict):
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD,
                            f"a task request is an object like {{\"seconds\": 10}}, "
                            f"not {_type_name(payload)}")
    unknown = sorted(set(payload) - {"seconds"})
    if unknown:
        raise ProtocolError(ErrorCode.UNKNOWN_FIELD,
                            f"unknown field {unknown[0]!r}; a task request takes 'seconds', "
                            f"or 'kind' and 'params'", field=unknown[0])
    seconds = payload.get("seconds")
    if seconds is None:
        return default_seconds
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ProtocolError(ErrorCode.INVALID_TYPE,
                            f"'seconds' must be a number, not {_type_name(seconds)}")
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_TASK_SECONDS:
        raise ProtocolError(ErrorCode.OUT_OF_RANGE,
                            f"'seconds' must be between 0 and {MAX_TASK_SECONDS}, not {seconds}")
    return float(seconds)


def parse_start_request(payload, default_seconds):
    """Return (kind name, params) of a ``start task`` or ``POST /tasks`` payload, or raise ProtocolError.

    ``{"kind": name, "params": {...}}`` names a kind (its params are checked by the server, against the
    kind's schema); anything else is the original request, ``{"seconds"?: N}``, for ORIGINAL_TASK_KIND.
    """
    if not isinstance(payload, dict) or "kind" not in payload:
        return ORIGINAL_TASK_KIND, {"seconds": parse_task_request(payload, default_seconds)}
    unknown = sorted(set(payload) - {"kind", "params"})
    if unknown:
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD,
                            f"unknown field {unknown[0]!r}; a request for a kind takes only 'kind' and 'params'",
                            field=unknown[0])
    kind, params = payload["kind"], payload.get("params")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD, f"'kind' must be a kind's name, not {_type_name(kind)}",
                            field="kind")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD,
                            f"'params' must be an object like {{\"name\": value}}, not {_type_name(params)}",
                            field="params")
    return kind, params


def parse_records_request(payload):
    """Return the task ids of a ``task records`` payload (1 to MAX_RECORDS_PER_REQUEST), or raise ProtocolError."""
    task_ids = _required_field(payload, TASK_RECORDS, "task_ids", '["..."]')
    if not isinstance(task_ids, list):
        raise ProtocolError(ErrorCode.INVALID_TYPE, f"'task_ids' must be a list, not {_type_name(task_ids)}",
                            field="task_ids")
    if not 1 <= len(task_ids) <= MAX_RECORDS_PER_REQUEST:
        raise ProtocolError(ErrorCode.OUT_OF_RANGE,
                            f"'task_ids' must list 1 to {MAX_RECORDS_PER_REQUEST} ids, not {len(task_ids)}",
                            field="task_ids")
    return list(dict.fromkeys(parse_task_id(task_id) for task_id in task_ids))


def record_outdated(record, event):
    """Tell whether a client holding record (a task's latest state with RECORD_FIELDS, or None) should ask
    for the task's record again, now that it sees event (a ``task progress`` event of the same task).

    A record moves on when a task is queued (kind, params, created), starts an attempt (started) and
    ends (finished, result, error); clients ask again at those points only. The page has the same rule.
    """
    if record is None:
        return True
    held, seen = TaskState(record["state"]), TaskState(event["state"])
    if seen.is_final:
        return not held.is_final
    if seen is TaskState.RUNNING:
        return record.get("started") is None or record.get("attempt", 1) != event.get("attempt", 1)
    return False


def parse_task_ref(payload, event):
    """Return the task id named by a ``{task_id}`` payload, or raise ProtocolError."""
    return parse_task_id(_required_field(payload, event, "task_id", '"..."'))


def parse_task_id(task_id):
    """Return task_id if it has the form of a task id, or raise ProtocolError."""
    if not isinstance(task_id, str):
        raise ProtocolError(ErrorCode.INVALID_TYPE,
                            f"'task_id' must be a string, not {_type_name(task_id)}")
    if not TASK_ID.match(task_id):
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no task {task_id[:64]!r}: task ids are 32 hex digits")
    return task_id


def parse_connect_auth(auth):
    """Return (cursor or None, wants batches) from a connecting client's auth, or raise ProtocolError."""
    if auth is None:
        return None, False
    if not isinstance(auth, dict):
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD,
                            f"connection auth must be an object like {{\"cursor\": null}}, "
                            f"not {_type_name(auth)}")
    batch = auth.get("batch", False)
    if not isinstance(batch, bool):
        raise ProtocolError(ErrorCode.INVALID_TYPE, f"'batch' must be true or false, not {_type_name(batch)}")
    cursor = auth.get("cursor")
    if cursor is not None and (not isinstance(cursor, str) or not CURSOR.match(cursor)):
        raise ProtocolError(ErrorCode.INVALID_TYPE,
                            f"'cursor' must be a cursor received from the server, like '1712-0', "
                            f"not {str(cursor)[:40]!r}")
    return cursor, batch


def for_page():
    """Return the names the browser page needs, so its script spells none of them."""
    return {
        "namespace": NAMESPACE,
        "events": {"myEvent": MY_EVENT, "myResponse": MY_RESPONSE, "startTask": START_TASK,
                   "cancelTask": CANCEL_TASK, "taskHistory": TASK_HISTORY, "taskRecords": TASK_RECORDS,
                   "taskList": TASK_LIST,
                   "taskProgress": TASK_PROGRESS, "taskProgressBatch": TASK_PROGRESS_BATCH,
                   "systemHealth": SYSTEM_HEALTH, "protocolError": PROTOCOL_ERROR},
        "finalStates": [str(s) for s in TaskState if s.is_final],
        "states": [str(s) for s in TaskState],
        "taskKindsUrl": ROUTE_TASK_KINDS,
        "maxRecordsPerRequest": MAX_RECORDS_PER_REQUEST,
        "connectedGreeting": CONNECTED_GREETING,
        "tokenParameter": AUTH_TOKEN_FIELD,
    }


def _required_field(payload, event, field, example):
    """Return payload[field], raising ProtocolError if payload is no object or lacks it."""
    if not isinstance(payload, dict):
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD,
                            f"'{event}' takes an object like {{\"{field}\": {example}}}, "
                            f"not {_type_name(payload)}")
    if field not in payload:
        raise ProtocolError(ErrorCode.MISSING_FIELD, f"'{event}' needs a '{field}' field")
    return payload[field]


def _type_name(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "a number", float: "a number"}.get(type(value), type(value).__name__)

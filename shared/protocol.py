"""The socket.io and HTTP protocol, spelled once for the server, the page, the desktop client and tests.

Compatible with the original article's app: namespace ``/test``, ``my event`` answered by
``my response``, and ``GET /bg`` broadcasting two ``my response`` messages. Everything else is additive.
"""
import math
from enum import StrEnum

NAMESPACE = "/test"

# Client -> server events.
MY_EVENT = "my event"
START_TASK = "start task"
# Server -> client events.
MY_RESPONSE = "my response"
TASK_PROGRESS = "task progress"
PROTOCOL_ERROR = "protocol error"

# HTTP routes (Flask rule syntax).
ROUTE_INDEX = "/"
ROUTE_BACKGROUND = "/bg"
ROUTE_TASKS = "/tasks"
ROUTE_TASK = "/tasks/<task_id>"
ROUTE_HEALTH = "/healthz"
ROUTE_SOCKETIO_CLIENT = "/vendor/socket.io.min.js"

BACKGROUND_STARTED_REPLY = "Started"
BACKGROUND_STARTING = "background task starting ..."
BACKGROUND_COMPLETE = "background task complete!"
CONNECTED_GREETING = "I'm connected!"

MAX_MESSAGE_BYTES = 64 * 1024
MAX_TASK_SECONDS = 3600


class TaskState(StrEnum):
    """Where a task is in its life; the last three are final."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_final(self):
        """Tell whether no further progress can follow this state."""
        return self in (TaskState.SUCCEEDED, TaskState.FAILED)


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
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REDIS_UNAVAILABLE = "redis_unavailable"
    INTERNAL_ERROR = "internal_error"


class ProtocolError(ValueError):
    """A message from a client that the protocol does not allow."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message

    def as_payload(self):
        """Return the ``{code, message}`` body sent back to the client."""
        return {"code": str(self.code), "message": self.message}


def echo_text(data):
    """Return the original app's answer to ``my event``."""
    return f'Backend saw "{data}" from the frontend'


def parse_message(payload):
    """Return the text of a ``my event`` payload, or raise ProtocolError naming the problem."""
    if not isinstance(payload, dict):
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD,
                            f"'{MY_EVENT}' takes an object like {{\"data\": \"text\"}}, "
                            f"not {_type_name(payload)}")
    if "data" not in payload:
        raise ProtocolError(ErrorCode.MISSING_FIELD, f"'{MY_EVENT}' needs a 'data' field")
    data = payload["data"]
    if not isinstance(data, str):
        raise ProtocolError(ErrorCode.INVALID_TYPE,
                            f"'data' must be a string, not {_type_name(data)}")
    size = len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(ErrorCode.TOO_LARGE,
                            f"'data' is {size} bytes; the limit is {MAX_MESSAGE_BYTES} bytes")
    return data


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
                            f"unknown field {unknown[0]!r}; a task request takes only 'seconds'")
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


def progress_event(task_id, state, percent, message, seq, ts):
    """Build a ``task progress`` payload."""
    return {"task_id": task_id, "state": str(TaskState(state)), "percent": percent,
            "message": message, "seq": seq, "ts": ts}


def for_page():
    """Return the names the browser page needs, so its script spells none of them."""
    return {
        "namespace": NAMESPACE,
        "events": {"myEvent": MY_EVENT, "myResponse": MY_RESPONSE, "startTask": START_TASK,
                   "taskProgress": TASK_PROGRESS, "protocolError": PROTOCOL_ERROR},
        "finalStates": [str(s) for s in TaskState if s.is_final],
        "connectedGreeting": CONNECTED_GREETING,
        "maxMessageBytes": MAX_MESSAGE_BYTES,
    }


def _type_name(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "a number", float: "a number"}.get(type(value), type(value).__name__)

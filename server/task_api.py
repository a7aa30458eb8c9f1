"""Task kinds: declare a kind of task once, and it runs with progress, cancel, a result and a record.

A kind is a function decorated with ``task_kind``: its name, title, description and parameters (a JSON
Schema), and how long it is expected to take (for its time limits). The decorator makes a Celery task of
it and registers it here, the one registry of kinds the server lists (``GET /task-kinds``), checks
requests against (``validate``) and starts from (tasks.start_task). Its body gets a ``TaskReporter``
and its parameters as keyword arguments; what it returns (any JSON value) is the task's result::

    @task_kind("countdown", title="Count down", params={"type": "object", "properties": {
        "start": {"type": "integer", "minimum": 1, "maximum": 60, "default": 5}}})
    def countdown(task, start):
        for left in range(start, 0, -1):
            task.report(100 * (start - left) // start, f"{left} to go")
            time.sleep(1)
        return {"counted": start}

The body runs inside ``tasks.tracked()``, so everything the system promises of a task holds for every
kind: a cancel stops it at its next report (``report`` raises ``TaskStopped``; let it propagate), its
lease ends it ``failed`` if its worker dies, it runs again (visibly, bounded) after a crash, it goes back
to the queue when its worker stops, a time limit ends it ``failed: time limit exceeded``, and an exception
ends it ``failed: <Type>: <message>``; clients see the type and message, never a traceback.

Modules declaring kinds are named in TASK_MODULES (shared/config.py); ``load`` imports them, in the
server and in the worker alike (server/app.py), so both know the same kinds.
"""
import importlib
import json
import math
import time
from dataclasses import dataclass

from celery import shared_task
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from shared import protocol
from shared.protocol import ErrorCode, ProtocolError, TaskState

from . import progress, tasks

DEFAULT_EXPECTED_SECONDS = 300.0  # a kind that does not say how long it takes gets limits for this long
REPORT_INTERVAL = 0.2  # reports closer together than this are not recorded (a body may report in a tight loop)
MAX_RESULT_BYTES = 16 * 1024  # a result is kept in the task's record: bigger ones fail the task
MAX_MESSAGE_CHARS = 500
FORM_TYPES = ("integer", "number", "boolean", "string")  # what clients can build a form field for
CELERY_NAME = "taskprogress.kind.{name}"

_registry = {}  # name -> TaskKind, in the order they were declared


@dataclass(frozen=True)
class TaskKind:
    """A kind of task: what clients are told about it, and how to start it."""

    name: str
    title: str
    description: str
    schema: dict  # JSON Schema of its params (an object); defaults may come from the settings, see params_for
    celery_task: object
    expected_seconds: object  # params -> seconds the task is expected to take (its time limits follow)
    arguments: object  # (task_id, params) -> (args, kwargs) of its Celery task
    settings_defaults: object = None  # settings -> {param: default}, for defaults that are configured

    def params_schema(self, settings):
        """Return the schema of its params, with the defaults the settings give filled in."""
        if self.settings_defaults is None:
            return self.schema
        properties = {name: dict(spec) for name, spec in self.schema["properties"].items()}
        for name, default in self.settings_defaults(settings).items():
            properties[name]["default"] = default
        return dict(self.schema, properties=properties)

    def describe(self, settings):
        """Return the kind as GET /task-kinds lists it (protocol.KIND_FIELDS)."""
        return {"name": self.name, "title": self.title, "description": self.description,
                "params": self.params_schema(settings)}


class TaskReporter:
    """What a task body gets: report progress, check for a cancel, know its id."""

    def __init__(self, task_id, report, clock=time.monotonic):
        self.task_id = task_id
        self._report = report  # tracked()'s reporter
        self._clock = clock
        self._last = float("-inf")
        self._percent = 0

    def report(self, percent, message=""):
        """Record progress (0-100) with a message; stop the task here if it was cancelled.

        Reports closer together than REPORT_INTERVAL are skipped, so a body may report as often as
        it likes; one at least every TASK_LEASE_SECONDS keeps the task alive (else it ends "worker lost").
        """
        self._percent = min(100, max(0, int(percent)))
        now = self._clock()
        if now - self._last < REPORT_INTERVAL:
            return
        self._last = now
        self._report(TaskState.RUNNING, self._percent, str(message)[:MAX_MESSAGE_CHARS])

    def check(self):
        """Stop the task now if it was cancelled (or its worker is stopping); otherwise return at once."""
        if progress.get().stop_requested(self.task_id):
            self._report(TaskState.RUNNING, progress.KEEP_PERCENT, "stopping")  # stored as what stops it

    def finish(self, result):
        """End the task `succeeded` with result (any JSON value), or fail it if result cannot be kept."""
        encoded = json.dumps(result, allow_nan=False, default=_not_json)
        if len(encoded) > MAX_RESULT_BYTES:
            raise ValueError(f"the result is {len(encoded)} bytes of JSON; a task may return at most "
                             f"{MAX_RESULT_BYTES}")
        self._report(TaskState.SUCCEEDED, 100, "succeeded", result=result)


def _not_json(value):
    raise TypeError(f"the result must be JSON (objects, lists, strings, numbers, booleans, null), "
                    f"not {type(value).__name__}")


def task_kind(name, *, title, description="", params=None, expected_seconds=None):
    """Declare a task kind: the decorated function becomes its body, run by the worker.

    params is a JSON Schema of an object whose properties are integers, numbers, booleans or strings
    (give each a default, a title and its limits: clients build their start form from them).
    expected_seconds (a number, or a function of the params) sets the task's time limits.
    The body is called as body(task, **params) with a TaskReporter; what it returns is the result.
    """
    def decorator(body):
        def run(task_id, params):
            with tasks.tracked(task_id) as report:
                reporter = TaskReporter(task_id, report)
                reporter.finish(body(reporter, **params))

        # Named like the body (not functools.wraps: Celery would check calls against the body's signature).
        run.__name__, run.__qualname__, run.__module__ = body.__name__, body.__qualname__, body.__module__
        run.__doc__ = body.__doc__
        celery_task = shared_task(name=CELERY_NAME.format(name=name))(run)
        register(TaskKind(name=name, title=title, description=description,
                          schema=params or {"type": "object", "properties": {}},
                          celery_task=celery_task, expected_seconds=_estimate(expected_seconds),
                          arguments=lambda task_id, params: ((task_id, params), {})))
        body.celery_task = celery_task
        return body
    return decorator


def register(kind):
    """Add kind to the registry, checking its schema; a name may be declared once."""
    if not isinstance(kind.name, str) or not kind.name or len(kind.name) > 64:
        raise ValueError(f"a task kind's name is a non-empty string of at most 64 characters, not {kind.name!r}")
    known = _registry.get(kind.name)
    if known is not None and known.celery_task.name != kind.celery_task.name:
        raise ValueError(f"task kind {kind.name!r} is declared twice")
    check_schema(kind.name, kind.schema)
    _registry[kind.name] = kind
    return kind


def check_schema(name, schema):
    """Raise ValueError unless schema is a JSON Schema clients can build a form from."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"task kind {name!r}: its params are not a valid JSON Schema: {exc.message}") from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties", {}), dict):
        raise ValueError(f"task kind {name!r}: its params schema must be of an object with properties")
    for field, spec in schema.get("properties", {}).items():
        if spec.get("type") not in FORM_TYPES:
            raise ValueError(f"task kind {name!r}: parameter {field!r} must be of type "
                             f"{', '.join(FORM_TYPES)}, not {spec.get('type')!r}")
        if "default" in spec and list(Draft202012Validator(spec).iter_errors(spec["default"])):
            raise ValueError(f"task kind {name!r}: the default of {field!r} does not fit its own schema")


def kinds():
    """Return every registered kind, in the order they were declared."""
    return list(_registry.values())


def get(name):
    """Return the kind called name, or raise ProtocolError naming the kinds there are."""
    kind = _registry.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD,
                            f"'kind' {str(name)[:64]!r} is no task kind of this server; its kinds are: "
                            f"{', '.join(_registry)}",
                            field="kind")
    return kind


def validate(kind, params, settings):
    """Return params checked against kind's schema, defaults filled in, or raise ProtocolError naming the field."""
    schema = kind.params_schema(settings)
    _check_finite(params, "params")
    errors = sorted(Draft202012Validator(schema).iter_errors(params),
                    key=lambda error: (list(error.absolute_path), error.validator))
    if errors:
        raise _refusal(kind, schema, params, errors[0])
    checked = dict(params)
    for field, spec in schema.get("properties", {}).items():
        if field not in checked and "default" in spec:
            checked[field] = spec["default"]
        if spec.get("type") == "integer" and isinstance(checked.get(field), float):
            checked[field] = int(checked[field])  # JSON Schema counts 5.0 as an integer; the body gets 5
    size = len(json.dumps(checked, separators=(",", ":")))
    if size > protocol.MAX_PARAMS_BYTES:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"'params' are {size} bytes of JSON; the limit is "
                            f"{protocol.MAX_PARAMS_BYTES}", field="params")
    return checked


def _refusal(kind, schema, params, error):
    """Return the ProtocolError telling what is wrong with params, naming the field in words."""
    path = ".".join(["params", *map(str, error.absolute_path)])
    properties = schema.get("properties", {})
    if error.validator == "required":
        missing = next(field for field in error.validator_value if field not in error.instance)
        return ProtocolError(ErrorCode.INVALID_PAYLOAD, f"'{path}.{missing}' is missing: kind {kind.name!r} needs it",
                             field=f"{path}.{missing}")
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(properties))[0]
        return ProtocolError(ErrorCode.INVALID_PAYLOAD,
                             f"unknown parameter '{path}.{extra}'; kind {kind.name!r} takes "
                             f"{', '.join(properties) or 'none'}", field=f"{path}.{extra}")
    value = _shown(error.instance)
    words = {
        "type": lambda: f"must be {_a(error.validator_value)}, not {value}",
        "minimum": lambda: f"must be at least {error.validator_value}, not {value}",
        "maximum": lambda: f"must be at most {error.validator_value}, not {value}",
        "exclusiveMinimum": lambda: f"must be more than {error.validator_value}, not {value}",
        "exclusiveMaximum": lambda: f"must be less than {error.validator_value}, not {value}",
        "enum": lambda: f"must be one of {', '.join(map(_shown, error.validator_value))}, not {value}",
        "maxLength": lambda: f"must be at most {error.validator_value} characters long",
        "minLength": lambda: f"must be at least {error.validator_value} characters long",
    }.get(error.validator, lambda: f"is not valid: {error.message[:200]}")
    return ProtocolError(ErrorCode.INVALID_PAYLOAD, f"'{path}' {words()}", field=path)


def _check_finite(value, path):
    # JSON Schema's minimum and maximum let NaN through (every comparison with it is false).
    if isinstance(value, float) and not math.isfinite(value):
        raise ProtocolError(ErrorCode.INVALID_PAYLOAD, f"'{path}' must be a finite number, not {value}", field=path)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}.{index}")


def _a(type_name):
    if isinstance(type_name, list):
        return " or ".join(map(_a, type_name))
    return {"integer": "a whole number", "number": "a number", "boolean": "true or false",
            "string": "a string", "object": "an object", "array": "a list", "null": "null"}.get(type_name, type_name)


def _shown(value):
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _estimate(expected_seconds):
    if expected_seconds is None:
        return lambda params: DEFAULT_EXPECTED_SECONDS
    if callable(expected_seconds):
        return expected_seconds
    return lambda params: float(expected_seconds)


def load(module_names):
    """Import the modules that declare task kinds (the built-in ones, then TASK_MODULES)."""
    for name in module_names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # a module it imports is missing: its own error says which
            raise ImportError(f"TASK_MODULES names {name}, which cannot be imported ({exc}): put it in the "
                              f"project folder or on PYTHONPATH") from None

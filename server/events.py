"""Socket.IO handlers for the /test namespace: validate, hand off, reply."""
import functools
import logging

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, emit

from shared import protocol
from shared.protocol import ErrorCode, ProtocolError

from . import limits, progress, security, tasks, wire
from .app import socketio

log = logging.getLogger(__name__)


def handles(event):
    """Register a handler for event that takes at most one payload."""
    def decorator(handler):
        @functools.wraps(handler)
        def wrapper(*args):
            if len(args) > 1:
                raise ProtocolError(ErrorCode.INVALID_PAYLOAD,
                                    f"'{event}' takes one payload, not {len(args)}")
            return handler(args[0] if args else None)
        return socketio.on(event, namespace=protocol.NAMESPACE)(wrapper)
    return decorator


@socketio.on("connect", namespace=protocol.NAMESPACE)
def on_connect(auth=None):
    """Resume the client from the last cursor it saw: it gets what it missed, then live events."""
    try:
        security.check_connect(auth)
        cursor, batch = protocol.parse_connect_auth(auth)
    except ProtocolError as error:
        log.warning("refused connection from %s (%s): %s", request.sid, request.remote_addr, error.message)
        raise ConnectionRefusedError(error.message, error.as_payload()) from None
    current_app.extensions["relay"].join(request.sid, cursor, batch)
    # To this process's own client: through the message queue, every server would get a copy.
    emit(protocol.SYSTEM_HEALTH, current_app.extensions["health"].current(), ignore_queue=True)


@socketio.on("disconnect", namespace=protocol.NAMESPACE)
def on_disconnect(reason=None):
    """Forget the client's task start limits; its unfinished tasks still count for the server."""
    limits.forget(_client())


@handles(protocol.MY_EVENT)
def on_my_event(payload):
    """Echo the message back to its sender, as the original app did."""
    data = protocol.parse_message(payload)
    # The sender is connected to this very process, so its reply need not cross Redis.
    emit(protocol.MY_RESPONSE, {"data": protocol.echo_text(data)}, ignore_queue=True)


@handles(protocol.START_TASK)
def on_start_task(payload):
    """Start a task of {kind, params} (or the original {seconds?}); the ack carries its id."""
    kind, params = protocol.parse_start_request(payload, current_app.config["SETTINGS"].background_task_seconds)
    return {"task_id": limits.start_task(_client(), kind, params)}


@handles(protocol.CANCEL_TASK)
def on_cancel_task(payload):
    """Cancel a task; every client then sees it end as cancelled."""
    tasks.cancel_task(protocol.parse_task_ref(payload, protocol.CANCEL_TASK))
    return {"ok": True}


@handles(protocol.TASK_HISTORY)
def on_task_history(payload):
    """Answer with a task's history, in order (progress.TaskProgress.history says what it keeps)."""
    task_id = protocol.parse_task_ref(payload, protocol.TASK_HISTORY)
    events = progress.get().history(task_id)
    if not events:
        raise protocol.unknown_task(task_id)
    return {"task_id": task_id, "events": events}


@handles(protocol.TASK_RECORDS)
def on_task_records(payload):
    """Answer with the latest state and record of each task asked for (unknown ones left out)."""
    records = progress.get().records(protocol.parse_records_request(payload))
    return {"tasks": [record for record in records if record]}


@socketio.on("*", namespace=protocol.NAMESPACE)
def on_unknown_event(event, *args):
    """Tell the sender that the event is not part of the protocol (or could not be decoded)."""
    if isinstance(event, wire.Undecodable):
        raise event.error
    raise ProtocolError(ErrorCode.UNKNOWN_EVENT, f"unknown event {str(event)[:100]!r}")


@socketio.on_error(protocol.NAMESPACE)
def on_error(exc):
    """Answer a failed message with the error event (and ack); never a stack trace."""
    if isinstance(exc, limits.RateLimited):
        error = exc  # limits logs a flood itself, not each refusal
    elif isinstance(exc, ProtocolError):
        error = exc
        log.warning("rejected %r from %s: %s", _event_name(), request.sid, exc.message)
    elif isinstance(exc, progress.RedisUnavailable):
        error = ProtocolError(ErrorCode.REDIS_UNAVAILABLE, str(exc))
        log.error("%r from %s failed: %s", _event_name(), request.sid, exc)
    elif isinstance(exc, progress.ServerBusy):
        error = ProtocolError(ErrorCode.SERVER_BUSY, str(exc))
        log.warning("%r from %s refused: %s", _event_name(), request.sid, exc)
    else:
        error = ProtocolError(ErrorCode.INTERNAL_ERROR,
                              "the server could not handle this message; the error is in its log")
        log.exception("%r from %s raised", _event_name(), request.sid)
    emit(protocol.PROTOCOL_ERROR, error.as_payload(), ignore_queue=True)
    return {"error": error.as_payload()}


def _event_name():
    event = getattr(request, "event", {})
    if event.get("message") == "*" and event.get("args"):
        name = event["args"][0]  # the catch-all handler receives the real name first
        return "undecodable message" if isinstance(name, wire.Undecodable) else name
    return event.get("message", "?")


def _client():
    """Return the name the task start limits know this socket connection by."""
    return f"socket {request.sid}"

"""HTTP routes: the page, the original /bg endpoint, the tasks API and the health check."""
import logging
import os

from flask import Blueprint, current_app, render_template, request, send_from_directory, url_for
from werkzeug.exceptions import HTTPException

from shared import protocol
from shared.protocol import ErrorCode, ProtocolError

from . import health, limits, page_client, progress, task_api, tasks

log = logging.getLogger(__name__)
bp = Blueprint("main", __name__)


def _settings():
    return current_app.config["SETTINGS"]


@bp.get(protocol.ROUTE_INDEX)
def index():
    """Serve the page."""
    client_installed = os.path.exists(page_client.path())
    return render_template("index.html", protocol=protocol.for_page(),
                           client_installed=client_installed)


@bp.get(protocol.ROUTE_SOCKETIO_CLIENT)
def socketio_client():
    """Serve the socket.io client, as package-lock.json pins it (server/page_client.py)."""
    return send_from_directory(page_client.VENDOR_DIR, page_client.FILE_NAME, max_age=3600)


@bp.get(protocol.ROUTE_FAVICON)
def favicon():
    """Serve the icon browsers ask for on every load."""
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=86400)


@bp.get(protocol.ROUTE_BACKGROUND)
def start_background():
    """Start the background task, as the original app's /bg did."""
    limits.start_task(_client(), protocol.ORIGINAL_TASK_KIND, {"seconds": _settings().background_task_seconds})
    return protocol.BACKGROUND_STARTED_REPLY


@bp.get(protocol.ROUTE_TASK_KINDS)
def list_task_kinds():
    """List the kinds of task the server runs, each with its parameters as a JSON Schema."""
    return {"kinds": [kind.describe(_settings()) for kind in task_api.kinds()]}


@bp.post(protocol.ROUTE_TASKS)
def create_task():
    """Start a task of {kind, params} (or the original {seconds?}) and answer 202 with its id."""
    kind, params = protocol.parse_start_request(_json_body(), _settings().background_task_seconds)
    task_id = limits.start_task(_client(), kind, params)
    return {"task_id": task_id}, 202, {"Location": url_for("main.get_task", task_id=task_id)}


@bp.get(protocol.ROUTE_TASKS)
def list_tasks():
    """List recent tasks with their latest state and record, newest first."""
    limit = request.args.get("limit", protocol.RECENT_TASKS_LIMIT)
    if not str(limit).isdigit() or not 1 <= int(limit) <= protocol.RECENT_TASKS_LIMIT:
        raise ProtocolError(ErrorCode.OUT_OF_RANGE,
                            f"'limit' must be a whole number from 1 to {protocol.RECENT_TASKS_LIMIT}")
    return {"tasks": progress.get().recent(int(limit))}


@bp.get(protocol.ROUTE_TASK)
def get_task(task_id):
    """Return a task's latest state, with its record."""
    event = progress.get().latest(task_id) if protocol.TASK_ID.match(task_id) else None
    if event is None:
        raise protocol.unknown_task(task_id)
    return event


@bp.get(protocol.ROUTE_TASK_EVENTS)
def get_task_events(task_id):
    """Return a task's history, in order (progress.TaskProgress.history says what it keeps)."""
    events = progress.get().history(task_id) if protocol.TASK_ID.match(task_id) else []
    if not events:
        raise protocol.unknown_task(task_id)
    return {"task_id": task_id, "events": events}


@bp.post(protocol.ROUTE_TASK_CANCEL)
def cancel_task(task_id):
    """Cancel a task: 202 when asked, 404 for an unknown task, 409 for a finished one."""
    tasks.cancel_task(protocol.parse_task_id(task_id))
    return {"ok": True}, 202


@bp.get(protocol.ROUTE_HEALTH)
def healthz():
    """Report whether Redis answers and how many workers are alive."""
    status = health.check(progress.get())
    return status, 200 if status["redis"] else 503


def _json_body():
    """Return the request's JSON body, None when empty; a body must say it is JSON (a form cannot).

    An empty body's type is not checked: eventlet's server gives a missing one as text/plain.
    """
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")
    if has_body and request.mimetype != "application/json":
        raise ProtocolError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                            f"the body must be JSON, sent as Content-Type: application/json, "
                            f"not {request.mimetype or 'without a Content-Type'}")
    raw = request.get_data(cache=False)
    if not raw.strip():
        return None
    return protocol.parse_json(raw)


def _client():
    """Return the name the task start limits know this HTTP client by: its address."""
    return f"address {request.remote_addr}"


@bp.app_errorhandler(ProtocolError)
def bad_request(error):
    headers = {}
    if isinstance(error, limits.RateLimited):
        headers["Retry-After"] = str(error.retry_after)  # limits logs a flood itself, not each refusal
    else:
        log.warning("rejected %s %s from %s: %s", request.method, request.path, request.remote_addr,
                    error.message)
    status = {ErrorCode.NOT_FOUND: 404, ErrorCode.CONFLICT: 409, ErrorCode.RATE_LIMITED: 429,
              ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415}.get(error.code, 400)
    return {"error": error.as_payload()}, status, headers


@bp.app_errorhandler(progress.RedisUnavailable)
def redis_unavailable(error):
    log.error("%s %s failed: %s", request.method, request.path, error)
    return _error(ErrorCode.REDIS_UNAVAILABLE, str(error)), 503


@bp.app_errorhandler(progress.ServerBusy)
def server_busy(error):
    log.warning("%s %s refused: %s", request.method, request.path, error)
    return _error(ErrorCode.SERVER_BUSY, str(error)), 503, {"Retry-After": "1"}


@bp.app_errorhandler(HTTPException)
def http_error(error):
    codes = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}
    code = codes.get(error.code, ErrorCode.INVALID_PAYLOAD if error.code < 500 else ErrorCode.INTERNAL_ERROR)
    log.warning("%s %s from %s: %s %s", request.method, request.path, request.remote_addr,
                error.code, error.description)
    return _error(code, error.description), error.code


@bp.app_errorhandler(Exception)
def internal_error(error):
    log.exception("%s %s raised", request.method, request.path)
    return _error(ErrorCode.INTERNAL_ERROR, "the server failed; the error is in its log"), 500


def _error(code, message):
    """Return the JSON body of an error answer, as every refusal has it."""
    return {"error": ProtocolError(code, message).as_payload()}

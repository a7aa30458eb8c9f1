"""The Flask app factory: Flask + Flask-SocketIO, with Celery for the work and Redis between them."""
import socketio as python_socketio
from celery import Celery, Task
from flask import Flask
from flask_socketio import SocketIO

from shared import config, protocol

from . import progress, security, task_api, wire
from .health import HealthMonitor
from .relay import Relay

socketio = SocketIO()


def create_app(settings=None):
    """Build the Flask app, bind Celery and Socket.IO to it, and register its routes and events."""
    settings = settings or config.load()
    app = Flask(__name__)
    app.json.sort_keys = False  # a kind's parameters keep their declared order: clients' forms follow it
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=protocol.MAX_REQUEST_BYTES,
        CELERY=celery_config(settings),
    )
    celery_init_app(app)
    progress.init_app(app)
    task_api.load(task_modules(settings))  # the kinds of task, known alike to the server and the worker

    # Imported here: they (through tasks.py) use the socketio object this module defines.
    from . import events, limits, routes  # noqa: F401  (events registers its handlers on socketio)
    limits.init_app(app)
    app.register_blueprint(routes.bp)
    policy = security.Policy(settings)
    # The message queue is given, not named: Flask-SocketIO would take a unix:// URL for kombu's.
    socketio.init_app(app, client_manager=python_socketio.RedisManager(
                          settings.redis_url, channel=config.SOCKETIO_CHANNEL),
                      async_mode=settings.async_mode, max_http_buffer_size=protocol.MAX_REQUEST_BYTES,
                      # Origins by our rule (the Host is checked first), not the Host-derived default.
                      cors_allowed_origins=policy.origin_allowed,
                      json=wire.DepthLimitedJSON, serializer=wire.TolerantPacket)
    app.wsgi_app = wire.without_compression(app.wsgi_app)
    security.init_app(app, policy)  # last: in front of everything, socket.io included
    app.extensions["relay"] = Relay(socketio, app.extensions["task_progress"])
    app.extensions["health"] = HealthMonitor(socketio, app.extensions["task_progress"])
    return app


def celery_config(settings):
    """Return Celery's settings: JSON only, task events on, no task lost to a dying worker."""
    return {
        "broker_url": config.broker_url(settings.redis_url),
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_ignore_result": True,  # a task's state lives in our own store (server/progress.py)
        "worker_send_task_events": True,  # for Flower and `celery events`
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A task is redelivered if not acknowledged within this: longer than any task may run
        # (its time limits), so a slow task is never run twice. A worker that died is noticed
        # much sooner, by the task's lease (server/progress.py).
        "broker_transport_options": {"visibility_timeout": visibility_timeout(settings)},
        "worker_prefetch_multiplier": 1,
        "worker_concurrency": settings.worker_concurrency,
        "include": ["server.tasks", *task_modules(settings)],
        **({} if settings.log_timestamps else LOG_FORMATS_WITHOUT_TIME),
    }


# Celery's own formats less the time, for output shown by something that adds its own (run_all.py, journald).
LOG_FORMATS_WITHOUT_TIME = {
    "worker_log_format": "[%(levelname)s/%(processName)s] %(message)s",
    "worker_task_log_format": "[%(levelname)s/%(processName)s] %(task_name)s[%(task_id)s]: %(message)s",
}


def task_modules(settings):
    """Return the modules that declare task kinds: the built-in ones, then TASK_MODULES."""
    return ["server.kinds", *settings.task_modules]


def visibility_timeout(settings):
    """Return the broker's visibility timeout: above the longest task's hard time limit."""
    from .tasks import time_limits
    return int(time_limits(protocol.MAX_TASK_SECONDS, settings.task_time_limit_factor)[1]) + 600


def celery_init_app(app):
    """Create the Celery app whose tasks run inside the Flask app context (Flask's Celery pattern)."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    # Celery keeps its result backend per thread, and under eventlet every request is a thread of
    # its own: each apply_async would build the backend anew (loading entry points, ~40% of a start).
    # Results are not kept (task_ignore_result), so one backend serves every thread.
    FlaskTask._backend = celery_app.backend
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app

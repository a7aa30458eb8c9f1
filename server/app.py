"""The Flask app factory: Flask + Flask-SocketIO, with Celery for the work and Redis between them."""
from celery import Celery, Task
from flask import Flask
from flask_socketio import SocketIO

from shared import config

from shared import protocol

from . import progress
from .health import HealthMonitor
from .relay import Relay

socketio = SocketIO()


def create_app(settings=None):
    """Build the Flask app, bind Celery and Socket.IO to it, and register its routes and events."""
    settings = settings or config.load()
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=1024 * 1024,
        CELERY=celery_config(settings),
    )
    celery_init_app(app)
    progress.init_app(app)

    from . import events, routes  # noqa: F401  (events registers its handlers on socketio)
    app.register_blueprint(routes.bp)
    socketio.init_app(app, message_queue=settings.redis_url, channel=config.SOCKETIO_CHANNEL,
                      async_mode=settings.async_mode)
    app.extensions["relay"] = Relay(socketio, app.extensions["task_progress"])
    app.extensions["health"] = HealthMonitor(socketio, app.extensions["task_progress"])
    return app


def celery_config(settings):
    """Return Celery's settings: JSON only, task events on, no task lost to a dying worker."""
    return {
        "broker_url": settings.redis_url,
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
        "include": ["server.tasks"],
        **({} if settings.log_timestamps else LOG_FORMATS_WITHOUT_TIME),
    }


# Celery's own formats less the time, for output shown by something that adds its own (run_all.py, journald).
LOG_FORMATS_WITHOUT_TIME = {
    "worker_log_format": "[%(levelname)s/%(processName)s] %(message)s",
    "worker_task_log_format": "[%(levelname)s/%(processName)s] %(task_name)s[%(task_id)s]: %(message)s",
}


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
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app

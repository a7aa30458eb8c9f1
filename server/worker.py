"""The Celery worker's entry point: celery -A server.worker worker (installed: taskprogress-worker)"""
import dataclasses
import sys

from shared import config

try:
    settings = config.load(names=config.WORKER_SETTINGS)
except config.ConfigError as exc:
    # One line, rather than the traceback Celery prints for an app module that fails to import.
    sys.exit(f"Configuration error: {exc}")

from server.app import create_app  # noqa: E402
from server.worker_duties import WorkerDuties  # noqa: E402

# The worker serves no sockets: the threading mode keeps eventlet (and its warning) out of it.
flask_app = create_app(dataclasses.replace(settings, async_mode="threading"))
celery_app = flask_app.extensions["celery"]
WorkerDuties(flask_app.extensions["task_progress"]).install()

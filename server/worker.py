"""The Celery worker's entry point: celery -A server.worker worker"""
import dataclasses

from server.app import create_app
from server.worker_duties import WorkerDuties
from shared import config

# The worker serves no sockets: the threading mode keeps eventlet (and its warning) out of it.
flask_app = create_app(dataclasses.replace(config.load(), async_mode="threading"))
celery_app = flask_app.extensions["celery"]
WorkerDuties(flask_app.extensions["task_progress"]).install()

"""The Celery worker's entry point: celery -A server.worker worker"""
import dataclasses

from server.app import create_app
from shared import config

# The worker serves no sockets: the threading mode keeps eventlet (and its warning) out of it.
celery_app = create_app(dataclasses.replace(config.load(), async_mode="threading")).extensions["celery"]

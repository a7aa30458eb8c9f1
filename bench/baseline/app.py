"""The article's app, in one module as the article has it: Flask, Flask-SocketIO on Redis, Celery.

Worker: celery -A bench.baseline.app:celery worker. The one addition is `seconds` on /bg, so the
benchmarks need not wait the article's 10 s.
"""
import time

from celery import Celery
from flask import Flask, request
from flask_socketio import SocketIO, emit

from shared import config, protocol

settings = config.load()
app = Flask(__name__)
app.config["SECRET_KEY"] = settings.secret_key
socketio = SocketIO(app, message_queue=settings.redis_url, async_mode=settings.async_mode)
celery = Celery(app.name, broker=settings.redis_url)
celery.conf.update(task_ignore_result=True, worker_prefetch_multiplier=1)


@celery.task(name="baseline.background_task")
def background_task(url, seconds=10):
    """Emit a start and an end message through a SocketIO created for this task alone."""
    local_socketio = SocketIO(message_queue=url)
    local_socketio.emit(protocol.MY_RESPONSE, {"data": protocol.BACKGROUND_STARTING},
                        namespace=protocol.NAMESPACE)
    time.sleep(seconds)
    local_socketio.emit(protocol.MY_RESPONSE, {"data": protocol.BACKGROUND_COMPLETE},
                        namespace=protocol.NAMESPACE)


@app.route("/")
def index():
    """Answer, so the benchmarks can tell the server is up."""
    return "baseline"


@app.route(protocol.ROUTE_BACKGROUND)
def start_background_task():
    """Queue the background task, as the article's /bg does."""
    background_task.delay(settings.redis_url, float(request.args.get("seconds", 10)))
    return protocol.BACKGROUND_STARTED_REPLY


@socketio.on(protocol.MY_EVENT, namespace=protocol.NAMESPACE)
def test_message(message):
    """Echo the message back to its sender."""
    emit(protocol.MY_RESPONSE, {"data": message["data"]})

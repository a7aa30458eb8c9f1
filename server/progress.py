"""Task progress: every event is stored in Redis as it happens, then broadcast to every client.

One store and one socket.io emitter per process, created on first use and again after a fork,
so Celery's prefork children never share a connection with their parent.
"""
import json
import os
import time

import redis
import socketio
from flask import current_app

from shared import config, protocol

# Assign the next seq and store the event as the task's latest state, in one atomic step.
_RECORD_EVENT = """
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[6])
local event = cjson.encode({task_id = ARGV[1], state = ARGV[2], percent = tonumber(ARGV[3]),
                            message = ARGV[4], seq = seq, ts = tonumber(ARGV[5])})
redis.call('SET', KEYS[2], event, 'EX', ARGV[6])
return event
"""


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached, so no task can be started or looked up."""


class TaskProgress:
    """Record task events in Redis and broadcast them through the socket.io message queue."""

    def __init__(self, redis_url, retention_seconds):
        self.redis_url = redis_url
        self.retention_seconds = retention_seconds
        self._pid = None

    def _connect(self):
        if self._pid != os.getpid():
            self._redis = redis.Redis.from_url(self.redis_url, decode_responses=True,
                                               socket_connect_timeout=2, socket_timeout=5)
            self._record = self._redis.register_script(_RECORD_EVENT)
            self._emitter = socketio.RedisManager(self.redis_url, channel=config.SOCKETIO_CHANNEL,
                                                  write_only=True)
            self._pid = os.getpid()

    def publish(self, task_id, state, percent, message):
        """Record a task's new state and broadcast it as a ``task progress`` event; return the event."""
        self._connect()
        state = protocol.TaskState(state)
        try:
            raw = self._record(keys=[f"task:{task_id}:seq", f"task:{task_id}"],
                               args=[task_id, str(state), int(percent), message, time.time(),
                                     self.retention_seconds])
        except (redis.RedisError, OSError) as exc:
            raise self.unavailable_error() from exc
        event = json.loads(raw)
        self._emitter.emit(protocol.TASK_PROGRESS, event, namespace=protocol.NAMESPACE)
        return event

    def say(self, text):
        """Broadcast a ``my response`` line to every client, as the original task did."""
        self._connect()
        self._emitter.emit(protocol.MY_RESPONSE, {"data": text}, namespace=protocol.NAMESPACE)

    def latest(self, task_id):
        """Return the task's latest event, or None for an unknown (or expired) task."""
        self._connect()
        try:
            raw = self._redis.get(f"task:{task_id}")
        except (redis.RedisError, OSError) as exc:
            raise self.unavailable_error() from exc
        return json.loads(raw) if raw else None

    def ping(self):
        """Tell whether Redis answers."""
        self._connect()
        try:
            return bool(self._redis.ping())
        except (redis.RedisError, OSError):
            return False

    def unavailable_error(self):
        """Return the error that explains Redis cannot be reached, and what to do."""
        return RedisUnavailable(f"Redis is not reachable at {config.redacted(self.redis_url)}: "
                                "start redis-server, set REDIS_URL, or use run_all.py, "
                                "which starts one for you")


def init_app(app):
    """Give the app its TaskProgress."""
    settings = app.config["SETTINGS"]
    app.extensions["task_progress"] = TaskProgress(settings.redis_url, settings.task_retention_seconds)


def get():
    """Return the current app's TaskProgress."""
    return current_app.extensions["task_progress"]

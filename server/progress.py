"""Task progress, kept in Redis: each task's latest state and full history, and one ordered stream.

Every task event is appended, atomically, to the task's history and to one Redis Stream whose
entry id is the event's ``cursor``; the relay (relay.py) tails that stream to deliver events to
clients in order. One Redis client and one socket.io emitter per process, created on first use and
again after a fork, so Celery's prefork children never share a connection with their parent.
"""
import json
import os
import time

import redis
import socketio
from flask import current_app

from shared import config, protocol
from shared.protocol import TaskState

STREAM = "tasks:events"
TRIMMED = "tasks:events:trimmed"  # the newest cursor no longer in the stream
RECENT = "tasks:recent"
TRIM_SLACK = 1000  # trim in batches: amortised O(1) per event
FINAL_STATES = tuple(str(s) for s in TaskState if s.is_final)

# Record one event: refuse it after a final state, turn it into `cancelled` when a cancel was asked,
# give it the next seq and a cursor, and store it as the latest state and in the history.
# Trimming is exact and remembered, so the relay knows whether a cursor's successors are all kept.
# KEYS: task hash, task history list, stream, recent set, trimmed marker.
# ARGV: task_id, state, percent, message, ts, retention, stream length, recent limit, trim slack.
_RECORD = """
local current = redis.call('HGET', KEYS[1], 'state')
if current == 'succeeded' or current == 'failed' or current == 'cancelled' then return false end
local state, message = ARGV[2], ARGV[4]
if redis.call('HGET', KEYS[1], 'cancel') and state ~= 'failed' then
  state, message = 'cancelled', 'cancelled'
end
local event = {task_id = ARGV[1], state = state, percent = tonumber(ARGV[3]), message = message,
               seq = redis.call('HINCRBY', KEYS[1], 'seq', 1), ts = tonumber(ARGV[5])}
local cursor = redis.call('XADD', KEYS[3], '*', 'event', cjson.encode(event))
local excess = redis.call('XLEN', KEYS[3]) - tonumber(ARGV[7])
if excess > tonumber(ARGV[9]) then
  local doomed = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', excess)
  redis.call('SET', KEYS[5], doomed[#doomed][1])
  redis.call('XTRIM', KEYS[3], 'MAXLEN', ARGV[7])
end
event.cursor = cursor
local encoded = cjson.encode(event)
redis.call('HSET', KEYS[1], 'state', state, 'event', encoded)
redis.call('RPUSH', KEYS[2], encoded)
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
if not current then
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', tonumber(ARGV[5]) - tonumber(ARGV[6]))
end
return state
"""

# Ask a task to stop: return its state before the request ('' for an unknown task).
_REQUEST_CANCEL = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return '' end
if state ~= 'succeeded' and state ~= 'failed' and state ~= 'cancelled' then
  redis.call('HSET', KEYS[1], 'cancel', '1')
end
return state
"""


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached, so no task can be started or looked up."""


def _keys(task_id):
    return [f"task:{task_id}", f"task:{task_id}:events", STREAM, RECENT, TRIMMED]


class TaskProgress:
    """Record task events in Redis and read them back: latest state, history, stream."""

    def __init__(self, redis_url, retention_seconds, stream_length):
        self.redis_url = redis_url
        self.retention_seconds = retention_seconds
        self.stream_length = stream_length
        self._pid = None

    @property
    def redis(self):
        """Return this process's Redis client."""
        if self._pid != os.getpid():
            self._redis = redis.Redis.from_url(self.redis_url, decode_responses=True,
                                               socket_connect_timeout=2, socket_timeout=5)
            self._record = self._redis.register_script(_RECORD)
            self._request_cancel = self._redis.register_script(_REQUEST_CANCEL)
            self._emitter = socketio.RedisManager(self.redis_url, channel=config.SOCKETIO_CHANNEL,
                                                  write_only=True)
            self._pid = os.getpid()
        return self._redis

    def record(self, task_id, state, percent, message):
        """Record a task's new state; return the state stored, or None if the task was already final.

        The state stored is `cancelled` instead when a cancel was asked for: callers check it.
        """
        self.redis  # noqa: B018  (connect in this process)
        try:
            raw = self._record(keys=_keys(task_id),
                               args=[task_id, str(TaskState(state)), int(percent), message, time.time(),
                                     self.retention_seconds, self.stream_length,
                                     protocol.RECENT_TASKS_LIMIT, TRIM_SLACK])
        except (redis.RedisError, OSError) as exc:
            raise self.unavailable_error() from exc
        return TaskState(raw) if raw else None

    def request_cancel(self, task_id):
        """Ask a task to stop; return its state before the request, or None for an unknown task."""
        self.redis  # noqa: B018
        state = self._guard(lambda: self._request_cancel(keys=[f"task:{task_id}"]))
        return TaskState(state) if state else None

    def say(self, text):
        """Broadcast a ``my response`` line to every client, as the original task did."""
        self.redis  # noqa: B018
        self._emitter.emit(protocol.MY_RESPONSE, {"data": text}, namespace=protocol.NAMESPACE)

    def latest(self, task_id):
        """Return the task's latest event, or None for an unknown (or expired) task."""
        raw = self._guard(lambda: self.redis.hget(f"task:{task_id}", "event"))
        return json.loads(raw) if raw else None

    def history(self, task_id):
        """Return every event of the task, in order (empty for an unknown task)."""
        return [json.loads(raw) for raw in
                self._guard(lambda: self.redis.lrange(f"task:{task_id}:events", 0, -1))]

    def recent(self, limit=protocol.RECENT_TASKS_LIMIT):
        """Return the latest event of each recent task, newest first."""
        def read():
            task_ids = self.redis.zrevrange(RECENT, 0, limit - 1)
            with self.redis.pipeline(transaction=False) as pipe:
                for task_id in task_ids:
                    pipe.hget(f"task:{task_id}", "event")
                return pipe.execute()
        return [json.loads(raw) for raw in self._guard(read) if raw]

    def unfinished(self, task_ids):
        """Return those of task_ids whose task is queued or running (not final, nor expired); one round trip."""
        def read():
            with self.redis.pipeline(transaction=False) as pipe:
                for task_id in task_ids:
                    pipe.hget(f"task:{task_id}", "state")
                return pipe.execute()
        return [task_id for task_id, state in zip(task_ids, self._guard(read))
                if state and state not in FINAL_STATES]

    def ping(self):
        """Tell whether Redis answers."""
        try:
            return bool(self.redis.ping())
        except (redis.RedisError, OSError):
            return False

    def _guard(self, read):
        try:
            return read()
        except (redis.RedisError, OSError) as exc:
            raise self.unavailable_error() from exc

    def unavailable_error(self):
        """Return the error that explains Redis cannot be reached, and what to do."""
        return RedisUnavailable(f"Redis is not reachable at {config.redacted(self.redis_url)}: "
                                "start redis-server, set REDIS_URL, or use run_all.py, "
                                "which starts one for you")


def init_app(app):
    """Give the app its TaskProgress."""
    settings = app.config["SETTINGS"]
    app.extensions["task_progress"] = TaskProgress(settings.redis_url, settings.task_retention_seconds,
                                                   settings.event_stream_length)


def get():
    """Return the current app's TaskProgress."""
    return current_app.extensions["task_progress"]

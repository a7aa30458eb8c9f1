"""Task progress, kept in Redis: each task's latest state and history, one ordered stream, leases.

Every task event is appended, atomically, to the task's history and to one Redis Stream whose
entry id is the event's ``cursor``; the relay (relay.py) tails that stream to deliver events to
clients in order. Each change of a task's life is one Lua script, so whichever processes race
(several workers, several servers sweeping leases, a Celery revoke), a task gets exactly one
final event and its ``seq`` runs without gap.

Leases: a task that is running holds a lease, renewed by each of its reports and measured by
Redis's own clock. When the lease runs out (its worker died, hit a hard time limit or was
killed), any server or worker that sweeps (``expire_leases``) ends the task as failed. A task
that Celery delivers again after its worker died knows it (``begin``): it runs as the next
attempt, visibly, up to ``max_attempts``.

Records: besides its events, a task's hash keeps its record (protocol.RECORD_FIELDS): kind and
params (written with its first event, ``create``), created (its first event), started (each attempt's
``begin``), finished (its final event), result (with a final ``succeeded``) or error (with a final
``failed``), each written by the script that stores the event it belongs to. ``latest`` and ``recent``
return the latest event with its record; progress events themselves stay small.

What is kept is bounded by count, whatever the load: the stream keeps the last ``stream_length``
events (what a reconnecting client can be sent again); a task's history keeps its events up to
``history_length`` (HISTORY_LENGTH: a 10-second task has 22), and past that every state change and its
latest progress, dropping the reports between (``compact_history``); at most ``retention_count``
finished tasks are kept (``forget_oldest``), none longer than ``retention_seconds``.

One Redis client per process, created on first use and again after a fork, so Celery's prefork
children never share a connection with their parent. Its pool blocks when all its connections are
busy, so a burst waits for a connection instead of failing as if Redis were down.
"""
import json
import logging
import os
import random
import re
import time
import uuid

import redis

from shared import config, protocol
from shared.protocol import TaskState

log = logging.getLogger(__name__)

STREAM = "tasks:events"
TRIMMED = "tasks:events:trimmed"  # the newest cursor no longer in the stream
RECENT = "tasks:recent"
LEASES = "tasks:leases"  # task id -> when its lease ends (ms, Redis clock)
WORKERS = "workers:alive"  # worker name -> its last heartbeat (ms, Redis clock)
TRIM_SLACK = 1000  # trim in batches: amortised O(1) per event
POOL_SIZE = 50  # Redis connections per process; more concurrent requests wait for one...
POOL_TIMEOUT = 10.0  # ...this long, then are refused as "busy" (not as "Redis unavailable")
HISTORY_LENGTH = 50  # events a task's history keeps at most (about 190 bytes each); see compact_history
WORKER_ALIVE_MS = 5000  # a worker whose last heartbeat is older is not counted as alive

# Texts a task's events carry when the system, not the task, ends or restarts it.
LOST_RUNNING = "failed: worker lost: no report for {seconds:g} s"
LOST_QUEUED = "failed: worker lost before the task started: no word from it for {seconds:g} s"
RESTARTED = "restarted after its worker %s (attempt %d of %d)"
GAVE_UP = "failed: its worker %s during attempt %d of %d; not run again"
REQUEUED = "queued: its worker stopped; it runs again when a worker starts"
CANCELLED = "cancelled"
REVOKED = "cancelled: revoked through Celery"
KEEP_PERCENT = -1  # record(): keep the task's current percent

# Shared by every script below. KEYS: task hash, task history list, stream, recent set, trimmed
# marker, leases. ARGV: task id, ts, retention (s), stream length, trim slack, lease (ms), history
# length, then the script's own.
_STORE_EVENT = """
local function is_final(state)
  return state == 'succeeded' or state == 'failed' or state == 'cancelled'
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Give the event the next seq and a cursor; store it as the latest state and in the history.
-- Trimming is exact and remembered, so the relay knows whether a cursor's successors are all kept.
local current = redis.call('HGET', KEYS[1], 'state')
local attempt = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '1')
local percent_now = tonumber(redis.call('HGET', KEYS[1], 'percent') or '0')

-- Keep a task's history to ARGV[7] events: past that, keep the first and the last event of each stretch
-- of one state and attempt (every state change and the latest progress) and drop the reports between.
-- One pass over ARGV[7] + 1 events leaves a few: amortised O(1) per event.
local function compact_history()
  local events = redis.call('LRANGE', KEYS[2], 0, -1)
  local stretch = {}
  for i, raw in ipairs(events) do
    local event = cjson.decode(raw)
    stretch[i] = event.state .. '/' .. tostring(event.attempt)
  end
  local kept = {}
  for i, raw in ipairs(events) do
    if i == 1 or i == #events or stretch[i] ~= stretch[i - 1] or stretch[i] ~= stretch[i + 1] then
      kept[#kept + 1] = raw
    end
  end
  local limit = tonumber(ARGV[7])
  if #kept > limit then  -- more state changes than fit (many attempts): the first event and the newest
    local newest = {kept[1]}
    for i = #kept - limit + 2, #kept do newest[#newest + 1] = kept[i] end
    kept = newest
  end
  redis.call('DEL', KEYS[2])
  redis.call('RPUSH', KEYS[2], unpack(kept))
end

local function store_event(state, percent, message, attempt)
  local task_id, ts = ARGV[1], tonumber(ARGV[2])
  local event = {task_id = task_id, state = state, percent = percent, message = message,
                 seq = redis.call('HINCRBY', KEYS[1], 'seq', 1), attempt = attempt, ts = ts}
  local cursor = redis.call('XADD', KEYS[3], '*', 'event', cjson.encode(event))
  local excess = redis.call('XLEN', KEYS[3]) - tonumber(ARGV[4])
  if excess > tonumber(ARGV[5]) then
    local doomed = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', excess)
    redis.call('SET', KEYS[5], doomed[#doomed][1])
    redis.call('XTRIM', KEYS[3], 'MAXLEN', ARGV[4])
  end
  event.cursor = cursor
  local encoded = cjson.encode(event)
  redis.call('HSET', KEYS[1], 'state', state, 'event', encoded, 'percent', percent, 'attempt', attempt)
  if not current then redis.call('HSET', KEYS[1], 'created', ARGV[2]) end
  if is_final(state) then redis.call('HSET', KEYS[1], 'finished', ARGV[2]) end
  if redis.call('RPUSH', KEYS[2], encoded) > tonumber(ARGV[7]) then compact_history() end
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  if not current then
    redis.call('ZADD', KEYS[4], ts, task_id)
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ts - tonumber(ARGV[3]))
  end
  if state == 'running' then
    redis.call('ZADD', KEYS[6], now_ms() + tonumber(ARGV[6]), task_id)
  else
    redis.call('ZREM', KEYS[6], task_id)
  end
  return state
end

-- End the task `failed` as the system (not the task) decided: its error says why, as {type, message}.
local function store_failure(error_type, percent, message, attempt)
  store_event('failed', percent, message, attempt)
  local reason = string.gsub(message, '^failed: ', '')
  redis.call('HSET', KEYS[1], 'error', cjson.encode({type = error_type, message = reason}))
  return 'failed'
end
"""

# Record what a task (or the server, for `queued`) reports. Refused after a final state; turned
# into `cancelled` when a cancel was asked, into `queued` when its worker is stopping; percent
# never goes back within one attempt (a negative percent keeps the current one). A report retried after a lost reply is stored once.
# ARGV[8..]: state, percent, message, report id, requeued message, then the outcome (JSON, or ''):
# the result, kept only if the task is stored `succeeded`, and the error, kept only if `failed`.
_REPORT = _STORE_EVENT + """
if is_final(current) then return false end
local state, percent, message = ARGV[8], tonumber(ARGV[9]), ARGV[10]
if redis.call('HGET', KEYS[1], 'report') == ARGV[11] then return current end
redis.call('HSET', KEYS[1], 'report', ARGV[11])
local cancel = redis.call('HGET', KEYS[1], 'cancel')
if cancel and state ~= 'failed' then
  state, message = 'cancelled', cancel
elseif state == 'running' and redis.call('HGET', KEYS[1], 'requeue') then
  redis.call('HDEL', KEYS[1], 'requeue')
  state, message = 'queued', ARGV[12]
end
if percent < 0 then percent = percent_now end
if state == 'running' and current == 'running' then percent = math.max(percent, percent_now) end
store_event(state, percent, message, attempt)
if state == 'succeeded' and (ARGV[13] or '') ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[13]) end
if state == 'failed' and (ARGV[14] or '') ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[14]) end
return state
"""

# A new task: its record (kind, params) and its first event, `queued`. ARGV[8..]: kind, params (JSON),
# message.
_CREATE = _STORE_EVENT + """
if current then return false end
redis.call('HSET', KEYS[1], 'kind', ARGV[8], 'params', ARGV[9])
return store_event('queued', 0, ARGV[10], 1)
"""

# A worker starts running the task. A task that had started before was interrupted (its worker
# died, or stopped and requeued it): it runs as the next attempt, or fails after the last one.
# Return the state stored (only `running` means: go on), or false for a finished task.
# ARGV[8..]: max attempts, first message, restarted format, gave-up format.
_BEGIN = _STORE_EVENT + """
if is_final(current) then return false end
local max_attempts, message = tonumber(ARGV[8]), ARGV[9]
redis.call('HDEL', KEYS[1], 'requeue')
if redis.call('HGET', KEYS[1], 'started') then
  local why = current == 'queued' and 'stopped' or 'died'
  if attempt >= max_attempts then
    return store_failure('WorkerLost', percent_now, string.format(ARGV[11], why, attempt, max_attempts), attempt)
  end
  attempt = attempt + 1
  message = string.format(ARGV[10], why, attempt, max_attempts)
end
-- When this attempt began: set before anything else, so a task that began once is known to have.
redis.call('HSET', KEYS[1], 'started', ARGV[2])
local cancel = redis.call('HGET', KEYS[1], 'cancel')
if cancel then return store_event('cancelled', 0, cancel, attempt) end
return store_event('running', 0, message, attempt)
"""

# End a task whose lease ran out (checked again here: it may have reported since it was found).
# ARGV[8..]: message for a running task, message for a task that had not started.
_EXPIRE = _STORE_EVENT + """
local deadline = redis.call('ZSCORE', KEYS[6], ARGV[1])
if not deadline or tonumber(deadline) > now_ms() then return false end
if not current or is_final(current) then
  redis.call('ZREM', KEYS[6], ARGV[1])
  return false
end
return store_failure('WorkerLost', percent_now, current == 'queued' and ARGV[9] or ARGV[8], attempt)
"""

# Ask a task to stop: a queued one ends `cancelled` now, a running one at its next report.
# Return its state before the request ('' for an unknown task). ARGV[8]: the cancelled message.
_REQUEST_CANCEL = _STORE_EVENT + """
if not current then return '' end
if is_final(current) then return current end
redis.call('HSET', KEYS[1], 'cancel', ARGV[8])
if current == 'queued' then store_event('cancelled', percent_now, ARGV[8], attempt) end
return current
"""

# A worker took the task from the queue: lease it, so a worker that dies before starting it is
# noticed too.
_HOLD = _STORE_EVENT + """
if current == 'queued' and not redis.call('ZSCORE', KEYS[6], ARGV[1]) then
  redis.call('ZADD', KEYS[6], now_ms() + tonumber(ARGV[6]), ARGV[1])
end
return current or false
"""

# The worker running the task is stopping: its next report puts it back in the queue.
_REQUEST_REQUEUE = _STORE_EVENT + """
if current == 'running' then redis.call('HSET', KEYS[1], 'requeue', '1') end
return current or false
"""


# Forget the oldest finished tasks beyond the retained count (their state, history and place in
# the recent list); unfinished ones stay whatever their age. Keys are built here from the task ids
# (a single Redis, as everywhere in this module). KEYS: recent set. ARGV: tasks to keep, most per call.
_FORGET_OLDEST = """
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local forgotten = 0
for _, task_id in ipairs(redis.call('ZRANGE', KEYS[1], 0, math.min(excess, tonumber(ARGV[2])) - 1)) do
  local state = redis.call('HGET', 'task:' .. task_id, 'state')
  if state ~= 'queued' and state ~= 'running' then
    redis.call('DEL', 'task:' .. task_id, 'task:' .. task_id .. ':events')
    redis.call('ZREM', KEYS[1], task_id)
    forgotten = forgotten + 1
  end
end
return forgotten
"""
FORGET_BATCH = 1000  # tasks forgotten per call at most: one sweep stays short


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached, so no task can be started or looked up."""


class ServerBusy(RuntimeError):
    """Every Redis connection of this process stayed busy for POOL_TIMEOUT: the request waited in vain."""


class _WaitingPool(redis.BlockingConnectionPool):
    """A connection pool that waits for a free connection, and says so when none comes."""

    def get_connection(self, *args, **kwargs):
        try:
            return super().get_connection(*args, **kwargs)
        except redis.ConnectionError as exc:
            if str(exc) == "No connection available.":  # redis-py's words for a pool timeout
                raise ServerBusy(f"the server is busy: no Redis connection came free within "
                                 f"{self.timeout:g} s; try again in a moment") from None
            raise


def _keys(task_id):
    return [f"task:{task_id}", f"task:{task_id}:events", STREAM, RECENT, TRIMMED, LEASES]


class TaskProgress:
    """Record task events in Redis and read them back: latest state, history, stream, leases."""

    def __init__(self, redis_url, retention_seconds=24 * 3600, stream_length=100_000, lease_seconds=10.0,
                 max_attempts=3, retention_count=10_000, history_length=HISTORY_LENGTH):
        self.redis_url = redis_url
        self.retention_seconds = retention_seconds
        self.stream_length = stream_length
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.retention_count = retention_count
        self.history_length = history_length
        self._pid = None

    def _connect(self):
        """Return this process's Redis client and scripts, made anew after a fork."""
        if self._pid != os.getpid():
            pool = _WaitingPool.from_url(self.redis_url, decode_responses=True, max_connections=POOL_SIZE,
                                         timeout=POOL_TIMEOUT, socket_connect_timeout=2, socket_timeout=5)
            client = redis.Redis(connection_pool=pool)
            self._redis = client
            self._scripts = {name: client.register_script(source) for name, source in (
                ("report", _REPORT), ("create", _CREATE), ("begin", _BEGIN), ("expire", _EXPIRE), ("cancel", _REQUEST_CANCEL),
                ("hold", _HOLD), ("requeue", _REQUEST_REQUEUE))}
            self._forget_oldest = client.register_script(_FORGET_OLDEST)
            self._stream_reader = None
            self._pid = os.getpid()
        return self._redis

    def client(self):
        """Return this process's Redis client."""
        return self._connect()

    def pipeline(self):
        """Return a pipeline on this process's client, for record_on() (bulk senders)."""
        return self._connect().pipeline(transaction=False)

    def _run(self, script, task_id, *args, client=None):
        self._connect()
        common = [task_id, time.time(), self.retention_seconds, self.stream_length, TRIM_SLACK,
                  int(self.lease_seconds * 1000), self.history_length]
        return self._scripts[script](keys=_keys(task_id), args=common + list(args), client=client)

    def create(self, task_id, kind, params, message):
        """Record a new task of kind with its params (a JSON object), queued; return False if task_id exists."""
        encoded = json.dumps(params, separators=(",", ":"), allow_nan=False)
        return bool(self._guard(lambda: self._run("create", task_id, kind, encoded, message)))

    def record(self, task_id, state, percent, message, retry_for=0.0, result=None, error=None):
        """Record a task's new state; return the state stored, or None if the task was already final.

        The state stored is `cancelled` instead when a cancel was asked for, and `queued` when the
        task's worker is stopping: callers check it. With retry_for, a Redis outage is waited out
        for up to that many seconds (the worker's way); without, it fails at once (a request's way).
        A final record keeps its outcome: result (any JSON value) if stored `succeeded`, error
        ({type, message}) if stored `failed`.
        """
        report_id = uuid.uuid4().hex[:16]  # the same on every retry: stored once
        outcome = [_json_or_empty(result), _json_or_empty(error)]
        raw = self._retrying(retry_for, lambda: self._run(
            "report", task_id, str(TaskState(state)), int(percent), message, report_id, REQUEUED, *outcome))
        return TaskState(raw) if raw else None

    def record_on(self, pipe, task_id, state, percent, message, result=None):
        """Queue a record of a task's new state (with its result, if final) on a pipeline() of this store
        (bulk senders)."""
        self._run("report", task_id, str(TaskState(state)), int(percent), message, uuid.uuid4().hex[:16],
                  REQUEUED, _json_or_empty(result), "", client=pipe)

    def begin(self, task_id, message, retry_for=0.0):
        """Mark the task running (as its next attempt if it had started before); return the state stored.

        Only `running` means the task should do its work; None means it had already finished.
        """
        raw = self._retrying(retry_for, lambda: self._run(
            "begin", task_id, self.max_attempts, message, RESTARTED, GAVE_UP))
        return TaskState(raw) if raw else None

    def request_cancel(self, task_id, message=CANCELLED):
        """Ask a task to stop; return its state before the request, or None for an unknown task."""
        state = self._guard(lambda: self._run("cancel", task_id, message))
        return TaskState(state) if state else None

    def request_requeue(self, task_id):
        """Ask a running task to go back to the queue at its next report (its worker is stopping)."""
        self._guard(lambda: self._run("requeue", task_id))

    def hold(self, task_id):
        """Lease a queued task that a worker has just taken from the queue."""
        self._guard(lambda: self._run("hold", task_id))

    def expire_leases(self):
        """End, as failed, every task whose lease ran out; return their ids."""
        def sweep():
            seconds, micros = self.client().time()
            due = self.client().zrangebyscore(LEASES, "-inf", seconds * 1000 + micros // 1000, start=0, num=100)
            lost_running = LOST_RUNNING.format(seconds=self.lease_seconds)
            lost_queued = LOST_QUEUED.format(seconds=self.lease_seconds)
            return [task_id for task_id in due if self._run("expire", task_id, lost_running, lost_queued)]
        return self._guard(sweep)

    def forget_oldest(self):
        """Forget the oldest finished tasks beyond retention_count; return how many were forgotten.

        What a task keeps (its state and history, about 6 KB for a 10-second task, 11 KB at most with
        demo-sized messages) is otherwise bounded only by TASK_RETENTION_SECONDS: a busy system would fill
        Redis, and with it the broker.
        """
        self._connect()
        return self._guard(lambda: self._forget_oldest(keys=[RECENT], args=[self.retention_count, FORGET_BATCH]))

    def footprint(self):
        """Return what the Redis database holds, by family of keys: {family: {keys, bytes, longest}}.

        This store's families are named for what they keep (FAMILIES); any other key (Celery's broker, say)
        is its own family, named by the key with task ids as <id>. bytes is MEMORY USAGE (every element
        counted); longest is the most entries one key of the family holds.
        """
        def read():
            client = self.client()
            names = list(client.scan_iter(count=1000))
            with client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.type(name)
                    pipe.memory_usage(name, samples=0)
                replies = pipe.execute()
            types = replies[0::2]
            with client.pipeline(transaction=False) as pipe:
                for name, kind in zip(names, types):
                    getattr(pipe, _LENGTH_COMMANDS.get(kind, "exists"))(name)
                lengths = pipe.execute()
            return zip(names, replies[1::2], lengths)
        families = {}
        for name, size, length in self._guard(read):
            family = families.setdefault(_family(name), {"keys": 0, "bytes": 0, "longest": 0})
            family["keys"] += 1
            family["bytes"] += size or 0  # a key gone since the scan counts nothing
            family["longest"] = max(family["longest"], length or 0)
        return families

    def redis_uptime(self):
        """Return how many seconds the Redis server has been up."""
        return self._guard(lambda: int(self.client().info("server")["uptime_in_seconds"]))

    def worker_alive(self, name):
        """Note that the worker called name is alive now."""
        def beat():
            seconds, micros = self.client().time()
            now = seconds * 1000 + micros // 1000
            with self.client().pipeline(transaction=True) as pipe:
                pipe.zadd(WORKERS, {name: now})
                pipe.zremrangebyscore(WORKERS, "-inf", now - 10 * WORKER_ALIVE_MS)
                pipe.execute()
        self._guard(beat)

    def worker_gone(self, name):
        """Note that the worker called name has stopped."""
        self._guard(lambda: self.client().zrem(WORKERS, name))

    def worker_is_alive(self, name):
        """Tell whether the worker called name sent a heartbeat within the last WORKER_ALIVE_MS."""
        def check():
            seconds, micros = self.client().time()
            beat = self.client().zscore(WORKERS, name)
            return beat is not None and beat >= seconds * 1000 + micros // 1000 - WORKER_ALIVE_MS
        return self._guard(check)

    def live_workers(self):
        """Return how many workers sent a heartbeat within the last WORKER_ALIVE_MS."""
        def count():
            seconds, micros = self.client().time()
            return self.client().zcount(WORKERS, seconds * 1000 + micros // 1000 - WORKER_ALIVE_MS, "+inf")
        return self._guard(count)

    # The event stream, read by the relay (relay.py).

    def tail(self):
        """Return the cursor of the newest event in the stream ("0-0" for an empty stream)."""
        last = self._guard(lambda: self._stream_client().xrevrange(STREAM, count=1))
        return last[0][0] if last else "0-0"

    def read_after(self, cursor, count, block_ms):
        """Return up to count events after cursor, waiting up to block_ms for the first one."""
        reply = self._guard(lambda: self._stream_client().xread({STREAM: cursor}, count=count, block=block_ms))
        return [_decode(entry_id, fields) for _stream, entries in reply or [] for entry_id, fields in entries]

    def events_between(self, after, upto):
        """Return the events after cursor `after`, up to and including cursor `upto`, in order."""
        if cursor_key(after) >= cursor_key(upto):
            return []
        entries = self._guard(lambda: self._stream_client().xrange(STREAM, min=f"({after}", max=upto))
        return [_decode(entry_id, fields) for entry_id, fields in entries]

    def can_resume(self, cursor, upto):
        """Tell whether every event after cursor, up to cursor `upto`, is still in the stream."""
        def read():
            client = self._stream_client()
            trimmed = client.get(TRIMMED)
            exists = cursor_key(cursor) <= cursor_key(upto) or bool(client.xrange(STREAM, min=cursor, max=cursor))
            return trimmed, exists
        trimmed, exists = self._guard(read)
        return resumable(cursor, trimmed, exists)

    def _stream_client(self):
        """Return this process's client for stream reads: its own connection, as reads block."""
        self._connect()
        if self._stream_reader is None:
            self._stream_reader = redis.Redis.from_url(self.redis_url, decode_responses=True,
                                                       socket_connect_timeout=2, socket_timeout=5)
        return self._stream_reader

    def stop_requested(self, task_id):
        """Tell whether a task should stop: a cancel or a requeue was asked for, or it has ended."""
        def read():
            return self.client().hmget(f"task:{task_id}", "cancel", "requeue", "state")
        cancel, requeue, state = self._guard(read)
        return bool(cancel or requeue) or not state or TaskState(state).is_final

    def latest(self, task_id):
        """Return the task's latest event with its record (protocol.RECORD_FIELDS), or None for an
        unknown (or expired) task."""
        return self.records([task_id])[0] if task_id else None

    def records(self, task_ids):
        """Return the latest event with its record of each of task_ids (None for an unknown one); one round trip."""
        def read():
            with self.client().pipeline(transaction=False) as pipe:
                for task_id in task_ids:
                    pipe.hmget(f"task:{task_id}", *_RECORD_HASH_FIELDS)
                return pipe.execute()
        return [_record(values) for values in self._guard(read)] if task_ids else []

    def history(self, task_id):
        """Return the task's history in order: every event, or for a task of more than history_length
        events every state change and its latest progress, besides the newest events (empty for an unknown task)."""
        return [json.loads(raw) for raw in
                self._guard(lambda: self.client().lrange(f"task:{task_id}:events", 0, -1))]

    def recent(self, limit=protocol.RECENT_TASKS_LIMIT):
        """Return the latest event with its record of each recent task, newest first."""
        def read():
            task_ids = self.client().zrevrange(RECENT, 0, limit - 1)
            with self.client().pipeline(transaction=False) as pipe:
                for task_id in task_ids:
                    pipe.hmget(f"task:{task_id}", *_RECORD_HASH_FIELDS)
                return pipe.execute()
        return [record for record in map(_record, self._guard(read)) if record]

    def unfinished(self, task_ids):
        """Return those of task_ids whose task is queued or running (not final, nor expired); one round trip."""
        def read():
            with self.client().pipeline(transaction=False) as pipe:
                for task_id in task_ids:
                    pipe.hget(f"task:{task_id}", "state")
                return pipe.execute()
        return [task_id for task_id, state in zip(task_ids, self._guard(read))
                if state and not TaskState(state).is_final]

    def ping(self):
        """Tell whether Redis answers."""
        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError, ServerBusy):
            return False

    def _guard(self, call):
        try:
            return call()
        except (redis.RedisError, OSError) as exc:
            raise self.unavailable_error() from exc

    def _retrying(self, seconds, call):
        """Return call(), retrying with backoff while Redis is unreachable, for up to seconds."""
        deadline = time.monotonic() + seconds
        delay = 0.05
        while True:
            try:
                return self._guard(call)
            except RedisUnavailable as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("%s; retrying in %.1f s", exc, delay)
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0)

    def unavailable_error(self):
        """Return the error that explains Redis cannot be reached, and what to do."""
        return RedisUnavailable(f"Redis is not reachable at {config.redacted(self.redis_url)}: "
                                "start redis-server, set REDIS_URL, or use run_all.py, "
                                "which starts one for you")


# footprint()'s names for this store's keys, by their form (task ids as <id>).
FAMILIES = {"task:<id>": "task records", "task:<id>:events": "task histories", STREAM: "event stream",
            TRIMMED: "trimmed marker", RECENT: "recent tasks", LEASES: "leases", WORKERS: "workers"}
_TASK_ID_IN_KEY = re.compile(r"[0-9a-f]{32}")
_LENGTH_COMMANDS = {"list": "llen", "stream": "xlen", "zset": "zcard", "hash": "hlen", "set": "scard"}


def _family(key):
    """Return the family a key belongs to: a FAMILIES name for this store's keys, else the key's form."""
    form = _TASK_ID_IN_KEY.sub("<id>", key)
    return FAMILIES.get(form, form)


def resumable(cursor, trimmed, exists):
    """Tell whether a client can resume after cursor: nothing after it was trimmed, and it exists.

    trimmed is the newest cursor no longer in the stream (None if nothing was trimmed); exists
    tells whether the cursor is at or before the reader's position, or still in the stream (a
    cursor past both came from a Redis that lost its data).
    """
    if trimmed and cursor_key(cursor) < cursor_key(trimmed):
        return False
    return exists


def cursor_key(cursor):
    """Return a cursor ("<ms>-<seq>") as a tuple that sorts as the stream does."""
    ms, seq = cursor.split("-")
    return int(ms), int(seq)


# The task hash's fields that make a record, in the order _record() reads them.
_RECORD_HASH_FIELDS = ("event", "kind", "params", "created", "started", "finished", "result", "error")


def _record(values):
    """Return a task's latest event with its record, from its hash's _RECORD_HASH_FIELDS (None if it has no event)."""
    event, kind, params, created, started, finished, result, error = values
    if not event:
        return None
    record = json.loads(event)
    record.update(kind=kind or None, params=json.loads(params) if params else None,
                  created=_time(created), started=_time(started), finished=_time(finished),
                  result=json.loads(result) if result else None, error=json.loads(error) if error else None)
    return record


def _time(raw):
    return float(raw) if raw else None


def _json_or_empty(value):
    return "" if value is None else json.dumps(value, separators=(",", ":"), allow_nan=False)


def _decode(entry_id, fields):
    event = json.loads(fields["event"])
    event["cursor"] = entry_id
    return event


def from_settings(settings):
    """Return a TaskProgress configured by settings (shared/config.py)."""
    return TaskProgress(settings.redis_url, settings.task_retention_seconds, settings.event_stream_length,
                        settings.task_lease_seconds, settings.task_max_attempts, settings.task_retention_count)


def init_app(app):
    """Give the app its TaskProgress."""
    app.extensions["task_progress"] = from_settings(app.config["SETTINGS"])


def get():
    """Return the current app's TaskProgress."""
    from flask import current_app
    return current_app.extensions["task_progress"]

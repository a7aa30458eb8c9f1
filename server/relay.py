"""Deliver task events to this server's clients in stream order, replaying what each one missed.

One relay per server process tails the Redis Stream of task events. It alone sends `task progress`
to clients, so for every client the order is the stream's order: when a client (re)connects with the
last cursor it saw, the relay sends it every event after that cursor, then adds it to the live room,
with no gap and no duplicate in between. Clients that asked for batches get each read of the stream
as one `task progress batch` message: encoded once, one websocket frame per client, however many
events it holds.

Sending one message to every client costs the server about the same per client whatever the
message holds (a websocket frame, a system call), so under a steady flow the relay gathers events
into fewer, larger batches: after each batch it waits ``pace(clients)`` before reading again, 0.2 ms
per batch client (0.4 ms under threading, whose sends cost twice as much), at most 50 ms, none under
1 ms. A hundred eventlet clients wait 20 ms (about a display frame), so at 200 events/s a message
holds about four events and costs a quarter as much per event. An event after a quiet spell goes out
at once; nothing is dropped, only gathered.
"""
import logging
import queue
import threading
import time

from shared import protocol

from .progress import RedisUnavailable

log = logging.getLogger(__name__)

LIVE_ROOM = "task-events"  # clients that take one event per message (the original protocol)
LIVE_BATCH_ROOM = "task-event-batches"  # clients that take `task progress batch`
BLOCK_MS = 50  # longest wait before a newly connected client is served
BATCH = 1000
# Seconds between batches per batch client (see pace()), by async mode: under threading a send wakes
# the client's writer thread, about twice the CPU of eventlet's greenlet switch.
PACE_PER_CLIENT = {"eventlet": 0.0002, "threading": 0.0004}
MAX_PACE = 0.05
MIN_PACE = 0.001


class Relay:
    """Tail the task event stream and fan it out; serve each joining client's catch-up first."""

    def __init__(self, socketio, task_progress):
        self._socketio = socketio
        self._store = task_progress
        self._joins = queue.SimpleQueue()
        self._starting = threading.Lock()
        self._started = False

    def join(self, sid, cursor, batch=False):
        """Queue a client that just connected, with the last cursor it saw (or None)."""
        with self._starting:
            if not self._started:
                self._started = True
                self._socketio.start_background_task(self.run, self._start_position())
        self._joins.put((sid, cursor, batch))

    def _start_position(self):
        # Fixed now, before the first client's connection completes, so that every event
        # recorded after it connected reaches it live.
        try:
            return self._store.tail()
        except RedisUnavailable:
            return None  # run() finds it once Redis is back

    def run(self, last_id=None):
        """Relay events until the process ends, riding out Redis outages."""
        down_since = None
        while True:
            try:
                if last_id is None:
                    last_id = self._store.tail()
                events = self._store.read_after(last_id, BATCH, BLOCK_MS)
                pause = 0
                # Clients that connected while the read waited get everything before this batch
                # now, and the batch live: a client connected before an event was relayed sees it.
                self._serve_joins(last_id)
                if events:
                    if self._has_members(LIVE_ROOM):
                        self._send_each(events, LIVE_ROOM)
                    batch_clients = self._count(LIVE_BATCH_ROOM)
                    if batch_clients:
                        self._send_batch(events, LIVE_BATCH_ROOM)
                        pause = pace(batch_clients, self._socketio.async_mode)
                    last_id = events[-1]["cursor"]
                if down_since is not None:
                    log.info("Redis is back after %.0fs; relaying task events again",
                             time.monotonic() - down_since)
                    down_since = None
                if pause:
                    self._socketio.sleep(pause)  # events meanwhile wait in the stream: one batch
            except RedisUnavailable as exc:
                if down_since is None:
                    down_since = time.monotonic()
                    log.error("cannot read task events: %s", exc)
                time.sleep(1)
            except Exception:
                log.exception("relay failed; going on in 1s")
                time.sleep(1)

    def _serve_joins(self, last_id):
        joined = []
        while True:
            try:
                joined.append(self._joins.get_nowait())
            except queue.Empty:
                break
        # Clients that get the task list get one list, read and encoded once for all of them: after
        # a server restart every page reconnects at once.
        needs_list = {}  # reset -> sids
        for sid, cursor, batch in joined:
            if not self._replay(sid, cursor, batch, last_id):
                needs_list.setdefault(cursor is not None, []).append(sid)
        if needs_list:
            tasks = self._store.recent()
            for reset, sids in needs_list.items():
                self._socketio.emit(protocol.TASK_LIST, {"tasks": tasks, "cursor": last_id, "reset": reset},
                                    namespace=protocol.NAMESPACE, to=sids, ignore_queue=True)
        for sid, _cursor, batch in joined:
            self._socketio.server.enter_room(sid, LIVE_BATCH_ROOM if batch else LIVE_ROOM,
                                             namespace=protocol.NAMESPACE)

    def _replay(self, sid, cursor, batch, last_id):
        """Send sid every event after its cursor up to last_id; return False when it needs the task list."""
        if cursor is not None and self._store.can_resume(cursor, last_id):
            events = self._store.events_between(cursor, last_id)
            send = self._send_batch if batch else self._send_each
            for start in range(0, len(events), BATCH):
                send(events[start:start + BATCH], sid)
            log.info("replayed %d events to %s after %s", len(events), sid, cursor)
            return True
        if cursor is not None:
            log.info("cursor %s of %s is no longer retained: sending the task list", cursor, sid)
        return False

    # Each server process runs its own relay: never echo through the message queue.

    def _send_each(self, events, to):
        for event in events:
            self._socketio.emit(protocol.TASK_PROGRESS, event, namespace=protocol.NAMESPACE, to=to,
                                ignore_queue=True)

    def _send_batch(self, events, to):
        self._socketio.emit(protocol.TASK_PROGRESS_BATCH, {"events": events},
                            namespace=protocol.NAMESPACE, to=to, ignore_queue=True)

    def _has_members(self, room):
        participants = self._socketio.server.manager.get_participants(protocol.NAMESPACE, room)
        return next(participants, None) is not None

    def _count(self, room):
        return sum(1 for _ in self._socketio.server.manager.get_participants(protocol.NAMESPACE, room))


def pace(clients, async_mode="eventlet"):
    """Return how long the relay waits after a batch to clients before reading the next one.

    No wait under MIN_PACE: a few clients cost little per message, and eventlet's hub sleeps at least a
    millisecond (its poll's resolution), which would hold every event to one client back by that much.
    """
    wait = min(MAX_PACE, clients * PACE_PER_CLIENT[async_mode])
    return wait if wait >= MIN_PACE else 0

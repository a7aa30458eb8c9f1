"""The link to the server: one QObject owns python-socketio's Client and reports it as Qt signals.

Threads: python-socketio calls the ``_on_*`` handlers on its own threads, one message at a time
and in the order the messages arrived (see shared/socketio_client.py). Those handlers only check the
payload, note the resume cursor and emit a signal; everything else (the connection state, pending
requests) lives on the GUI thread, in slots. Nothing here blocks the GUI thread: connecting runs
on a thread of its own, emitting only queues a packet, and closing hands the (sometimes slow)
disconnect to a throwaway thread.

Nothing lost: the cursor of the last `task progress` (or `task list`) received is sent with every
(re)connection attempt (``_connect_auth()``, with the server's token when it needs one), so the
server replays what the link missed, in order.
The cursor lives as long as the Connection; another server address starts afresh.

Adding a request is one method calling ``_request()`` with what to do on the reply and on a lost
connection. A refused request is reported once, by its own signal: the server's matching
`protocol error` event is held back while requests wait for their acks (``_on_error_arrived()``).
"""
import itertools
import logging
import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit, urlunsplit

import socketio
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from shared import protocol
from shared.socketio_client import OrderedClient

from . import payloads

log = logging.getLogger(__name__)

RECONNECTION_DELAY = 1.0  # seconds before the first retry; doubled on each failure...
RECONNECTION_DELAY_MAX = 5.0  # ...up to this
CONNECT_TIMEOUT = 5.0  # seconds the namespace handshake may take
REQUEST_TIMEOUT_MS = 10_000  # how long a request waits for the server's ack


class ConnectionState(StrEnum):
    """What the link to the server is doing."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass
class _Link:
    """One python-socketio client for one URL; replaced as a whole when the URL changes."""

    generation: int
    url: str
    client: socketio.Client
    token: str | None = None  # the server's token (see README's Security section), sent in auth
    stop: threading.Event = field(default_factory=threading.Event)
    errors_reported: int = 0  # connect_error events so far (python-socketio's threads)


@dataclass
class _Request:
    """A message waiting for the server's ack (GUI thread only)."""

    on_reply: object  # called with the ack's arguments
    on_lost: object  # called with a reason when no ack can come any more
    reports_refusal: bool = True  # on_reply reports an `error` ack (the `protocol error` twin is dropped)


def split_token(url):
    """Return (url without its query, the token in its ?token=… or None): the URL a server prints."""
    parts = urlsplit(url.strip())
    token = parse_qs(parts.query).get(protocol.AUTH_TOKEN_FIELD, [None])[0]
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", "")), token


def check_url(url):
    """Return url if a socket.io client can use it, else raise ValueError saying why."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a server address like http://127.0.0.1:5000")
    try:
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    return url.strip()


class Connection(QObject):
    """Connect to the server, keep reconnecting, send requests and report what arrives."""

    # Public signals, always received on the GUI thread.
    state_changed = Signal(str, int, str)  # ConnectionState, attempt number, detail
    message_received = Signal(str)  # the text of a `my response`
    message_not_delivered = Signal(str, str)  # text sent, why the server did not confirm it
    task_started = Signal(str)  # the id in a `start task` ack
    # New TaskUpdates (never stale), in stream order: one signal per message from the server, so a
    # flood costs the GUI thread one queued call per batch, not one per event.
    task_progress = Signal(object)
    # Recent tasks' latest state (TaskUpdates, oldest first), and whether the server could not
    # replay what was missed (too old): then events were lost and only latest states are known.
    task_list_received = Signal(object, bool)
    cancel_accepted = Signal(str)  # task id: the server is cancelling it (`cancelled` follows)
    cancel_failed = Signal(str, str, str)  # task id, code ("" when no answer came), message
    history_received = Signal(str, object)  # task id, every TaskUpdate of the task in order
    history_failed = Signal(str, str, str)  # task id, code ("" when no answer came), message
    server_error = Signal(str, str)  # code, message of a `protocol error` or a refused request
    request_failed = Signal(str)  # a request the server never answered
    invalid_message = Signal(str)  # something from the server that was ignored, and why

    # Internal: emitted on python-socketio's threads, handled on the GUI thread.
    _link_event = Signal(int, str, str)  # link generation, "connected" | "disconnected" | "error", detail
    _ack_arrived = Signal(int, object)  # request id, the ack's arguments
    _error_arrived = Signal(int, str, str)  # link generation, code, message of a `protocol error`

    def __init__(self, parent=None, reconnection_delay=RECONNECTION_DELAY,
                 reconnection_delay_max=RECONNECTION_DELAY_MAX):
        super().__init__(parent)
        self._reconnection_delay = reconnection_delay
        self._reconnection_delay_max = reconnection_delay_max
        self._link = None
        self._generation = 0
        self._state = ConnectionState.OFFLINE
        self._attempt = 0
        self._detail = ""
        self._requests = {}
        self._request_ids = itertools.count(1)
        self._held_errors = []  # `protocol error`s that an awaited ack may report (GUI thread)
        # Shared by the GUI thread and python-socketio's: guarded by _stream_lock.
        self._stream_lock = threading.Lock()
        self._stream_url = None  # the server that _cursor and _last_seq are about
        self._cursor = None  # the last cursor received: where a reconnection resumes
        self._last_seq = {}  # task id -> highest seq seen
        # Counters for tests and diagnostics; written on python-socketio's thread.
        self.progress_events_received = 0
        self.stale_events_ignored = 0
        self._link_event.connect(self._on_link_event)
        self._ack_arrived.connect(self._on_ack_arrived)
        self._error_arrived.connect(self._on_error_arrived)

    @property
    def url(self):
        """Return the server URL in use, or "" before open()."""
        return self._link.url if self._link else ""

    @property
    def state(self):
        """Return the current ConnectionState."""
        return self._state

    @property
    def attempt(self):
        """Return the number of the reconnection attempt under way, 0 when none is."""
        return self._attempt

    @property
    def detail(self):
        """Return why the link is not connected, when known."""
        return self._detail

    @property
    def cursor(self):
        """Return the cursor the next (re)connection resumes from, or None for a fresh start."""
        with self._stream_lock:
            return self._cursor

    @property
    def is_connected(self):
        """Tell whether requests can be sent now."""
        return self._state is ConnectionState.CONNECTED

    def open(self, url, token=None):
        """Start connecting to url in the background (with the server's token, if it needs one),
        dropping any earlier link."""
        url = check_url(url)
        self._drop_link("the server address changed")
        with self._stream_lock:
            self._generation += 1
            if url != self._stream_url:  # another server's cursor and seqs mean nothing here
                self._stream_url, self._cursor, self._last_seq = url, None, {}
        link = _Link(self._generation, url, self._new_client(), token=token or None)
        self._register_handlers(link)
        self._link = link
        self._set_state(ConnectionState.CONNECTING, 0, "")
        self._start_connecting(link, wait_first=False)

    def reconnect(self):
        """Drop the link and connect again to the same URL, resuming from the last cursor."""
        if self._link:
            self.open(self._link.url, self._link.token)

    def close(self):
        """Disconnect and stop reconnecting, without waiting for the server."""
        self._drop_link("the connection was closed")
        self._set_state(ConnectionState.OFFLINE, 0, "closed")

    def send_message(self, text):
        """Send `my event` with text; return False, sending nothing, when not connected."""
        return self._request(protocol.MY_EVENT, {"data": text},
                             on_reply=lambda *reply: None,  # a refusal also arrives as `protocol error`
                             on_lost=lambda reason: self.message_not_delivered.emit(text, reason),
                             reports_refusal=False)

    def start_task(self, seconds=None):
        """Ask the server for one more background task; return False when not connected."""
        request = {} if seconds is None else {"seconds": seconds}
        return self._request(protocol.START_TASK, request, on_reply=self._task_start_replied,
                             on_lost=lambda reason: self.request_failed.emit(
                                 f"No task id came back for a start request: {reason}"))

    def cancel_task(self, task_id):
        """Ask the server to cancel task_id; return False, sending nothing, when not connected."""
        return self._request(protocol.CANCEL_TASK, {"task_id": task_id},
                             on_reply=lambda reply=None, *_: self._cancel_replied(task_id, reply),
                             on_lost=lambda reason: self.cancel_failed.emit(task_id, "", reason))

    def load_history(self, task_id):
        """Ask the server for every event of task_id; return False when not connected."""
        return self._request(protocol.TASK_HISTORY, {"task_id": task_id},
                             on_reply=lambda reply=None, *_: self._history_replied(task_id, reply),
                             on_lost=lambda reason: self.history_failed.emit(task_id, "", reason))

    # GUI thread: requests and acks.

    def _request(self, event, payload, on_reply, on_lost, reports_refusal=True):
        if not self.is_connected:
            return False
        request_id = next(self._request_ids)
        try:
            self._link.client.emit(event, payload, namespace=protocol.NAMESPACE,
                                   callback=lambda *args: self._ack_arrived.emit(request_id, args))
        except socketio.exceptions.SocketIOError:
            return False  # the link dropped a moment ago; its signal is on the way
        self._requests[request_id] = _Request(on_reply, on_lost, reports_refusal)
        QTimer.singleShot(REQUEST_TIMEOUT_MS, self, lambda: self._expire(request_id))
        return True

    @Slot(int, object)
    def _on_ack_arrived(self, request_id, args):
        request = self._requests.pop(request_id, None)
        if request is None:
            return  # it expired or its link was dropped, and was reported then
        if request.reports_refusal:
            self._drop_held_error(args)
        try:
            request.on_reply(*args)
        except (ValueError, TypeError) as exc:
            self.invalid_message.emit(f"Ignored a malformed reply: {exc}: {payloads.describe(args)}")
        self._release_held_errors()

    def _expire(self, request_id):
        request = self._requests.pop(request_id, None)
        if request is not None:
            request.on_lost(f"the server did not answer within {REQUEST_TIMEOUT_MS // 1000} s")
            self._release_held_errors()

    def _fail_requests(self, reason):
        requests, self._requests = self._requests, {}
        for request in requests.values():
            request.on_lost(reason)
        self._release_held_errors()

    @Slot(int, str, str)
    def _on_error_arrived(self, generation, code, message):
        """Report a `protocol error`, or hold it while an ack that may report it is awaited.

        The server answers a refused request twice, in this order: a `protocol error` event, then
        the ack with the same error. The ack says which request it was, so it is the one shown.
        """
        if generation != self._generation:
            return
        if any(request.reports_refusal for request in self._requests.values()):
            self._held_errors.append((code, message))
        else:
            self.server_error.emit(code, message)

    def _drop_held_error(self, args):
        error = args[0].get("error") if args and isinstance(args[0], dict) else None
        if isinstance(error, dict):
            try:
                self._held_errors.remove(payloads.parse_error(error))
            except ValueError:
                pass  # not held: it came without its twin

    def _release_held_errors(self):
        if self._held_errors and not any(r.reports_refusal for r in self._requests.values()):
            held, self._held_errors = self._held_errors, []
            for code, message in held:
                self.server_error.emit(code, message)

    def _task_start_replied(self, reply=None, *_):
        try:
            self.task_started.emit(payloads.parse_task_ack(reply))
        except payloads.ServerRefused as refusal:
            self.server_error.emit(refusal.code, f"Could not start a task: {refusal.message}")

    def _cancel_replied(self, task_id, reply=None):
        try:
            payloads.parse_cancel_ack(reply)
        except payloads.ServerRefused as refusal:
            self.cancel_failed.emit(task_id, refusal.code, refusal.message)
            return
        self.cancel_accepted.emit(task_id)

    def _history_replied(self, task_id, reply=None):
        try:
            updates, unusable = payloads.parse_history_ack(reply, task_id)
        except payloads.ServerRefused as refusal:
            self.history_failed.emit(task_id, refusal.code, refusal.message)
            return
        if unusable:
            self.invalid_message.emit(f"Ignored {unusable} malformed events in the history of task "
                                      f"{payloads.short_id(task_id)}")
        self.history_received.emit(task_id, updates)

    # GUI thread: the connection state.

    @Slot(int, str, str)
    def _on_link_event(self, generation, event, detail):
        if generation != self._generation:
            return  # from a link dropped since; its news no longer matters
        if event == "connected":
            self._set_state(ConnectionState.CONNECTED, 0, "")
        elif event == "disconnected":
            self._fail_requests("the connection was lost before the server confirmed it")
            self._set_state(ConnectionState.RECONNECTING, 1, _disconnect_text(detail))
            if detail == socketio.Client.reason.SERVER_DISCONNECT:
                # python-socketio retries after a lost transport, not after the server said goodbye
                # (as a server shutting down does), yet that server may well come back.
                self._start_connecting(self._link, wait_first=True)
        elif event == "error":
            attempt = 1 if self._state is ConnectionState.CONNECTING else self._attempt + 1
            self._set_state(ConnectionState.RECONNECTING, attempt, detail)

    def _set_state(self, state, attempt, detail):
        if (state, attempt, detail) != (self._state, self._attempt, self._detail):
            self._state, self._attempt, self._detail = state, attempt, detail
            self.state_changed.emit(str(state), attempt, detail)

    def _drop_link(self, reason):
        link, self._link = self._link, None
        with self._stream_lock:
            self._generation += 1
        self._fail_requests(reason)
        if link is not None:
            link.stop.set()
            # disconnect() can wait seconds for a close handshake: never on the GUI thread.
            threading.Thread(target=_shut_down, args=(link.client,), daemon=True,
                             name=f"socketio-close-{link.generation}").start()

    # Connecting, on a thread of its own.

    def _new_client(self):
        return OrderedClient(reconnection=True, reconnection_attempts=0,
                             reconnection_delay=self._reconnection_delay,
                             reconnection_delay_max=self._reconnection_delay_max,
                             randomization_factor=0.5, handle_sigint=False, logger=False)

    def _start_connecting(self, link, wait_first):
        threading.Thread(target=self._connect_until_up, args=(link, wait_first), daemon=True,
                         name=f"socketio-connect-{link.generation}").start()

    def _connect_until_up(self, link, wait_first):
        """Try to connect until it works or the link is dropped (runs on a thread of its own).

        python-socketio retries a *lost* connection by itself, but its retry of a first
        connection (connect(retry=True)) cannot be stopped by shutdown(), so that one is
        retried here, with the same backoff.
        """
        delay = self._reconnection_delay
        if wait_first and link.stop.wait(_jitter(delay)):
            return
        while not link.stop.is_set():
            errors_before = link.errors_reported
            try:
                link.client.connect(link.url, namespaces=[protocol.NAMESPACE],
                                    auth=lambda: self._connect_auth(link), wait_timeout=CONNECT_TIMEOUT)
                return
            except (socketio.exceptions.ConnectionError, ValueError) as exc:
                if link.client.connected:
                    return  # connected by another path meanwhile
                if link.errors_reported == errors_before:  # a failure connect_error did not report
                    self._link_event.emit(link.generation, "error", _connect_error_text(str(exc)))
            if link.stop.wait(_jitter(delay)):
                return
            delay = min(delay * 2, self._reconnection_delay_max)

    def _connect_auth(self, link):
        """Return the data sent with each (re)connection attempt: where to resume, and the token.

        python-socketio calls it on its own threads, before every attempt.
        """
        auth = {"cursor": self.cursor, "batch": True}
        if link.token:
            auth[protocol.AUTH_TOKEN_FIELD] = link.token
        return auth

    # python-socketio's threads: check, then emit. Never touch anything but signals here.

    def _register_handlers(self, link):
        client, ns = link.client, protocol.NAMESPACE

        def on(event, handler):
            client.on(event, lambda *args: self._guarded(link, event, handler, args), namespace=ns)

        on("connect", lambda: self._on_connect(link))
        on("disconnect", lambda reason=None, *_: self._link_event.emit(
            link.generation, "disconnected", str(reason or "")))
        on("connect_error", lambda data=None, *_: self._on_connect_error(link, data))
        on(protocol.MY_RESPONSE, lambda payload=None, *_: self.message_received.emit(
            payloads.parse_response(payload)))
        on(protocol.TASK_PROGRESS, lambda payload=None, *_: self._take_progress(
            link, [payloads.parse_progress(payload)]))
        on(protocol.TASK_PROGRESS_BATCH, lambda payload=None, *_: self._on_progress_batch(link, payload))
        on(protocol.TASK_LIST, lambda payload=None, *_: self._on_task_list(link, payload))
        on(protocol.PROTOCOL_ERROR, lambda payload=None, *_: self._error_arrived.emit(
            link.generation, *payloads.parse_error(payload)))
        on("*", lambda event, *_: self.invalid_message.emit(
            f"Ignored unknown event {payloads.clip(str(event), 80)!r} from the server"))

    def _guarded(self, link, event, handler, args):
        if link.generation != self._generation:
            return  # from a dropped link
        try:
            handler(*args)
        except (ValueError, TypeError) as exc:
            # A bad payload must cost one log line, never the reading thread or the window.
            self.invalid_message.emit(f"Ignored malformed {event!r} from the server: {exc}: "
                                      f"{payloads.describe(args)}")

    def _on_connect(self, link):
        if link.stop.is_set():  # connected just as the link was dropped
            threading.Thread(target=_shut_down, args=(link.client,), daemon=True).start()
            return
        self._link_event.emit(link.generation, "connected", "")

    def _on_connect_error(self, link, data):
        link.errors_reported += 1
        self._link_event.emit(link.generation, "error", _connect_error_text(data))

    def _on_progress_batch(self, link, payload):
        updates, unusable = payloads.parse_progress_batch(payload)
        if unusable:
            self.invalid_message.emit(f"Ignored {unusable} malformed events of a progress batch")
        self._take_progress(link, updates)

    def _take_progress(self, link, updates):
        with self._stream_lock:  # the cursor moves before anyone hears of the events
            if link.generation != self._generation:
                return  # dropped meanwhile: the next link resumes from the cursor before these
            self.progress_events_received += len(updates)
            for update in updates:
                self._cursor = update.cursor or self._cursor
            news = [update for update in updates if self._is_news(update)]
        if news:
            self.task_progress.emit(news)

    def _on_task_list(self, link, payload):
        task_list = payloads.parse_task_list(payload)
        with self._stream_lock:
            if link.generation != self._generation:
                return
            self._cursor = task_list.cursor or self._cursor
            updates = [update for update in task_list.updates if self._is_news(update)]
        if task_list.unusable:
            self.invalid_message.emit(f"Ignored {task_list.unusable} malformed entries of a task list")
        self.task_list_received.emit(updates, task_list.reset)

    def _is_news(self, update):
        """Tell whether update is newer than what was seen of its task (a stale one is counted).

        Call with _stream_lock held.
        """
        if update.seq <= self._last_seq.get(update.task_id, -1):
            self.stale_events_ignored += 1
            return False
        self._last_seq[update.task_id] = update.seq
        return True


def _shut_down(client):
    """Disconnect client and stop its reconnection loop (blocking: run on a throwaway thread)."""
    try:
        client.shutdown()
        if client.connected:  # a reconnection attempt finished while shutting down
            client.disconnect()
    except Exception:  # the link is being thrown away; nothing useful can be done
        log.debug("error while closing a socket.io client", exc_info=True)


def _jitter(delay):
    """Return delay spread by +/-50%, so clients that lost the same server do not retry in step."""
    return delay * (0.5 + random.random())


def _disconnect_text(reason):
    reasons = {socketio.Client.reason.TRANSPORT_ERROR: "the connection to the server was lost",
               socketio.Client.reason.SERVER_DISCONNECT: "the server closed the connection"}
    return reasons.get(reason, str(reason or "disconnected"))


# What python-socketio reports (often a long requests exception), and what the user is told.
_CONNECT_ERRORS = (("needs its token", "the server needs its token: start the app with --token TOKEN, or "
                                      "open File ▸ Change server… with the URL the server printed"),
                   ("refused", "no server is answering at this address"),
                   ("Name or service not known", "the host name is unknown"),
                   ("nodename nor servname", "the host name is unknown"),
                   ("getaddrinfo", "the host name is unknown"),
                   ("timed out", "the server did not answer in time"),
                   ("Network is unreachable", "the network is unreachable"),
                   ("No route to host", "the server cannot be reached"),
                   ("SSL", "a secure connection could not be set up"))


def _connect_error_text(data):
    if isinstance(data, dict) and "message" in data:
        data = data["message"]
    text = str(data or "the server could not be reached")
    for clue, meaning in _CONNECT_ERRORS:
        if clue.lower() in text.lower():
            return meaning
    return payloads.clip(text, 200)

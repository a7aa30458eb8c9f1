"""The link to the server: one QObject owns python-socketio's Client and reports it as Qt signals.

Threads: python-socketio calls the ``_on_*`` handlers on its own threads, one message at a time
and in the order the messages arrived (see shared/socketio_client.py). Those handlers only check the
payload, move the stream position and emit a signal; everything else (the connection state, pending
requests) lives on the GUI thread, in slots. Nothing here blocks the GUI thread: connecting runs
on a thread of its own, emitting only queues a packet, and closing hands the (sometimes slow)
disconnect to a throwaway thread.

Task news (progress events, `task list`s) does not cost one signal per message: it waits in a
NewsInbox (news_inbox.py) and reaches the GUI thread at most once a frame, in arrival order, however
many messages brought it; under a flood each queued call would also be one more wait for the GIL.

Nothing lost: where the link stands in the server's event stream (the resume cursor, each task's
latest seq) is kept by a StreamPosition (stream_position.py), sent with every (re)connection attempt
(with the server's token when it needs one) so the server replays what was missed, and used to pass
on only what is news.

Adding a request is one method calling ``_request()`` with what to do on the reply and on a lost
connection. Every request carries an ack, and a refusal is reported from its ack; the server's
matching `protocol error` event is shown only when no request is waiting for an answer.

The kinds of task come over HTTP (``GET /task-kinds``, with the token when the server needs one),
through a QNetworkAccessManager on the GUI thread, each time the link connects.
"""
import itertools
import logging
import time
from dataclasses import dataclass
from enum import StrEnum

import socketio
from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from shared import protocol

from . import payloads, text
from .link import Link
from .news_inbox import News, NewsInbox
from .stream_position import StreamPosition

log = logging.getLogger(__name__)

RECONNECTION_DELAY = 1.0  # seconds before the first retry; doubled on each failure...
RECONNECTION_DELAY_MAX = 5.0  # ...up to this
REQUEST_TIMEOUT_MS = 10_000  # how long a request waits for the server's ack
NEWS_INTERVAL_MS = 16  # task news reaches the GUI thread at most this often (about one frame)


class ConnectionState(StrEnum):
    """What the link to the server is doing."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass
class _Request:
    """A message waiting for the server's ack (GUI thread only)."""

    what: str  # what failed, in words, if it is refused or never answered
    task_id: str  # the task it is about, or ""
    on_reply: object  # called with the ack's arguments
    on_lost: object  # called with a reason when no ack can come any more, instead of request_failed


class Connection(QObject):
    """Connect to the server, keep reconnecting, send requests and report what arrives."""

    # Public signals, always received on the GUI thread.
    state_changed = Signal(str, int, str)  # ConnectionState, attempt number, detail
    health_changed = Signal(object)  # a payloads.Health: Redis reachable, workers alive, the problem
    message_received = Signal(str)  # the text of a `my response`
    message_not_delivered = Signal(str, str)  # text sent, why the server did not confirm it
    task_started = Signal(str)  # the id in a `start task` ack
    start_refused = Signal(str, str)  # why a start of a kind was refused, the field at fault ("" when none)
    kinds_received = Signal(object)  # the payloads.TaskKinds the server runs, on every (re)connection
    # Tasks' records (TaskUpdates with .record). Their states are not news: a task's state moves on only
    # through its events, so each task's seq runs without gap in what tasks_updated delivers.
    records_received = Signal(object)
    # New TaskUpdates (never stale) as a news_inbox.News: every update in stream order, each task's
    # newest, and the final states. At most one signal per NEWS_INTERVAL_MS, however many messages
    # and events arrived meanwhile, so a flood costs the GUI thread one queued call per frame.
    tasks_updated = Signal(object)
    # Recent tasks' latest state (TaskUpdates, oldest first), and whether the server could not
    # replay what was missed (too old): then events were lost and only latest states are known.
    task_list_received = Signal(object, bool)
    cancel_accepted = Signal(str)  # task id: the server is cancelling it (`cancelled` follows)
    # Task id, every TaskUpdate of its history in order, and those of them that are news.
    history_received = Signal(str, object, object)
    request_failed = Signal(str, str)  # task id ("" when none), what failed and why, in words
    server_error = Signal(str, str)  # code, message of a `protocol error` no request was waiting for
    invalid_message = Signal(str)  # something from the server that was ignored, and why

    # Internal: emitted on python-socketio's threads, handled on the GUI thread.
    _link_event = Signal(int, str, str)  # link generation, "connected" | "disconnected" | "error", detail
    _ack_arrived = Signal(int, object)  # request id, the ack's arguments
    _error_arrived = Signal(int, str, str)  # link generation, code, message of a `protocol error`
    _news_waiting = Signal()  # the NewsInbox was empty and is not any more

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
        self.position = StreamPosition()  # shared with python-socketio's threads (it locks)
        self._position_url = None  # the server the position is about
        self._token = None  # the server's token, when it needs one (README: Security)
        self._link_event.connect(self._on_link_event)
        self._ack_arrived.connect(self._on_ack_arrived)
        self._error_arrived.connect(self._on_error_arrived)
        self._news = NewsInbox()  # filled on python-socketio's threads, taken on the GUI thread
        self._news_delivered = 0.0  # when news last reached the GUI thread (time.monotonic())
        self._news_timer = QTimer(self, singleShot=True)
        self._news_timer.timeout.connect(self._deliver_news)
        self._news_waiting.connect(self._on_news_waiting)
        self._http = QNetworkAccessManager(self)
        self._kinds_reply = None

    @property
    def url(self):
        """Return the server URL in use, or "" before open()."""
        return self._link.url if self._link else ""

    @property
    def cursor(self):
        """Return the cursor the next (re)connection resumes from, or None for a fresh start."""
        return self.position.cursor

    @property
    def is_connected(self):
        """Tell whether requests can be sent now."""
        return self._state is ConnectionState.CONNECTED

    def open(self, url, token=None):
        """Start connecting to url in the background (with the server's token, if it needs one),
        dropping any earlier link."""
        url = text.check_url(url)
        self._token = token or None
        self._drop_link("the server address changed")
        self._generation += 1
        if url != self._position_url:  # another server's cursor and seqs mean nothing here
            self._position_url = url
            self.position.reset()
        self._link = Link(self._generation, url, self._connect_auth, self._link_event.emit,
                          self._reconnection_delay, self._reconnection_delay_max)
        self._register_handlers(self._link)
        self._set_state(ConnectionState.CONNECTING, 0, "")
        self._link.connect_soon()

    def reconnect(self):
        """Drop the link and connect again to the same URL, resuming from the last cursor."""
        if self._link:
            self.open(self._link.url, self._token)

    def close(self):
        """Disconnect and stop reconnecting, without waiting for the server."""
        self._drop_link("the connection was closed")
        self._set_state(ConnectionState.OFFLINE, 0, "closed")

    def send_message(self, message):
        """Send `my event` with message; return False, sending nothing, when not connected."""
        return self._request(protocol.MY_EVENT, {"data": message}, "The message was refused",
                             on_reply=payloads.check_ack,
                             on_lost=lambda reason: self.message_not_delivered.emit(message, reason))

    def start_task(self, seconds=None, kind=None, params=None):
        """Ask the server for one more task: of kind with params, else the original one (of seconds);
        return False when not connected."""
        if kind is not None:
            payload = {"kind": kind, "params": params or {}}
        else:
            payload = {} if seconds is None else {"seconds": seconds}

        def started(reply=None, *_):
            try:
                task_id = payloads.parse_task_ack(reply)
            except payloads.ServerRefused as refusal:
                field = reply.get("error", {}).get("field") if isinstance(reply, dict) else None
                self.start_refused.emit(refusal.message, field if isinstance(field, str) else "")
                raise
            self.task_started.emit(task_id)
        return self._request(protocol.START_TASK, payload, "Could not start a task", on_reply=started)

    def load_records(self, task_ids):
        """Ask for the records of task_ids (at most protocol.MAX_RECORDS_PER_REQUEST); False when not connected."""
        def replied(reply=None, *_):
            updates, unusable = payloads.parse_records_ack(reply)
            if unusable:
                self.invalid_message.emit(f"Ignored {unusable} malformed task records")
            self.records_received.emit(updates)
        return self._request(protocol.TASK_RECORDS, {"task_ids": list(task_ids)}, "Could not load task records",
                             replied)

    def load_kinds(self):
        """Ask the server (over HTTP) for the kinds of task it runs; kinds_received tells."""
        if self._kinds_reply is not None or not self._link:
            return
        request = QNetworkRequest(QUrl(self._link.url.rstrip("/") + protocol.ROUTE_TASK_KINDS))
        request.setRawHeader(b"Accept", b"application/json")
        if self._token:
            request.setRawHeader(b"Authorization", f"Bearer {self._token}".encode())
        request.setTransferTimeout(REQUEST_TIMEOUT_MS)
        self._kinds_reply = self._http.get(request)
        self._kinds_reply.finished.connect(self._kinds_arrived)

    @Slot()
    def _kinds_arrived(self):
        reply, self._kinds_reply = self._kinds_reply, None
        reply.deleteLater()
        body = bytes(reply.readAll())
        try:
            if reply.error() != QNetworkReply.NetworkError.NoError and not body:
                raise ValueError(reply.errorString())
            payload = protocol.parse_json(body)
            if isinstance(payload, dict) and "error" in payload:
                raise ValueError(payloads.parse_error(payload["error"])[1])
            self.kinds_received.emit(payloads.parse_kinds(payload))
        except ValueError as exc:
            self.request_failed.emit("", f"Could not load the kinds of task: {text.clip(str(exc), 300)}")

    def cancel_task(self, task_id):
        """Ask the server to cancel task_id; return False, sending nothing, when not connected."""
        def accepted(reply=None, *_):
            payloads.parse_cancel_ack(reply)
            self.cancel_accepted.emit(task_id)
        return self._request(protocol.CANCEL_TASK, {"task_id": task_id},
                             f"Could not cancel task {text.short_id(task_id)}", accepted, task_id=task_id)

    def load_history(self, task_id):
        """Ask the server for every event of task_id; return False when not connected."""
        return self._request(protocol.TASK_HISTORY, {"task_id": task_id},
                             f"Could not load the history of task {text.short_id(task_id)}",
                             lambda reply=None, *_: self._history_replied(task_id, reply), task_id=task_id)

    # GUI thread: requests and acks.

    def _request(self, event, payload, what, on_reply, task_id="", on_lost=None):
        """Send event with an ack; on_reply takes the ack, raising ServerRefused for a refusal.

        A refusal, or no answer (on_lost, if given, is told instead), is reported as request_failed,
        starting with `what`.
        """
        if not self.is_connected:
            return False
        request_id = next(self._request_ids)
        try:
            self._link.client.emit(event, payload, namespace=protocol.NAMESPACE,
                                   callback=lambda *args: self._ack_arrived.emit(request_id, args))
        except socketio.exceptions.SocketIOError:
            return False  # the link dropped a moment ago; its signal is on the way
        self._requests[request_id] = _Request(what, task_id, on_reply, on_lost)
        QTimer.singleShot(REQUEST_TIMEOUT_MS, self, lambda: self._expire(request_id))
        return True

    @Slot(int, object)
    def _on_ack_arrived(self, request_id, args):
        request = self._requests.pop(request_id, None)
        if request is None:
            return  # it expired or its link was dropped, and was reported then
        try:
            request.on_reply(*args)
        except payloads.ServerRefused as refusal:
            self.request_failed.emit(request.task_id, f"{request.what}: {refusal.message} ({refusal.code})")
        except (ValueError, TypeError) as exc:
            self.invalid_message.emit(f"Ignored a malformed reply: {exc}: {text.describe(args)}")

    def _expire(self, request_id):
        request = self._requests.pop(request_id, None)
        if request is not None:
            self._lost(request, f"the server did not answer within {REQUEST_TIMEOUT_MS // 1000} s")

    def _fail_requests(self, reason):
        requests, self._requests = self._requests, {}
        for request in requests.values():
            self._lost(request, reason)

    def _lost(self, request, reason):
        if request.on_lost:
            request.on_lost(reason)
        else:
            self.request_failed.emit(request.task_id, f"{request.what}: no answer: {reason}")

    @Slot(int, str, str)
    def _on_error_arrived(self, generation, code, message):
        """Report a `protocol error` that no awaited ack will report (the server sends both)."""
        if generation == self._generation and not self._requests:
            self.server_error.emit(code, message)

    def _history_replied(self, task_id, reply=None):
        updates, unusable = payloads.parse_history_ack(reply, task_id)
        if unusable:
            self.invalid_message.emit(f"Ignored {unusable} malformed events in the history of task "
                                      f"{text.short_id(task_id)}")
        self._deliver_news()  # what the position held before the history is shown first
        self.history_received.emit(task_id, updates, self.position.news(updates))

    # GUI thread: task news, at most once a frame.

    @Slot()
    def _on_news_waiting(self):
        """Deliver news now if none was delivered for a frame, else when that frame is over."""
        wait_ms = NEWS_INTERVAL_MS - (time.monotonic() - self._news_delivered) * 1000
        if wait_ms <= 0:
            self._deliver_news()
        elif not self._news_timer.isActive():
            self._news_timer.start(int(wait_ms) + 1)

    def _deliver_news(self):
        """Emit the news gathered so far, in arrival order: tasks_updated and task_list_received (GUI thread)."""
        self._news_timer.stop()
        items = self._news.take()
        if items:
            self._news_delivered = time.monotonic()
        for item in items:
            if isinstance(item, News):
                self.tasks_updated.emit(item)
            else:
                self.task_list_received.emit(item.updates, item.reset)

    # GUI thread: the connection state.

    @Slot(int, str, str)
    def _on_link_event(self, generation, event, detail):
        if generation != self._generation:
            return  # from a link dropped since; its news no longer matters
        if event == "connected":
            self._set_state(ConnectionState.CONNECTED, 0, "")
            self.load_kinds()  # a restarted server may run other kinds
        elif event == "disconnected":
            self._fail_requests("the connection was lost before the server confirmed it")
            self._set_state(ConnectionState.RECONNECTING, 1, text.disconnect_text(detail))
            if detail == socketio.Client.reason.SERVER_DISCONNECT:
                # python-socketio retries after a lost transport, not after the server said goodbye
                # (as a server shutting down does), yet that server may well come back.
                self._link.connect_soon(wait_first=True)
        elif event == "error":
            attempt = 1 if self._state is ConnectionState.CONNECTING else self._attempt + 1
            self._set_state(ConnectionState.RECONNECTING, attempt, detail)

    def _set_state(self, state, attempt, detail):
        if (state, attempt, detail) != (self._state, self._attempt, self._detail):
            self._state, self._attempt, self._detail = state, attempt, detail
            self.state_changed.emit(str(state), attempt, detail)

    def _drop_link(self, reason):
        link, self._link = self._link, None
        self._generation += 1
        self._fail_requests(reason)
        if link is not None:
            link.close()

    def _connect_auth(self):
        """Return the data sent with each (re)connection attempt: where to resume, and the token.

        python-socketio calls it on its own threads, before every attempt.
        """
        auth = {"cursor": self.position.cursor, "batch": True}
        if self._token:
            auth[protocol.AUTH_TOKEN_FIELD] = self._token
        return auth

    # python-socketio's threads: check, then emit. Never touch anything but signals here.

    def _register_handlers(self, link):
        client, ns = link.client, protocol.NAMESPACE

        def on(event, handler):
            client.on(event, lambda *args: self._guarded(link, event, handler, args), namespace=ns)

        on(protocol.MY_RESPONSE, lambda payload=None, *_: self.message_received.emit(
            payloads.parse_response(payload)))
        on(protocol.TASK_PROGRESS, lambda payload=None, *_: self._take_progress(
            link, [payloads.parse_progress(payload)]))
        on(protocol.TASK_PROGRESS_BATCH, lambda payload=None, *_: self._on_progress_batch(link, payload))
        on(protocol.TASK_LIST, lambda payload=None, *_: self._on_task_list(link, payload))
        on(protocol.SYSTEM_HEALTH, lambda payload=None, *_: self.health_changed.emit(
            payloads.parse_health(payload)))
        on(protocol.PROTOCOL_ERROR, lambda payload=None, *_: self._error_arrived.emit(
            link.generation, *payloads.parse_error(payload)))
        on("*", lambda event, *_: self.invalid_message.emit(
            f"Ignored unknown event {text.clip(str(event), 80)!r} from the server"))

    def _guarded(self, link, event, handler, args):
        if link.generation != self._generation:
            return  # from a dropped link
        try:
            handler(*args)
        except (ValueError, TypeError) as exc:
            # A bad payload must cost one log line, never the reading thread or the window.
            self.invalid_message.emit(f"Ignored malformed {event!r} from the server: {exc}: "
                                      f"{text.describe(args)}")

    def _on_progress_batch(self, link, payload):
        updates, unusable = payloads.parse_progress_batch(payload)
        if unusable:
            self.invalid_message.emit(f"Ignored {unusable} malformed events of a progress batch")
        self._take_progress(link, updates)

    def _take_progress(self, link, updates):
        if link.generation != self._generation:
            return  # dropped meanwhile: the next link resumes from the cursor before these
        if self._news.put(self.position.take(updates)):
            self._news_waiting.emit()

    def _on_task_list(self, link, payload):
        task_list = payloads.parse_task_list(payload)
        if link.generation != self._generation:
            return
        if task_list.unusable:
            self.invalid_message.emit(f"Ignored {task_list.unusable} malformed entries of a task list")
        if self._news.put_task_list(self.position.take_list(task_list.updates, task_list.cursor),
                                    task_list.reset):
            self._news_waiting.emit()

"""One python-socketio client for one server URL: connecting on a thread of its own until it is up
or dropped, and closing without ever blocking the caller. No Qt here: it reports through a callback
(the Connection turns its reports into Qt signals)."""
import logging
import random
import threading

import socketio

from shared import protocol
from shared.socketio_client import OrderedClient

from . import text

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0  # seconds the namespace handshake may take
# websocket-client checks each text frame's UTF-8 in pure Python (without the wsaccel extension), which
# held the GIL for half of a 10,000 events/s flood; the frame's decode("utf-8") right after checks the
# same thing in C and fails the same way (the link drops and reconnects), so the Python pass is skipped.
WEBSOCKET_OPTIONS = {"skip_utf8_validation": True}


class Link:
    """A python-socketio client for one URL, replaced as a whole when the URL changes.

    report(generation, event, detail) is called on python-socketio's threads with event
    "connected", "disconnected" (detail: the reason) or "error" (detail: why, in words).
    """

    def __init__(self, generation, url, auth, report, delay, delay_max):
        self.generation = generation
        self.url = url
        self.client = OrderedClient(reconnection=True, reconnection_attempts=0, reconnection_delay=delay,
                                    reconnection_delay_max=delay_max, randomization_factor=0.5,
                                    handle_sigint=False, logger=False,
                                    websocket_extra_options=dict(WEBSOCKET_OPTIONS))
        self._auth = auth
        self._report = report
        self._delay, self._delay_max = delay, delay_max
        self._stop = threading.Event()
        self._errors_reported = 0  # connect_error events so far
        ns = protocol.NAMESPACE
        self.client.on("connect", self._on_connect, namespace=ns)
        self.client.on("disconnect", lambda reason=None, *_: report(generation, "disconnected", str(reason or "")),
                       namespace=ns)
        self.client.on("connect_error", self._on_connect_error, namespace=ns)

    def connect_soon(self, wait_first=False):
        """Start connecting on a thread of its own, after a backoff delay if wait_first."""
        threading.Thread(target=self._connect_until_up, args=(wait_first,), daemon=True,
                         name=f"socketio-connect-{self.generation}").start()

    def close(self):
        """Disconnect and stop reconnecting, on a throwaway thread (a close handshake can take seconds)."""
        self._stop.set()
        threading.Thread(target=_shut_down, args=(self.client,), daemon=True,
                         name=f"socketio-close-{self.generation}").start()

    def _connect_until_up(self, wait_first):
        """Try to connect until it works or the link is closed.

        python-socketio retries a *lost* connection by itself, but its retry of a first
        connection (connect(retry=True)) cannot be stopped by shutdown(), so that one is
        retried here, with the same backoff.
        """
        delay = self._delay
        if wait_first and self._stop.wait(_jitter(delay)):
            return
        while not self._stop.is_set():
            errors_before = self._errors_reported
            try:
                self.client.connect(self.url, namespaces=[protocol.NAMESPACE], auth=self._auth,
                                    wait_timeout=CONNECT_TIMEOUT)
                return
            except (socketio.exceptions.ConnectionError, ValueError) as exc:
                if self.client.connected:
                    return  # connected by another path meanwhile
                if self._errors_reported == errors_before:  # a failure connect_error did not report
                    self._report(self.generation, "error", text.connect_error_text(str(exc)))
            if self._stop.wait(_jitter(delay)):
                return
            delay = min(delay * 2, self._delay_max)

    def _on_connect(self):
        if self._stop.is_set():  # connected just as the link was dropped
            threading.Thread(target=_shut_down, args=(self.client,), daemon=True).start()
            return
        self._report(self.generation, "connected", "")

    def _on_connect_error(self, data=None, *_):
        self._errors_reported += 1
        self._report(self.generation, "error", text.connect_error_text(data))


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

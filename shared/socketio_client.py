"""A python-socketio Client that handles events one at a time, in the order they arrived.

python-engineio's client starts a new thread for every message, so the handler of one event can
overtake the handler of the one before it (python-socketio issue #382): a replay could then reach
a client out of order, and its resume cursor go backwards. Here one thread per client takes the
messages from a queue instead. Used by the desktop app and the tests' recording client.

It overrides two hooks of python-socketio 5.18 / python-engineio 4.15 (`_engineio_client_class`,
`_trigger_event`); tests/unit/test_socketio_client.py fails if an upgrade stops calling either.
A handler must not wait for an ack (`call()`): acks are dispatched on the same thread.
"""
import queue
import threading

import engineio
import socketio


class OrderedEngineIOClient(engineio.Client):
    """An Engine.IO client whose messages are handled in arrival order, on one thread."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inbox = queue.SimpleQueue()
        threading.Thread(target=self._dispatch, daemon=True, name="socketio-dispatch").start()

    def _trigger_event(self, event, *args, run_async=False, **kwargs):
        if event == "message" and run_async:
            self._inbox.put(args)
            return None
        return super()._trigger_event(event, *args, run_async=run_async, **kwargs)

    def stop_dispatching(self):
        """End the dispatching thread once the messages already queued are handled."""
        self._inbox.put(None)

    def _dispatch(self):
        while (args := self._inbox.get()) is not None:
            super()._trigger_event("message", *args, run_async=False)  # logs a handler's error


class OrderedClient(socketio.Client):
    """python-socketio's Client on an OrderedEngineIOClient."""

    def _engineio_client_class(self):
        return OrderedEngineIOClient

    def shutdown(self):
        """Disconnect (or stop reconnecting), then end the dispatching thread."""
        try:
            super().shutdown()
        finally:
            self.eio.stop_dispatching()

"""A real python-socketio client that records everything the server sends it."""
import threading

from shared import protocol
from shared.socketio_client import OrderedClient


class RecordingClient:
    """A socket.io client on the /test namespace that keeps every event it receives, in order.

    Like the real clients it remembers the last cursor it saw and sends it whenever it
    (re)connects, so the server replays what it missed. With batch=True (the page's and the desktop
    app's way) task events come as `task progress batch`; they are recorded one `task progress`
    entry per event all the same, and `batches` counts the messages.
    """

    def __init__(self, server_url, cursor=None, batch=True, transports=None, **client_kwargs):
        client_kwargs.setdefault("reconnection", False)
        self.server_url = server_url
        self.transports = transports  # None: polling, then upgrade to websocket
        self.cursor = cursor
        self.batch = batch
        self.batches = 0
        self.events = []
        self._client_kwargs = client_kwargs
        self._changed = threading.Condition()
        self._generation = 0
        self.sio = None
        self.reconnect()

    def reconnect(self):
        """Connect again (after drop()), resuming from the last cursor seen."""
        self._generation += 1
        generation = self._generation
        self.sio = OrderedClient(**self._client_kwargs)
        self.sio.on("*", lambda event, data=None: self._record(generation, event, data),
                    namespace=protocol.NAMESPACE)
        self.sio.connect(self.server_url, namespaces=[protocol.NAMESPACE], wait_timeout=10,
                         auth=lambda: {"cursor": self.cursor, "batch": self.batch},
                         transports=self.transports)

    def _record(self, generation, event, data):
        with self._changed:
            if generation != self._generation:
                return  # a dropped connection's last words: the new one resumes after our cursor
            if event == protocol.TASK_PROGRESS_BATCH and isinstance(data, dict):
                self.batches += 1
                self.events.extend((protocol.TASK_PROGRESS, e) for e in data["events"])
                self.cursor = data["events"][-1].get("cursor", self.cursor) if data["events"] else self.cursor
            else:
                self.events.append((event, data))
            if event == protocol.TASK_PROGRESS and isinstance(data, dict):
                self.cursor = data.get("cursor", self.cursor)
            elif event == protocol.TASK_LIST and isinstance(data, dict):
                self.cursor = data.get("cursor", self.cursor)
            self._changed.notify_all()

    def drop(self):
        """Lose the connection, keeping what was received; reconnect() resumes."""
        with self._changed:
            self._generation += 1
        self.close()

    def emit(self, event, *args):
        """Send event with args (a tuple is sent as several arguments)."""
        data = args[0] if len(args) == 1 else (tuple(args) if args else None)
        self.sio.emit(event, data, namespace=protocol.NAMESPACE)

    def call(self, event, data=None, timeout=10):
        """Send event and return the server's ack."""
        return self.sio.call(event, data, namespace=protocol.NAMESPACE, timeout=timeout)

    def wait_for(self, predicate, timeout=20, what="event"):
        """Wait until predicate(events) is true; fail with the last events otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.events), timeout):
                raise AssertionError(f"timed out waiting for {what}; last events: {self.events[-8:]}")

    def of(self, event):
        """Return the payloads received for event, in order."""
        with self._changed:
            return [data for name, data in self.events if name == event]

    def responses(self):
        """Return the `data` texts of every `my response` received."""
        return [data["data"] for data in self.of(protocol.MY_RESPONSE)]

    def progress(self, task_id):
        """Return the `task progress` events received for task_id."""
        return [e for e in self.of(protocol.TASK_PROGRESS) if e["task_id"] == task_id]

    def wait_task_final(self, task_id, timeout=30):
        """Wait until task_id reaches a final state; return its events."""
        self.wait_for(lambda _: any(protocol.TaskState(e["state"]).is_final
                                    for e in self.progress(task_id)),
                      timeout, what=f"task {task_id} to finish")
        return self.progress(task_id)

    def errors(self):
        """Return the protocol errors received."""
        return self.of(protocol.PROTOCOL_ERROR)

    def close(self):
        """Disconnect without waiting for the close handshake.

        Under the threading mode's development server (Werkzeug) the websocket close handshake
        is never answered and websocket-client waits 3 s for it (python-engineio #457 family);
        the server has already seen the disconnect, so the wait is spent off the test's clock.
        """
        threading.Thread(target=self.sio.shutdown, daemon=True).start()

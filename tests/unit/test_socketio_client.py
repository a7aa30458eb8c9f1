"""shared/socketio_client.py overrides two private hooks of python-socketio / python-engineio: an
upgrade that stops calling either breaks in-order handling silently, so both are checked here."""
import threading

from shared.socketio_client import OrderedClient, OrderedEngineIOClient


def test_python_socketio_builds_its_engineio_client_through_the_hook():
    client = OrderedClient()
    try:
        assert isinstance(client.eio, OrderedEngineIOClient)
    finally:
        client.eio.stop_dispatching()


def test_messages_go_through_the_hook_and_are_handled_in_arrival_order_on_one_thread():
    client = OrderedEngineIOClient()
    seen, threads, done = [], set(), threading.Event()

    def on_message(data):
        seen.append(data)
        threads.add(threading.current_thread().name)
        if data == 99:
            done.set()
    client.on("message", on_message)
    for n in range(100):
        client._trigger_event("message", n, run_async=True)  # how python-engineio delivers a message
    assert done.wait(5)
    client.stop_dispatching()
    assert seen == list(range(100)) and threads == {"socketio-dispatch"}

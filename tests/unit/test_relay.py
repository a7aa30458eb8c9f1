"""The relay's pacing: batches to many clients are gathered, nothing is dropped or reordered."""
import pytest

from server import relay
from server.relay import LIVE_BATCH_ROOM, LIVE_ROOM, Relay
from shared import protocol


class Stop(BaseException):
    """Ends Relay.run's endless loop (it rides out every Exception)."""


class FakeStore:
    """A stream whose reads return the scripted lists of events, then stop the relay."""

    def __init__(self, reads):
        self.reads = list(reads)

    def tail(self):
        return "0-0"

    def read_after(self, last_id, count, block_ms):
        if not self.reads:
            raise Stop
        return self.reads.pop(0)


class FakeSocketIO:
    """Records emits and sleeps; rooms hold the given members."""

    def __init__(self, rooms):
        self.rooms, self.emitted, self.slept = rooms, [], []
        self.server = self
        self.manager = self
        self.async_mode = "eventlet"

    def get_participants(self, namespace, room):
        return iter([(sid, sid) for sid in self.rooms.get(room, [])])

    def emit(self, event, data, namespace, to, ignore_queue):
        self.emitted.append((event, to, data))

    def sleep(self, seconds):
        self.slept.append(seconds)


def events(*cursors):
    return [{"cursor": cursor, "message": cursor} for cursor in cursors]


def run(rooms, reads):
    socketio = FakeSocketIO(rooms)
    with pytest.raises(Stop):
        Relay(socketio, FakeStore(reads)).run("0-0")
    return socketio


@pytest.mark.parametrize("clients, expected", [(1, 0), (4, 0), (5, 0.001), (100, 0.02), (150, 0.03), (10_000, relay.MAX_PACE)])
def test_pace_grows_with_the_batch_clients_up_to_a_cap(clients, expected):
    assert relay.pace(clients) == pytest.approx(expected)


@pytest.mark.parametrize("clients, expected", [(2, 0), (3, 0.0012), (100, 0.04), (1000, relay.MAX_PACE)])
def test_threading_paces_twice_as_long_its_sends_cost_twice_as_much(clients, expected):
    assert relay.pace(clients, "threading") == pytest.approx(expected)


def test_after_each_batch_the_relay_waits_its_pace_and_sends_every_event_in_order():
    batch_clients = [f"b{n}" for n in range(100)]
    socketio = run({LIVE_BATCH_ROOM: batch_clients}, [events("1-0"), [], events("2-0", "3-0")])
    assert socketio.slept == [relay.pace(100), relay.pace(100)]  # none after the empty read
    sent = [event["cursor"] for _, to, data in socketio.emitted for event in data["events"]]
    assert sent == ["1-0", "2-0", "3-0"]
    assert {name for name, _, _ in socketio.emitted} == {protocol.TASK_PROGRESS_BATCH}


def test_clients_of_single_events_are_not_paced():
    """One message per event whatever the pace: waiting would gather nothing for them."""
    socketio = run({LIVE_ROOM: ["a", "b"]}, [events("1-0", "2-0"), events("3-0")])
    assert socketio.slept == []
    assert [data["cursor"] for _, _, data in socketio.emitted] == ["1-0", "2-0", "3-0"]


def test_clients_joining_together_get_one_task_list_read_once_then_the_live_room():
    """After a server restart every page reconnects at once: one read of the recent tasks serves them."""
    class Store(FakeStore):
        recent_reads = 0

        def can_resume(self, cursor, last_id):
            return False  # every cursor is too old here

        def recent(self):
            Store.recent_reads += 1
            return [{"task_id": "t"}]

    class SocketIO(FakeSocketIO):
        def enter_room(self, sid, room, namespace):
            self.emitted.append(("enter", sid, room))

    socketio = SocketIO({})
    relay_ = Relay(socketio, Store([]))
    for sid, cursor in (("a", None), ("b", None), ("c", "1-0")):
        relay_._joins.put((sid, cursor, True))
    relay_._serve_joins("5-0")
    assert Store.recent_reads == 1
    lists = [(to, data["reset"]) for event, to, data in socketio.emitted if event == protocol.TASK_LIST]
    assert sorted(lists) == [(["a", "b"], False), (["c"], True)]
    entered = [item for item in socketio.emitted if item[0] == "enter"]
    assert entered == [("enter", sid, LIVE_BATCH_ROOM) for sid in "abc"]
    assert socketio.emitted.index(entered[0]) == len(lists)  # the lists went out before anyone went live

"""Nothing lost: cancel, task history, and replay of missed events after a reconnect or a late start."""
import threading
import time

import pytest
import requests

from shared import protocol
from shared.protocol import TaskState
from tests.support.stack import ASYNC_MODES, start_server
from tests.support.clients import RecordingClient


def assert_contiguous(events, task_id):
    """The events of one task run seq 1..n, once each, in order."""
    assert [e["task_id"] for e in events] == [task_id] * len(events)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    cursors = [e["cursor"] for e in events]
    assert len(set(cursors)) == len(cursors)


@pytest.mark.parametrize("batch", [True, False], ids=["batches", "one-by-one"])
def test_a_client_that_drops_mid_task_gets_exactly_the_missed_events(server, connect, batch):
    watcher, roamer = connect(batch=not batch), connect(batch=batch)
    task_id = roamer.call(protocol.START_TASK, {"seconds": 4})["task_id"]
    roamer.wait_for(lambda _: len(roamer.progress(task_id)) >= 3, what="the task under way")
    roamer.drop()
    held = len(roamer.progress(task_id))
    watcher.wait_for(lambda _: len(watcher.progress(task_id)) >= held + 3, what="events while away")
    missed_before = roamer.batches
    roamer.reconnect()
    events = roamer.wait_task_final(task_id)
    assert_contiguous(events, task_id)
    assert events == watcher.wait_task_final(task_id)
    assert events[-1]["state"] == TaskState.SUCCEEDED
    if batch:  # what it missed came back in one message, not one per event
        replayed = len(watcher.progress(task_id)) - held
        assert roamer.batches - missed_before < replayed


def test_a_client_that_starts_after_a_task_finished_sees_it_and_its_full_history(server, connect):
    starter = connect()
    task_id = starter.call(protocol.START_TASK, {"seconds": 0.5})["task_id"]
    history = starter.wait_task_final(task_id)
    late = connect()
    late.wait_for(lambda _: late.of(protocol.TASK_LIST), what="task list")
    listed = {t["task_id"]: t for t in late.of(protocol.TASK_LIST)[0]["tasks"]}
    # Its latest state: the last event, with the task's record besides.
    assert {field: listed[task_id][field] for field in protocol.PROGRESS_FIELDS} == history[-1]
    assert listed[task_id]["kind"] == protocol.ORIGINAL_TASK_KIND and listed[task_id]["finished"] is not None
    assert late.call(protocol.TASK_HISTORY, {"task_id": task_id}) == {"task_id": task_id, "events": history}
    over_http = requests.get(f"{server.url}/tasks/{task_id}/events", timeout=5).json()
    assert over_http["events"] == history
    recent = requests.get(f"{server.url}/tasks", timeout=5).json()["tasks"]
    assert recent[0]["task_id"] == task_id  # newest first


@pytest.mark.parametrize("async_mode", ASYNC_MODES)
def test_restarting_the_server_mid_task_loses_no_event(redis_server, worker, log_dir, async_mode):
    name = f"server-restarted-{async_mode}"
    first = start_server(redis_server.url, log_dir, async_mode, name=name)
    clients = [RecordingClient(first.url, reconnection=True, reconnection_delay=0.2,
                               reconnection_delay_max=0.5)
               for _ in range(2)]
    try:
        task_id = clients[0].call(protocol.START_TASK, {"seconds": 4})["task_id"]
        clients[0].wait_for(lambda _: len(clients[0].progress(task_id)) >= 3, what="task under way")
        first.stop()
        time.sleep(1)  # the task goes on without a server: these events must not be lost
        second = start_server(redis_server.url, log_dir, async_mode, name=name, port=first.port)
        try:
            for client in clients:
                events = client.wait_task_final(task_id)
                assert_contiguous(events, task_id)
                assert events[-1]["state"] == TaskState.SUCCEEDED
        finally:
            second.stop()
    finally:
        for client in clients:
            client.close()


def test_cancel_stops_a_running_task_within_a_second_and_every_client_sees_it(server, connect):
    canceller, bystander = connect(), connect()
    task_id = canceller.call(protocol.START_TASK, {"seconds": 30})["task_id"]
    canceller.wait_for(lambda _: any(e["state"] == "running" for e in canceller.progress(task_id)))
    asked = time.time()
    assert canceller.call(protocol.CANCEL_TASK, {"task_id": task_id}) == {"ok": True}
    for client in (canceller, bystander):
        events = client.wait_task_final(task_id)
        assert events[-1]["state"] == TaskState.CANCELLED
        assert_contiguous(events, task_id)
    final = canceller.progress(task_id)[-1]
    print(f"cancel took effect {final['ts'] - asked:.3f}s after it was asked")
    time.sleep(1.2)  # a task that kept running would report again within STEP_SECONDS
    assert canceller.progress(task_id)[-1] == final
    assert requests.get(f"{server.url}/tasks/{task_id}", timeout=5).json()["state"] == "cancelled"


def test_cancel_of_a_queued_task_means_it_never_starts(redis_server, log_dir):
    from launcher.redis_server import RedisServer
    from tests.support.stack import start_worker
    with RedisServer() as private_redis:  # no worker yet: the task stays queued
        service = start_server(private_redis.url, log_dir, "threading", name="server-queued-cancel")
        client = RecordingClient(service.url)
        try:
            task_id = client.call(protocol.START_TASK, {"seconds": 1})["task_id"]
            reply = requests.post(f"{service.url}/tasks/{task_id}/cancel", timeout=5)
            assert reply.status_code == 202 and reply.json() == {"ok": True}
            assert client.wait_task_final(task_id)[-1]["state"] == TaskState.CANCELLED
            late_worker = start_worker(private_redis.url, log_dir, name="late-worker")
            try:
                probe = client.call(protocol.START_TASK, {"seconds": 0})["task_id"]
                client.wait_task_final(probe)  # the worker has drained the queue past our task
                assert [e["state"] for e in client.progress(task_id)] == ["queued", "cancelled"]
                # Only the probe started work: the cancelled task never said it was starting.
                assert client.responses().count(protocol.BACKGROUND_STARTING) == 1
            finally:
                late_worker.stop()
        finally:
            client.close()
            service.stop()


@pytest.mark.parametrize("target, status, code", [
    ("finished", 409, "conflict"), ("unknown", 404, "not_found"), ("malformed", 404, "not_found"),
])
def test_cancel_of_a_finished_or_unknown_task_is_an_error(server, client, target, status, code):
    task_id = {"unknown": "f" * 32, "malformed": "not-a-task"}.get(target)
    if target == "finished":
        task_id = client.call(protocol.START_TASK, {"seconds": 0})["task_id"]
        client.wait_task_final(task_id)
    reply = requests.post(f"{server.url}/tasks/{task_id}/cancel", timeout=5)
    assert reply.status_code == status and reply.json()["error"]["code"] == code
    ack = client.call(protocol.CANCEL_TASK, {"task_id": task_id})
    assert ack["error"]["code"] == code


@pytest.mark.parametrize("event, payload, code", [
    (protocol.CANCEL_TASK, None, "invalid_payload"),
    (protocol.CANCEL_TASK, {}, "missing_field"),
    (protocol.CANCEL_TASK, {"task_id": 7}, "invalid_type"),
    (protocol.TASK_HISTORY, "abc", "invalid_payload"),
    (protocol.TASK_HISTORY, {"task_id": "0" * 32}, "not_found"),
])
def test_bad_cancel_and_history_requests_get_errors(client, event, payload, code):
    assert client.call(event, payload)["error"]["code"] == code
    client.wait_for(lambda _: client.errors(), what="protocol error")


@pytest.mark.parametrize("auth", [{"cursor": 12}, {"cursor": "drop table"}, "cursor", [1],
                                  {"cursor": None, "batch": "yes"}])
def test_a_bad_resume_cursor_refuses_the_connection_with_a_reason(server, auth):
    import socketio
    sio = socketio.Client(reconnection=False)
    reasons = []
    sio.on("connect_error", reasons.append, namespace=protocol.NAMESPACE)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(server.url, namespaces=[protocol.NAMESPACE], auth=auth, wait_timeout=5)
    assert reasons and any(word in str(reasons[0]) for word in ("cursor", "auth", "batch"))
    assert "refused connection" in server.log_text()


def test_a_cursor_from_a_lost_redis_gets_the_task_list(server, connect):
    stale = connect(cursor="99999999999999-0")
    stale.wait_for(lambda _: stale.of(protocol.TASK_LIST), what="task list")
    assert stale.of(protocol.TASK_LIST)[0]["reset"] is True


def test_twenty_tasks_with_clients_reconnecting_repeatedly_leave_every_history_complete(server, connect):
    steady, flaky_a, flaky_b = connect(batch=False), connect(), connect(batch=False)
    task_ids = [steady.call(protocol.START_TASK, {"seconds": 2})["task_id"] for _ in range(20)]
    stop = threading.Event()

    def flap(client):
        while not stop.is_set():
            time.sleep(0.3)
            client.drop()
            time.sleep(0.2)
            client.reconnect()

    flappers = [threading.Thread(target=flap, args=(c,)) for c in (flaky_a, flaky_b)]
    for thread in flappers:
        thread.start()
    try:
        for task_id in task_ids:
            steady.wait_task_final(task_id, timeout=60)
    finally:
        stop.set()
        for thread in flappers:
            thread.join()
    for client in (flaky_a, flaky_b):
        for task_id in task_ids:
            events = client.wait_task_final(task_id, timeout=20)
            assert events == steady.progress(task_id)
            assert_contiguous(events, task_id)

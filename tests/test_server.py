"""The original protocol and the task API, end to end: real Redis, worker, server and clients."""

import requests

from shared import protocol
from shared.protocol import TaskState


def assert_complete_history(events, task_id):
    """A task's events run seq 1..n without gaps, start queued and end succeeded at 100."""
    assert [e["task_id"] for e in events] == [task_id] * len(events)
    assert all(sorted(e) == sorted(protocol.PROGRESS_FIELDS) for e in events)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["state"] == TaskState.QUEUED
    assert events[-1]["state"] == TaskState.SUCCEEDED and events[-1]["percent"] == 100
    assert all(e["state"] == TaskState.RUNNING for e in events[1:-1])
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents)
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)


def test_echo_answers_the_sender_with_the_original_text(client, connect):
    bystander = connect()
    client.emit(protocol.MY_EVENT, {"data": "hello, world"})
    client.wait_for(lambda _: client.responses(), what="echo")
    assert client.responses() == ['Backend saw "hello, world" from the frontend']
    bystander.emit(protocol.MY_EVENT, {"data": "ping"})
    bystander.wait_for(lambda _: bystander.responses(), what="bystander echo")
    assert bystander.responses() == ['Backend saw "ping" from the frontend']
    assert client.responses() == ['Backend saw "hello, world" from the frontend']


def test_bg_broadcasts_both_original_messages_in_order_to_every_client(server, connect):
    first, second = connect(), connect()
    reply = requests.get(server.url + "/bg", timeout=5)
    assert reply.status_code == 200 and reply.text == protocol.BACKGROUND_STARTED_REPLY
    for client in (first, second):
        client.wait_for(lambda _, c=client: protocol.BACKGROUND_COMPLETE in c.responses(),
                        what="background task complete")
        assert client.responses() == [protocol.BACKGROUND_STARTING, protocol.BACKGROUND_COMPLETE]
    task_id = first.of(protocol.TASK_PROGRESS)[0]["task_id"]
    assert_complete_history(first.wait_task_final(task_id), task_id)


def test_post_tasks_reports_progress_in_seq_order_until_succeeded(server, client):
    reply = requests.post(server.url + "/tasks", json={"seconds": 2}, timeout=5)
    assert reply.status_code == 202
    task_id = reply.json()["task_id"]
    events = client.wait_task_final(task_id)
    assert_complete_history(events, task_id)
    # At least one event per second of work, besides queued and the final one.
    assert len([e for e in events if e["state"] == TaskState.RUNNING]) >= 2
    latest = requests.get(f"{server.url}/tasks/{task_id}", timeout=5)
    assert latest.status_code == 200
    # The latest state is the last event, with the task's record besides.
    assert {field: latest.json()[field] for field in protocol.PROGRESS_FIELDS} == events[-1]
    assert sorted(latest.json()) == sorted(protocol.PROGRESS_FIELDS + protocol.RECORD_FIELDS)


def test_three_concurrent_tasks_finish_with_their_own_ids(server, client):
    task_ids = [client.call(protocol.START_TASK, {"seconds": 1.5})["task_id"] for _ in range(3)]
    assert len(set(task_ids)) == 3
    for task_id in task_ids:
        assert_complete_history(client.wait_task_final(task_id), task_id)
    # They ran side by side: each one started before any of them finished.
    first_final = min(client.progress(t)[-1]["ts"] for t in task_ids)
    assert all(client.progress(t)[1]["ts"] < first_final for t in task_ids)


def test_start_task_over_the_socket_defaults_to_the_configured_duration(client):
    task_id = client.call(protocol.START_TASK)["task_id"]
    assert_complete_history(client.wait_task_final(task_id), task_id)


def test_healthz_reports_redis_and_live_workers(server):
    reply = requests.get(server.url + "/healthz", timeout=5)
    assert reply.status_code == 200
    assert reply.json() == {"redis": True, "workers": 1}


def test_unknown_task_is_404_with_a_reason(server):
    reply = requests.get(server.url + "/tasks/" + "0" * 32, timeout=5)
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"


def test_page_is_served_with_the_socketio_client(server):
    page = requests.get(server.url + "/", timeout=5)
    assert page.status_code == 200
    assert protocol.NAMESPACE in page.text and protocol.ROUTE_SOCKETIO_CLIENT in page.text
    library = requests.get(server.url + protocol.ROUTE_SOCKETIO_CLIENT, timeout=5)
    assert library.status_code == 200 and "io" in library.text[:2000]


def test_a_slow_request_blocks_no_one_else(server, client):
    """The article's first bump: a blocking call froze the whole server. Here it cannot.

    A request whose body is still on its way keeps the server reading it; meanwhile the echo works.
    """
    import json
    import socket
    body = json.dumps({"seconds": 0}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
        slow.sendall(b"POST /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body[:3])
        client.emit(protocol.MY_EVENT, {"data": "are you there?"})
        client.wait_for(lambda _: client.responses(), what="echo during a slow request")
        slow.sendall(body[3:])
        reply = slow.recv(65536)
    assert reply.startswith(b"HTTP/1.1 202"), reply[:200]


def test_websocket_compression_is_declined(server):
    """Browsers and socket.io-client offer permessage-deflate; the server answers without it.

    Compression runs per client for every message (see server/wire.py): declining it is what keeps
    one server able to feed many pages. The upgrade itself must still succeed.
    """
    import base64
    import os
    import socket

    host, port = server.url.removeprefix("http://").split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            assert chunk, f"the server closed the connection: {answer!r}"
            answer += chunk
    head = answer.split(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 101"), head
    assert "sec-websocket-extensions" not in head, head

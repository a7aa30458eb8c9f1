"""Every family of bad input gets a clear error, one log line, and harms no one else."""
import queue

import engineio
import pytest
import requests

from shared import protocol
from tests.support.security import ENGINEIO_QUERY, engineio_session

BIG = "x" * (protocol.MAX_MESSAGE_BYTES + 1)
WIDE = "é" * (protocol.MAX_MESSAGE_BYTES // 2 + 1)  # few characters, over the limit in UTF-8
DEEP = "[" * 100_000 + "]" * 100_000  # JSON nested 100,000 deep


def assert_no_traceback(server):
    """Hostile input never costs the server a traceback."""
    assert "Traceback" not in server.log_text()


def assert_others_unharmed(connect):
    """A fresh client still gets its echo."""
    other = connect()
    other.emit(protocol.MY_EVENT, {"data": "still there?"})
    other.wait_for(lambda _: other.responses(), what="echo after bad input")
    assert other.responses() == ['Backend saw "still there?" from the frontend']


@pytest.mark.parametrize("payload, code", [
    ("just text", "invalid_payload"),
    (42, "invalid_payload"),
    ([1, 2], "invalid_payload"),
    (None, "invalid_payload"),
    ({}, "missing_field"),
    ({"text": "hi"}, "missing_field"),
    ({"data": 5}, "invalid_type"),
    ({"data": None}, "invalid_type"),
    ({"data": ["a"]}, "invalid_type"),
    ({"data": BIG}, "too_large"),
    ({"data": WIDE}, "too_large"),
    (("two", "payloads"), "invalid_payload"),
], ids=["string", "number", "list", "none", "empty", "no-data", "int-data", "null-data",
        "list-data", "64KiB+1", "wide-utf8", "two-args"])
def test_bad_my_event_gets_an_error_event(server, client, connect, payload, code):
    client.emit(protocol.MY_EVENT, *(payload if isinstance(payload, tuple) else (payload,)))
    client.wait_for(lambda _: client.errors(), what="protocol error")
    error = client.errors()[0]
    assert error["code"] == code and error["message"]
    assert "Traceback" not in error["message"]
    assert client.responses() == []
    assert "rejected 'my event'" in server.log_text()
    assert_others_unharmed(connect)
    client.emit(protocol.MY_EVENT, {"data": "ok"})  # the sender itself is still served
    client.wait_for(lambda _: client.responses(), what="echo after its own bad input")


@pytest.mark.parametrize("payload, code", [
    ("ten", "invalid_payload"),
    ([10], "invalid_payload"),
    ({"seconds": "5"}, "invalid_type"),
    ({"seconds": True}, "invalid_type"),
    ({"seconds": [1]}, "invalid_type"),
    ({"seconds": -1}, "out_of_range"),
    ({"seconds": 3601}, "out_of_range"),
    ({"seconds": 1e308}, "out_of_range"),
    ({"seconds": 1, "extra": 2}, "unknown_field"),
], ids=["string", "list", "string-seconds", "bool-seconds", "list-seconds", "negative", "over-limit",
        "huge", "unknown-field"])
def test_bad_start_task_gets_an_error_ack_and_event(server, client, connect, payload, code):
    reply = client.call(protocol.START_TASK, payload)
    assert reply["error"]["code"] == code and "task_id" not in reply
    client.wait_for(lambda _: client.errors(), what="protocol error")
    assert client.errors()[0]["code"] == code
    assert client.of(protocol.TASK_PROGRESS) == []  # no task was queued
    assert "rejected 'start task'" in server.log_text()
    assert_others_unharmed(connect)


@pytest.mark.parametrize("body, code", [
    (b"{", "invalid_json"),
    (b"\xff\xfe\x00", "invalid_json"),
    (b"[1]", "invalid_payload"),
    (b'"ten"', "invalid_payload"),
    (b'{"seconds": "5"}', "invalid_type"),
    (b'{"seconds": null, "x": 1}', "unknown_field"),
    (b'{"seconds": -0.5}', "out_of_range"),
    (b'{"seconds": 3600.5}', "out_of_range"),
    (b'{"seconds": NaN}', "out_of_range"),
    (b'{"seconds": 1e999}', "out_of_range"),
    (DEEP.encode(), "invalid_json"),
    (b'{"seconds": ' + b"[" * 40 + b"]" * 40 + b"}", "invalid_json"),
], ids=["truncated", "not-utf8", "list", "string", "string-seconds", "unknown-field", "negative",
        "over-limit", "nan", "infinite", "nested-100000-deep", "nested-40-deep"])
def test_bad_post_tasks_is_a_400_naming_the_problem(server, client, connect, body, code):
    reply = requests.post(server.url + "/tasks", data=body,
                          headers={"Content-Type": "application/json"}, timeout=5)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == code and error["message"] and "Traceback" not in reply.text
    assert "rejected POST /tasks" in server.log_text()
    assert_no_traceback(server)
    assert_others_unharmed(connect)


@pytest.mark.parametrize("body, content_type", [
    (b'{"seconds": 1}', "text/plain"),
    (b"seconds=1", "application/x-www-form-urlencoded"),
    (b'--b\r\nContent-Disposition: form-data; name="seconds"\r\n\r\n1\r\n--b--\r\n', "multipart/form-data; boundary=b"),
    (b'{"seconds": 1}', None),
], ids=["text-plain", "form", "multipart", "no-content-type"])
def test_post_tasks_takes_json_only(server, connect, body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    before = requests.get(server.url + "/tasks", timeout=5).json()["tasks"]
    reply = requests.post(server.url + "/tasks", data=body, headers=headers, timeout=5)
    assert reply.status_code == 415
    error = reply.json()["error"]
    assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]
    assert requests.get(server.url + "/tasks", timeout=5).json()["tasks"] == before  # no task
    assert_others_unharmed(connect)


def test_post_tasks_without_a_body_takes_the_defaults(server):
    reply = requests.post(server.url + "/tasks", timeout=5)
    assert reply.status_code == 202 and reply.json()["task_id"]


# Socket.io packets a client library would never send (the server must answer them all the same).
NS = protocol.NAMESPACE
PACKETS = {
    "nested-100000-deep": (f'2{NS},["my event",{DEEP}]', "invalid_json"),
    "nested-deep-with-ack": (f'2{NS},7["my event",{{"data":{"[" * 50}{"]" * 50}}}]', "invalid_json"),
    "truncated-json": (f'2{NS},["my event",{{"data":"x"', "invalid_json"),
    "event-is-an-object": (f'2{NS},{{"my event":1}}', "invalid_payload"),
    "event-is-empty": (f"2{NS},[]", "invalid_payload"),
    "event-is-a-string": (f'2{NS},"my event"', "invalid_payload"),
    "event-name-not-a-string": (f'2{NS},[5,{{"data":"x"}}]', "invalid_payload"),
    "unknown-packet-type": (f'9{NS},["my event"]', "invalid_payload"),
    "connect-error-from-client": (f'4{NS},{{"message":"x"}}', "invalid_payload"),
    "binary-event": (f'51-{NS},["my event",{{"_placeholder":true,"num":0}}]', "invalid_payload"),
}


@pytest.mark.parametrize("packet, code", PACKETS.values(), ids=PACKETS.keys())
def test_undecodable_socket_messages_get_a_protocol_error(server, client, connect, packet, code):
    client.sio.eio.send(packet)  # a raw socket.io packet, as written
    client.wait_for(lambda _: client.errors(), what="protocol error")
    error = client.errors()[0]
    assert error["code"] == code and error["message"]
    assert "rejected" in server.log_text()
    assert_no_traceback(server)
    assert_others_unharmed(connect)
    client.emit(protocol.MY_EVENT, {"data": "ok"})  # the sender itself is still served
    client.wait_for(lambda _: client.responses(), what="echo after its own bad packet")


@pytest.mark.parametrize("auth, code", [
    ('{"cursor":' + DEEP + "}", "invalid_json"),
    ('{"cursor":', "invalid_json"),
    ('"just text"', "invalid_payload"),
], ids=["nested-100000-deep", "truncated", "not-an-object"])
def test_a_connection_with_undecodable_auth_is_refused(server, connect, auth, code):
    replies = queue.SimpleQueue()
    raw = engineio.Client()
    raw.on("message", replies.put)
    raw.connect(server.url, engineio_path="socket.io", transports=["polling"])
    try:
        raw.send(f"0{protocol.NAMESPACE},{auth}")
        reply = replies.get(timeout=10)
    finally:
        raw.disconnect()
    assert reply.startswith(f"4{protocol.NAMESPACE},") and f'"code":"{code}"' in reply.replace(" ", "")
    assert "refused connection from" in server.log_text()
    assert_no_traceback(server)
    assert_others_unharmed(connect)


@pytest.mark.parametrize("body, status, code", [
    (b"\xff\xfe\xfd", 400, "invalid_payload"),
    (b'42/test,["my event",{"data":"\xc3"}]', 400, "invalid_payload"),
    (b"x" * (10 * 1024 * 1024), 413, "too_large"),
    (iter([b"40"]), 411, "invalid_payload"),
], ids=["invalid-utf8", "truncated-utf8", "10MB", "chunked-no-length"])
def test_bad_polling_posts_are_refused_in_front_of_engineio(server, connect, body, status, code):
    sid = engineio_session(server.url)
    reply = requests.post(f"{server.url}{ENGINEIO_QUERY}&sid={sid}", data=body, timeout=10)  # no hang
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code
    assert "refused POST /socket.io/" in server.log_text()
    assert_no_traceback(server)
    assert_others_unharmed(connect)


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/tasks/not-a-task", 404),
    ("GET", "/tasks/" + "a" * 5000, 404),
    ("GET", "/no/such/page", 404),
    ("DELETE", "/tasks", 405),
    ("POST", "/bg", 405),
], ids=["bad-id", "long-id", "no-route", "wrong-method", "post-bg"])
def test_bad_http_requests_get_json_errors(server, connect, method, path, status):
    reply = requests.request(method, server.url + path, timeout=5)
    assert reply.status_code == status
    assert reply.json()["error"]["message"]
    assert_others_unharmed(connect)


@pytest.mark.parametrize("event", ["no such event", "my_event", "x" * 300])
def test_unknown_events_get_an_error_event(server, client, connect, event):
    client.emit(event, {"data": "hi"})
    client.wait_for(lambda _: client.errors(), what="protocol error")
    assert client.errors()[0]["code"] == "unknown_event"
    assert_others_unharmed(connect)


def test_oversized_request_body_is_refused(server, connect):
    reply = requests.post(server.url + "/tasks", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                          timeout=10)
    assert reply.status_code == 413
    assert_others_unharmed(connect)

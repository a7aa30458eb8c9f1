"""Every family of bad input gets a clear error, one log line, and harms no one else."""
import pytest
import requests

from shared import protocol

BIG = "x" * (protocol.MAX_MESSAGE_BYTES + 1)
WIDE = "é" * (protocol.MAX_MESSAGE_BYTES // 2 + 1)  # few characters, over the limit in UTF-8


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
], ids=["truncated", "not-utf8", "list", "string", "string-seconds", "unknown-field", "negative",
        "over-limit", "nan", "infinite"])
def test_bad_post_tasks_is_a_400_naming_the_problem(server, client, connect, body, code):
    reply = requests.post(server.url + "/tasks", data=body,
                          headers={"Content-Type": "application/json"}, timeout=5)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == code and error["message"] and "Traceback" not in reply.text
    assert "rejected POST /tasks" in server.log_text()
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

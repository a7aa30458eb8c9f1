"""Unit tests of the protocol's validation and the configuration."""
import math

import pytest

from shared import config, protocol
from shared.protocol import ProtocolError


def test_echo_text_is_the_original():
    assert protocol.echo_text("hi") == 'Backend saw "hi" from the frontend'


@pytest.mark.parametrize("data", ["", "hi", "x" * protocol.MAX_MESSAGE_BYTES, "<b>&</b>", "ünïcödé"])
def test_parse_message_accepts_text_up_to_the_limit(data):
    assert protocol.parse_message({"data": data}) == data


@pytest.mark.parametrize("payload, code", [
    (None, "invalid_payload"), ("x", "invalid_payload"), ([], "invalid_payload"),
    ({}, "missing_field"), ({"data": 1}, "invalid_type"), ({"data": True}, "invalid_type"),
    ({"data": "x" * (protocol.MAX_MESSAGE_BYTES + 1)}, "too_large"),
    ({"data": "\ud800" * 30000}, "too_large"),
])
def test_parse_message_rejects_with_a_code(payload, code):
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_message(payload)
    assert caught.value.code == code and caught.value.message


@pytest.mark.parametrize("payload, seconds", [
    (None, 10.0), ({}, 10.0), ({"seconds": None}, 10.0), ({"seconds": 0}, 0.0),
    ({"seconds": 2.5}, 2.5), ({"seconds": protocol.MAX_TASK_SECONDS}, 3600.0),
])
def test_parse_task_request_accepts(payload, seconds):
    assert protocol.parse_task_request(payload, 10.0) == seconds


@pytest.mark.parametrize("payload, code", [
    ("5", "invalid_payload"), ([5], "invalid_payload"), ({"seconds": "5"}, "invalid_type"),
    ({"seconds": False}, "invalid_type"), ({"seconds": -0.001}, "out_of_range"),
    ({"seconds": 3600.001}, "out_of_range"), ({"seconds": math.nan}, "out_of_range"),
    ({"seconds": math.inf}, "out_of_range"), ({"secs": 5}, "unknown_field"),
])
def test_parse_task_request_rejects_with_a_code(payload, code):
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_task_request(payload, 10.0)
    assert caught.value.code == code


def test_page_protocol_names_every_event_once():
    names = protocol.for_page()["events"].values()
    assert sorted(names) == sorted({protocol.MY_EVENT, protocol.MY_RESPONSE, protocol.START_TASK,
                                    protocol.CANCEL_TASK, protocol.TASK_HISTORY, protocol.TASK_RECORDS,
                                    protocol.TASK_LIST,
                                    protocol.TASK_PROGRESS, protocol.TASK_PROGRESS_BATCH,
                                    protocol.SYSTEM_HEALTH, protocol.PROTOCOL_ERROR})


def test_config_defaults_are_safe():
    settings = config.load({})
    assert settings.server_host == "127.0.0.1" and settings.server_port == 5000
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.async_mode == "eventlet" and settings.background_task_seconds == 10
    assert len(settings.secret_key) >= 32 and settings.secret_key != config.load({}).secret_key


def test_config_reads_the_environment():
    settings = config.load({"SERVER_PORT": "8080", "SECRET_KEY": "from-env", "SERVER_HOST": "0.0.0.0",
                            "SOCKETIO_ASYNC_MODE": "threading", "BACKGROUND_TASK_SECONDS": "2.5"})
    assert settings.server_port == 8080 and settings.secret_key == "from-env"
    assert settings.async_mode == "threading" and settings.background_task_seconds == 2.5
    assert settings.server_url == "http://127.0.0.1:8080"


def test_redacted_hides_passwords():
    assert config.redacted("redis://user:secret@host:6379/0") == "redis://user:***@host:6379/0"
    assert config.redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("auth, expected", [
    (None, (None, False)), ({}, (None, False)), ({"cursor": None}, (None, False)),
    ({"cursor": "1712-0"}, ("1712-0", False)), ({"cursor": "1712-3", "batch": True}, ("1712-3", True)),
])
def test_parse_connect_auth_accepts(auth, expected):
    assert protocol.parse_connect_auth(auth) == expected


@pytest.mark.parametrize("auth, code", [
    ("x", "invalid_payload"), ([], "invalid_payload"), ({"cursor": 5}, "invalid_type"),
    ({"cursor": "abc"}, "invalid_type"), ({"cursor": "1-1", "batch": 1}, "invalid_type"),
])
def test_parse_connect_auth_rejects(auth, code):
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_connect_auth(auth)
    assert caught.value.code == code

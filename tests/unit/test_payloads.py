"""The desktop client's checks on what the server sends: clean values, or ValueError."""
import pytest

from desktop_client import payloads, text
from shared.protocol import TaskState

GOOD = {"task_id": "a" * 32, "state": "running", "percent": 40, "message": "m", "seq": 3, "attempt": 2,
        "ts": 1.5, "cursor": "1-0"}


def test_a_progress_event_is_parsed():
    update = payloads.parse_progress(GOOD)
    assert (update.state, update.percent, update.seq, update.attempt, update.cursor) == (
        TaskState.RUNNING, 40, 3, 2, "1-0")


def test_an_event_without_attempt_is_a_first_attempt():
    assert payloads.parse_progress({k: v for k, v in GOOD.items() if k != "attempt"}).attempt == 1


@pytest.mark.parametrize("field, value", [
    ("task_id", ""), ("task_id", 5), ("state", "exploded"), ("seq", "3"), ("seq", True), ("percent", "x"),
    ("percent", float("nan")), ("attempt", 0), ("attempt", "2"), ("ts", None), ("cursor", "nope"),
])
def test_a_malformed_progress_event_is_refused(field, value):
    with pytest.raises(ValueError):
        payloads.parse_progress(dict(GOOD, **{field: value}))


@pytest.mark.parametrize("percent, shown", [(-5, 0), (140, 100), (55.7, 55)])
def test_percent_is_clamped_not_refused(percent, shown):
    assert payloads.parse_progress(dict(GOOD, percent=percent)).percent == shown


def test_a_batch_keeps_the_good_events_and_counts_the_bad():
    updates, unusable = payloads.parse_progress_batch({"events": [GOOD, {"task_id": 1}, GOOD]})
    assert len(updates) == 2 and unusable == 1


@pytest.mark.parametrize("payload", [None, [], {"events": "x"}, {"events": None}])
def test_a_malformed_batch_is_refused(payload):
    with pytest.raises(ValueError):
        payloads.parse_progress_batch(payload)


def test_a_task_list_is_oldest_first():
    newer, older = dict(GOOD, task_id="n" * 32), dict(GOOD, task_id="o" * 32)
    task_list = payloads.parse_task_list({"tasks": [newer, older], "cursor": "9-0", "reset": True})
    assert [u.task_id[0] for u in task_list.updates] == ["o", "n"]
    assert task_list.cursor == "9-0" and task_list.reset is True


@pytest.mark.parametrize("payload, expected", [
    ({"redis": True, "workers": 2, "problem": None}, payloads.Health(True, 2, None)),
    ({"redis": True, "workers": 0, "problem": "No worker"}, payloads.Health(True, 0, "No worker")),
])
def test_health_is_parsed(payload, expected):
    assert payloads.parse_health(payload) == expected


@pytest.mark.parametrize("payload", [None, {"redis": "yes", "workers": 1}, {"redis": True, "workers": -1},
                                     {"redis": True, "workers": True}, {"redis": True, "workers": 1, "problem": 5}])
def test_malformed_health_is_refused(payload):
    with pytest.raises(ValueError):
        payloads.parse_health(payload)


@pytest.mark.parametrize("ack", [None, {}, {"ok": True}])
def test_an_ack_without_error_passes(ack):
    payloads.check_ack(ack)


def test_an_ack_with_an_error_is_a_refusal():
    with pytest.raises(payloads.ServerRefused) as refusal:
        payloads.check_ack({"error": {"code": "too_large", "message": "too big"}})
    assert (refusal.value.code, refusal.value.message) == ("too_large", "too big")


@pytest.mark.parametrize("url", ["ftp://host", "http://", "not a url", "http://host:99999"])
def test_a_bad_server_address_is_refused_with_a_reason(url):
    with pytest.raises(ValueError, match="server address|invalid port"):
        text.check_url(url)


@pytest.mark.parametrize("report, words", [
    ("HTTPConnectionPool: Max retries exceeded (Connection refused)", "no server is answering"),
    ({"message": "Name or service not known"}, "host name is unknown"),
    ("read timed out", "did not answer in time"),
    (None, "could not be reached"),
])
def test_connection_problems_are_told_in_words(report, words):
    assert words in text.connect_error_text(report)


def test_long_server_text_is_clipped_saying_so():
    assert text.clip("x" * 10, limit=4) == "xxxx… (6 more characters)"


RECORD = dict(GOOD, kind="primes", params={"below": 100, "label": "x" * 5000}, created=1.0, started=2.0,
              finished=None, result=None, error=None)


def test_a_latest_state_with_a_record_is_parsed():
    update = payloads.parse_progress(RECORD)
    assert update.record.kind == "primes" and update.record.started == 2.0 and update.record.finished is None
    assert update.record.params["below"] == 100 and len(update.record.params["label"]) < 4100  # clipped
    assert payloads.parse_progress(GOOD).record is None  # a progress event has none


@pytest.mark.parametrize("field, value", [
    ("kind", 5), ("params", [1]), ("params", {"nested": {"a": 1}}), ("created", "soon"), ("started", True),
    ("error", "boom"),
])
def test_a_malformed_record_is_refused(field, value):
    with pytest.raises(ValueError):
        payloads.parse_progress(dict(RECORD, **{field: value}))


def test_an_error_is_kept_as_type_and_message():
    record = payloads.parse_progress(dict(RECORD, error={"type": "ValueError", "message": "bad", "x": 1})).record
    assert record.error == {"type": "ValueError", "message": "bad"}


def test_a_records_ack_is_parsed_or_refused():
    updates, unusable = payloads.parse_records_ack({"tasks": [RECORD, {"task_id": 1}]})
    assert [u.record.kind for u in updates] == ["primes"] and unusable == 1
    with pytest.raises(payloads.ServerRefused):
        payloads.parse_records_ack({"error": {"code": "out_of_range", "message": "too many"}})


KIND = {"name": "primes", "title": "Count primes", "description": "d", "params": {
    "type": "object", "required": ["below"], "properties": {"below": {"type": "integer", "minimum": 2}}}}


def test_kinds_are_parsed_and_those_no_form_can_show_are_left_out():
    odd = dict(KIND, name="odd", params={"type": "object", "properties": {"list": {"type": "array"}}})
    kinds = payloads.parse_kinds({"kinds": [KIND, odd, {"name": 5}, "x"]})
    assert [k.name for k in kinds] == ["primes"]
    assert kinds[0].title == "Count primes" and kinds[0].properties == {"below": {"type": "integer", "minimum": 2}}
    assert kinds[0].params["required"] == ["below"]


@pytest.mark.parametrize("payload", [None, {"kinds": "x"}, []])
def test_a_malformed_kinds_reply_is_refused(payload):
    with pytest.raises(ValueError):
        payloads.parse_kinds(payload)

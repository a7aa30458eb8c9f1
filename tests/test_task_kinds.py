"""Task kinds end to end: a kind declared in a test module (tests/support/kinds.py, as the README says),
the built-in ones, their records, and the schema check of start requests, on the real worker and server."""
import json
import re

import pytest
import requests

from shared import protocol
from shared.protocol import TaskState
from tests.support.kinds import FAILURE
from tests.support.stack import Stack

TEST_KIND = "test-steps"


def start(server, kind, **params):
    """Start a task of kind over HTTP; return its id."""
    reply = requests.post(server.url + "/tasks", json={"kind": kind, "params": params}, timeout=5)
    assert reply.status_code == 202, reply.text
    return reply.json()["task_id"]


def record_of(server, task_id):
    reply = requests.get(f"{server.url}/tasks/{task_id}", timeout=5)
    assert reply.status_code == 200, reply.text
    return reply.json()


def assert_small_events(events):
    """Progress events carry the progress fields only: records travel on request."""
    assert all(sorted(e) == sorted(protocol.PROGRESS_FIELDS) for e in events), events[0]


def test_the_server_lists_its_kinds_with_their_parameters(server):
    kinds = requests.get(server.url + protocol.ROUTE_TASK_KINDS, timeout=5).json()["kinds"]
    by_name = {kind["name"]: kind for kind in kinds}
    assert [name for name in by_name if name in ("demo", "primes", TEST_KIND)] == ["demo", "primes", TEST_KIND]
    assert all(sorted(kind) == sorted(protocol.KIND_FIELDS) for kind in kinds)
    demo = by_name[protocol.ORIGINAL_TASK_KIND]["params"]
    assert demo["properties"]["seconds"]["default"] == 1  # BACKGROUND_TASK_SECONDS of the test server
    assert demo["properties"]["fail"] == {"type": "boolean", "title": "Fail half-way", "default": False,
                                          "description": "Raise an error half-way, on purpose"}
    steps = by_name[TEST_KIND]
    assert steps["title"] == "Test steps" and steps["description"].startswith("Adds 1 + 2")
    assert steps["params"]["properties"]["steps"] == {"type": "integer", "title": "Steps", "minimum": 1,
                                                      "maximum": 1000, "default": 5}


def test_a_kind_reports_progress_and_returns_its_result(server, client):
    task_id = client.call(protocol.START_TASK, {"kind": TEST_KIND, "params": {"steps": 4, "step_seconds": 0.3}})[
        "task_id"]
    events = client.wait_task_final(task_id)
    assert_small_events(events)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert (events[0]["state"], events[-1]["state"]) == ("queued", "succeeded")
    running = [e for e in events if e["state"] == "running"]
    assert [e["message"] for e in running] == ["running", "step 1 of 4", "step 2 of 4", "step 3 of 4", "step 4 of 4"]
    assert [e["percent"] for e in running] == [0, 25, 50, 75, 100]

    record = record_of(server, task_id)
    assert {k: record[k] for k in protocol.PROGRESS_FIELDS} == events[-1]
    assert record["kind"] == TEST_KIND
    assert record["params"] == {"steps": 4, "step_seconds": 0.3, "mode": "normal"}  # defaults filled in
    assert record["result"] == {"sum": 10, "steps": 4} and record["error"] is None
    assert record["created"] <= record["started"] <= record["finished"]
    assert record["finished"] - record["started"] >= 4 * 0.3
    listed = next(t for t in requests.get(server.url + "/tasks", timeout=5).json()["tasks"] if t["task_id"] == task_id)
    assert listed == record
    assert client.call(protocol.TASK_RECORDS, {"task_ids": [task_id, "0" * 32]}) == {"tasks": [record]}


@pytest.mark.parametrize("mode", ["normal", "swallow-cancel", "check"])
def test_a_cancelled_kind_stops_at_its_next_report_or_check(server, client, mode):
    task_id = start(server, TEST_KIND, steps=200, step_seconds=0.1, mode=mode)
    client.wait_for(lambda _: any(e["state"] == "running" for e in client.progress(task_id)), what="running")
    assert requests.post(f"{server.url}/tasks/{task_id}/cancel", timeout=5).status_code == 202
    events = client.wait_task_final(task_id, timeout=10)
    assert events[-1]["state"] == "cancelled" and events[-1]["percent"] < 100
    record = record_of(server, task_id)
    assert record["state"] == "cancelled" and record["result"] is None and record["error"] is None
    assert record["finished"] is not None


def test_a_kind_that_raises_is_failed_with_the_exceptions_type_and_message(server, client):
    task_id = start(server, TEST_KIND, steps=4, step_seconds=0.1, mode="fail")
    events = client.wait_task_final(task_id)
    assert_small_events(events)
    assert events[-1]["state"] == "failed"
    assert events[-1]["message"] == f"failed: ValueError: {FAILURE.format(step=3)}"
    record = record_of(server, task_id)
    assert record["error"] == {"type": "ValueError", "message": FAILURE.format(step=3)}
    assert record["result"] is None and record["finished"] is not None
    assert "Traceback" not in json.dumps(record)


def test_a_result_that_is_not_json_fails_the_task_saying_why(server, client):
    task_id = start(server, TEST_KIND, steps=1, step_seconds=0, mode="not-json")
    assert client.wait_task_final(task_id)[-1]["state"] == "failed"
    error = record_of(server, task_id)["error"]
    assert error["type"] == "TypeError" and "must be JSON" in error["message"]


def test_primes_counts_the_primes_below_its_limit(server, client):
    task_id = start(server, "primes", below=3_000_000)  # three segments: three reports at least
    events = client.wait_task_final(task_id)
    assert events[-1]["state"] == "succeeded"
    assert any(e["state"] == "running" and 0 < e["percent"] < 100 for e in events)
    assert record_of(server, task_id)["result"] == {"below": 3_000_000, "count": 216_816, "largest": 2_999_999}


def test_the_demo_fails_on_purpose_when_asked(server, client):
    task_id = start(server, protocol.ORIGINAL_TASK_KIND, seconds=1, fail=True)
    events = client.wait_task_final(task_id)
    assert events[-1]["state"] == "failed" and "FailedOnPurpose: failed half-way on purpose" in events[-1]["message"]
    assert record_of(server, task_id)["error"]["type"] == "FailedOnPurpose"
    assert protocol.BACKGROUND_COMPLETE not in client.responses()


@pytest.mark.parametrize("start_it", [
    lambda server, client: requests.get(server.url + "/bg", timeout=5) and None,
    lambda server, client: requests.post(server.url + "/tasks", json={"seconds": 0.5}, timeout=5).json()["task_id"],
    lambda server, client: client.call(protocol.START_TASK, {})["task_id"],
], ids=["GET /bg", "POST seconds", "start task {}"])
def test_the_original_requests_start_the_demo_kind(server, client, start_it):
    task_id = start_it(server, client)
    if task_id is None:  # GET /bg answers "Started" only: its task is the one the client sees
        def queued():
            return [e for e in client.of(protocol.TASK_PROGRESS) if e["state"] == "queued"]
        client.wait_for(lambda _: queued(), what="the /bg task")
        task_id = queued()[0]["task_id"]
    assert client.wait_task_final(task_id)[-1]["state"] == "succeeded"
    record = record_of(server, task_id)
    assert record["kind"] == protocol.ORIGINAL_TASK_KIND
    assert record["params"]["fail"] is False and record["params"]["seconds"] in (0.5, 1)
    assert record["result"]["seconds"] == record["params"]["seconds"]


BAD_REQUESTS = {
    "unknown-kind": ({"kind": "no-such-kind"}, "kind"),
    "kind-not-a-string": ({"kind": ["primes"]}, "kind"),
    "params-not-an-object": ({"kind": "primes", "params": [1]}, "params"),
    "missing": ({"kind": TEST_KIND, "params": {"step_seconds": 0}}, "params.steps"),
    "wrong-type": ({"kind": TEST_KIND, "params": {"steps": "5"}}, "params.steps"),
    "boolean-for-integer": ({"kind": TEST_KIND, "params": {"steps": True}}, "params.steps"),
    "fraction-for-integer": ({"kind": TEST_KIND, "params": {"steps": 2.5}}, "params.steps"),
    "below-minimum": ({"kind": TEST_KIND, "params": {"steps": 0}}, "params.steps"),
    "above-maximum": ({"kind": TEST_KIND, "params": {"steps": 1001}}, "params.steps"),
    "number-above-maximum": ({"kind": TEST_KIND, "params": {"steps": 1, "step_seconds": 5.01}}, "params.step_seconds"),
    "not-in-enum": ({"kind": TEST_KIND, "params": {"steps": 1, "mode": "explode"}}, "params.mode"),
    "unknown-parameter": ({"kind": TEST_KIND, "params": {"steps": 1, "colour": "red"}}, "params.colour"),
    "seconds-beside-kind": ({"kind": "primes", "seconds": 5}, "seconds"),
    "demo-out-of-range": ({"kind": protocol.ORIGINAL_TASK_KIND, "params": {"seconds": 3601}}, "params.seconds"),
}


@pytest.mark.parametrize("transport", ["http", "socket"])
@pytest.mark.parametrize("payload, field", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_a_start_request_the_kinds_schema_refuses_is_invalid_payload_naming_the_field(
        server, client, transport, payload, field):
    if transport == "http":
        reply = requests.post(server.url + "/tasks", json=payload, timeout=5)
        assert reply.status_code == 400
        error = reply.json()["error"]
    else:
        reply = client.call(protocol.START_TASK, payload)
        assert "task_id" not in reply
        error = reply["error"]
    assert error["code"] == "invalid_payload" and error["field"] == field
    assert f"'{field}'" in error["message"] or f"'{field.split('.')[-1]}'" in error["message"]
    assert "Traceback" not in error["message"]
    assert client.of(protocol.TASK_PROGRESS) == []  # nothing was queued


def test_nan_is_refused_as_a_parameter(server):
    reply = requests.post(server.url + "/tasks", data=b'{"kind": "test-steps", "params": {"steps": 1, '
                                                       b'"step_seconds": NaN}}',
                          headers={"Content-Type": "application/json"}, timeout=5)
    assert reply.status_code == 400 and reply.json()["error"]["field"] == "params.step_seconds"


@pytest.mark.parametrize("payload, code", [
    (None, "invalid_payload"), ({}, "missing_field"), ({"task_ids": "abc"}, "invalid_type"),
    ({"task_ids": []}, "out_of_range"), ({"task_ids": ["0" * 32] * 51}, "out_of_range"),
    ({"task_ids": ["not-an-id"]}, "not_found"), ({"task_ids": [5]}, "invalid_type"),
], ids=["none", "empty", "string", "no-ids", "too-many", "bad-id", "number-id"])
def test_a_bad_records_request_is_refused(client, payload, code):
    assert client.call(protocol.TASK_RECORDS, payload)["error"]["code"] == code


def readme_example():
    """Return the module and the shell lines of the README's "Add your own task" example."""
    with open("README.md", encoding="utf-8") as readme:
        section = readme.read().split("## Add your own task", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    module = next(code for language, code in blocks if language == "python")
    shell = next(code for language, code in blocks if language == "sh")
    return module, shell


def test_the_readme_example_works_as_printed(tmp_path, log_dir):
    module, shell = readme_example()
    name = re.search(r"TASK_MODULES=(\w+)", shell).group(1)
    (tmp_path / f"{name}.py").write_text(module, encoding="utf-8")
    request = json.loads(re.search(r"-d '(\{.*?\})'", shell).group(1))
    stack = Stack(log_dir, "readme-example", TASK_MODULES=name, PYTHONPATH=str(tmp_path))
    try:
        stack.start_worker()
        stack.start_server("eventlet")
        client = stack.client()
        kinds = requests.get(stack.url + protocol.ROUTE_TASK_KINDS, timeout=5).json()["kinds"]
        assert request["kind"] in [kind["name"] for kind in kinds]
        reply = requests.post(stack.url + "/tasks", json=request, timeout=5)
        assert reply.status_code == 202, reply.text
        task_id = reply.json()["task_id"]
        events = client.wait_task_final(task_id, timeout=60)
        assert events[-1]["state"] == TaskState.SUCCEEDED, events[-3:]
        assert len([e for e in events if e["state"] == "running"]) >= 3
        record = requests.get(f"{stack.url}/tasks/{task_id}", timeout=5).json()
        assert record["result"] is not None and record["kind"] == request["kind"]
    finally:
        stack.close()

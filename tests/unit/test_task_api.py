"""The task API's pure parts: schema checks, validation with defaults, the reporter's pacing, results."""
import math

import pytest

from server import task_api
from server.task_api import TaskKind, TaskReporter
from shared import config, protocol
from shared.protocol import ProtocolError, TaskState

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["count"], "properties": {
    "count": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
    "rate": {"type": "number", "exclusiveMinimum": 0, "default": 1.5},
    "loud": {"type": "boolean", "default": False},
    "colour": {"type": "string", "enum": ["red", "blue"]},
}}
KIND = TaskKind(name="sample", title="Sample", description="", schema=SCHEMA, celery_task=None,
                expected_seconds=lambda params: 1, arguments=None)
SETTINGS = config.load({})


def test_defaults_are_filled_in_and_integral_numbers_become_integers():
    assert task_api.validate(KIND, {"count": 4.0}, SETTINGS) == {"count": 4, "rate": 1.5, "loud": False}
    assert type(task_api.validate(KIND, {"count": 4.0}, SETTINGS)["count"]) is int


@pytest.mark.parametrize("params, field, words", [
    ({}, "params.count", "is missing"),
    ({"count": "3"}, "params.count", "must be a whole number, not \"3\""),
    ({"count": True}, "params.count", "must be a whole number, not true"),
    ({"count": 0}, "params.count", "must be at least 1, not 0"),
    ({"count": 11}, "params.count", "must be at most 10, not 11"),
    ({"count": 1, "rate": 0}, "params.rate", "must be more than 0, not 0"),
    ({"count": 1, "rate": math.inf}, "params.rate", "must be a finite number"),
    ({"count": 1, "rate": math.nan}, "params.rate", "must be a finite number"),
    ({"count": 1, "loud": "yes"}, "params.loud", "must be true or false"),
    ({"count": 1, "colour": "green"}, "params.colour", 'must be one of "red", "blue", not "green"'),
    ({"count": 1, "size": 2}, "params.size", "unknown parameter 'params.size'; kind 'sample' takes count, rate"),
], ids=["missing", "string", "boolean", "below", "above", "exclusive", "infinite", "nan", "not-boolean",
        "not-in-enum", "unknown"])
def test_refusals_name_the_field_in_words(params, field, words):
    with pytest.raises(ProtocolError) as refused:
        task_api.validate(KIND, params, SETTINGS)
    assert refused.value.code == "invalid_payload" and refused.value.field == field
    assert words in refused.value.message
    assert refused.value.as_payload()["field"] == field


def test_params_too_big_to_keep_are_refused():
    kind = TaskKind(name="text", title="Text", description="", celery_task=None, expected_seconds=None,
                    arguments=None, schema={"type": "object", "properties": {"text": {"type": "string"}}})
    with pytest.raises(ProtocolError) as refused:
        task_api.validate(kind, {"text": "x" * protocol.MAX_PARAMS_BYTES}, SETTINGS)
    assert refused.value.code == "too_large"


@pytest.mark.parametrize("schema, words", [
    ({"type": "array"}, "must be of an object"),
    ({"type": "object", "properties": {"x": {"type": "array"}}}, "must be of type"),
    ({"type": "object", "properties": {"x": {"type": "integer", "minimum": 5, "default": 1}}}, "does not fit"),
    ({"type": "object", "properties": {"x": {"type": "integer", "minimum": "five"}}}, "not a valid JSON Schema"),
], ids=["not-an-object", "unsupported-type", "bad-default", "invalid-schema"])
def test_kinds_clients_cannot_build_a_form_for_are_refused_at_declaration(schema, words):
    with pytest.raises(ValueError, match=words):
        task_api.check_schema("bad", schema)


def test_configured_defaults_show_in_the_schema():
    kind = TaskKind(name="wait", title="Wait", description="", celery_task=None, expected_seconds=None,
                    arguments=None, schema={"type": "object", "properties": {"seconds": {"type": "number"}}},
                    settings_defaults=lambda settings: {"seconds": settings.background_task_seconds})
    assert kind.describe(config.load({"BACKGROUND_TASK_SECONDS": "7"}))["params"]["properties"]["seconds"] == {
        "type": "number", "default": 7.0}
    assert kind.schema["properties"]["seconds"] == {"type": "number"}  # the declaration is left alone


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_reporter_records_at_most_one_report_each_interval():
    recorded, clock = [], FakeClock()
    reporter = TaskReporter("t", lambda *args, **kwargs: recorded.append((args, kwargs)), clock)
    for step in range(10):
        reporter.report(step * 10, f"step {step}")
        clock.now += task_api.REPORT_INTERVAL * 0.26  # four steps make one interval
    assert [args[1] for args, _ in recorded] == [0, 40, 80]
    reporter.report(150, "x" * 1000)
    clock.now += task_api.REPORT_INTERVAL
    reporter.report(150, "x" * 1000)
    assert recorded[-1][0] == (TaskState.RUNNING, 100, "x" * task_api.MAX_MESSAGE_CHARS)  # clamped, clipped


@pytest.mark.parametrize("result, error", [
    ({"when": object()}, TypeError), (math.nan, ValueError), ("x" * task_api.MAX_RESULT_BYTES, ValueError),
], ids=["not-json", "nan", "too-big"])
def test_a_result_that_cannot_be_kept_fails_the_task(result, error):
    reporter = TaskReporter("t", lambda *args, **kwargs: pytest.fail("recorded"))
    with pytest.raises(error):
        reporter.finish(result)


def test_a_result_is_recorded_with_the_final_report():
    recorded = []
    TaskReporter("t", lambda *args, **kwargs: recorded.append((args, kwargs))).finish([1, "two", None])
    assert recorded == [((TaskState.SUCCEEDED, 100, "succeeded"), {"result": [1, "two", None]})]


@pytest.mark.parametrize("payload, kind_and_params", [
    (None, ("demo", {"seconds": 10.0})),
    ({"seconds": 2}, ("demo", {"seconds": 2.0})),
    ({"kind": "primes"}, ("primes", {})),
    ({"kind": "primes", "params": None}, ("primes", {})),
    ({"kind": "primes", "params": {"below": 5}}, ("primes", {"below": 5})),
])
def test_start_requests_name_a_kind_or_mean_the_original(payload, kind_and_params):
    assert protocol.parse_start_request(payload, 10.0) == kind_and_params


@pytest.mark.parametrize("held, event, outdated", [
    (None, {"state": "running", "attempt": 1}, True),
    ({"state": "queued", "started": None}, {"state": "queued"}, False),
    ({"state": "queued", "started": None}, {"state": "running", "attempt": 1}, True),
    ({"state": "running", "started": 5.0, "attempt": 1}, {"state": "running", "attempt": 1}, False),
    ({"state": "running", "started": 5.0, "attempt": 1}, {"state": "running", "attempt": 2}, True),
    ({"state": "running", "started": 5.0, "attempt": 1}, {"state": "failed", "attempt": 1}, True),
    ({"state": "failed", "started": 5.0, "attempt": 1}, {"state": "failed", "attempt": 1}, False),
], ids=["none", "still-queued", "started", "running-on", "next-attempt", "ended", "ended-already"])
def test_a_record_is_asked_for_again_only_when_it_moved_on(held, event, outdated):
    assert protocol.record_outdated(held, event) is outdated

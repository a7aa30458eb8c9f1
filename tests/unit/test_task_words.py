"""Both clients word a task alike: the desktop app's timing.py and the page's format.js, run by node on
the same cases (times, elapsed, ETA, durations, parameters, results, failures, record requests)."""
import json
import shutil
import subprocess

import pytest

from desktop_client import timing
from shared import config, protocol

FORMAT_JS = config.PROJECT_ROOT + "/server/static/format.js"
T0 = 1_700_000_000.0

RECORDS = {
    "queued": {"state": "queued", "percent": 0, "ts": T0 + 2, "created": T0, "started": None, "message": "queued"},
    "running-early": {"state": "running", "percent": 0, "ts": T0 + 3, "created": T0, "started": T0 + 3,
                      "message": "running"},
    "running": {"state": "running", "percent": 25, "ts": T0 + 15, "created": T0, "started": T0 + 5,
                "message": "step 1"},
    "running-long": {"state": "running", "percent": 10, "ts": T0 + 600, "created": T0, "started": T0,
                     "message": "slow"},
    "succeeded": {"state": "succeeded", "percent": 100, "ts": T0 + 20, "created": T0, "started": T0 + 1,
                  "finished": T0 + 12.6, "result": {"count": 1229, "below": 10000, "ratio": 0.5, "exact": 5.0},
                  "message": "succeeded"},
    "succeeded-list": {"state": "succeeded", "percent": 100, "ts": T0 + 20, "created": T0, "started": T0 + 1,
                       "finished": T0 + 3700, "result": [1, "two", None, True], "message": "succeeded"},
    "failed": {"state": "failed", "percent": 40, "ts": T0 + 9, "created": T0, "started": T0 + 1, "finished": T0 + 9,
               "error": {"type": "ValueError", "message": "x" * 400}, "message": "failed: ValueError: x"},
    "cancelled-queued": {"state": "cancelled", "percent": 0, "ts": T0 + 4, "created": T0, "started": None,
                         "finished": T0 + 4, "message": "cancelled"},
    "lost": {"state": "failed", "percent": 30, "ts": T0 + 9, "created": T0, "started": T0 + 1, "finished": T0 + 30,
             "error": None, "message": "failed: worker lost: no report for 10 s"},
}
SINCE = [0, 0.4, 7.5]
PARAMS = [({"below": 5, "extra": "ü <b>", "seconds": 1.5, "fail": False}, {"properties": {"seconds": {}, "below": {},
                                                                                           "fail": {}}}),
          ({"n": 3.0}, None), (None, None), ({}, None)]
OUTDATED = [(None, {"state": "queued", "attempt": 1}),
            ({"state": "queued", "started": None, "attempt": 1}, {"state": "running", "attempt": 1}),
            ({"state": "running", "started": T0, "attempt": 1}, {"state": "running", "attempt": 1}),
            ({"state": "running", "started": T0, "attempt": 1}, {"state": "running", "attempt": 2}),
            ({"state": "running", "started": T0, "attempt": 1}, {"state": "cancelled", "attempt": 1}),
            ({"state": "failed", "started": T0, "attempt": 1}, {"state": "failed", "attempt": 1})]

NODE_SCRIPT = """
import * as f from %(module)s;
const cases = JSON.parse(process.argv[2]);
const out = {
  times: cases.records.map(([r, s]) => f.timesText(r, s)),
  outcome: cases.records.map(([r]) => [f.outcome(r).kind, f.outcome(r).text]),
  durations: cases.durations.map(f.formatDuration),
  params: cases.params.map(([p, s]) => f.paramsSummary(p, s)),
  outdated: cases.outdated.map(([r, e]) => f.recordOutdated(r, e)),
};
console.log(JSON.stringify(out));
"""


def python_words(cases):
    return {
        "times": [timing.times_text(r, s) for r, s in cases["records"]],
        "outcome": [list(timing.outcome(r)) for r, _ in cases["records"]],
        "durations": [timing.format_duration(d) for d in cases["durations"]],
        "params": [timing.params_summary(p, s) for p, s in cases["params"]],
        "outdated": [protocol.record_outdated(r, e) for r, e in cases["outdated"]],
    }


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    path = shutil.which("node")
    if not path:
        pytest.skip("node is not installed (it comes with npm)")
    module = tmp_path_factory.mktemp("words") / "format.mjs"  # node loads ES modules by this extension
    module.write_text(open(FORMAT_JS, encoding="utf-8").read(), encoding="utf-8")
    return path, module


def test_the_page_and_the_desktop_app_word_tasks_alike(node, tmp_path):
    path, module = node
    cases = {"records": [[record, since] for record in RECORDS.values() for since in SINCE],
             "durations": [0, 0.49, 0.5, 59.5, 61, 3599.6, 3600, 86399, 90061.2],
             "params": PARAMS, "outdated": OUTDATED}
    script = tmp_path / "run.mjs"
    script.write_text(NODE_SCRIPT % {"module": json.dumps(module.as_uri())}, encoding="utf-8")
    ran = subprocess.run([path, str(script), json.dumps(cases)], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0, ran.stderr
    page, desktop = json.loads(ran.stdout), python_words(cases)
    for family in desktop:
        assert page[family] == desktop[family], family


@pytest.mark.parametrize("name, since, expected", [
    ("queued", 0.4, "queued {c0} · waiting 0:02"),
    ("running-early", 0, "started {c3} · elapsed 0:00 · ETA …"),
    ("running", 0, "started {c5} · elapsed 0:10 · ETA 0:30"),  # 25 % in 10 s: 30 s to go
    ("running", 7.5, "started {c5} · elapsed 0:18 · ETA 0:23"),
    ("running-long", 0, "started {c0} · elapsed 10:00 · ETA 1:30:00"),
    ("succeeded", 0, "started {c1} · took 0:12"),
    ("cancelled-queued", 0, "queued {c0} · ended after 0:04"),
])
def test_times_say_started_elapsed_eta_and_duration(name, since, expected):
    clocks = {f"c{n}": timing.format_clock(T0 + n) for n in (0, 1, 3, 5)}
    assert timing.times_text(RECORDS[name], since) == expected.format(**clocks)


@pytest.mark.parametrize("name, expected", [
    ("succeeded", ("result", "Result: count=1229, below=10000, ratio=0.5, exact=5")),
    ("succeeded-list", ("result", 'Result: [1,"two",null,true]')),
    ("lost", ("failure", "failed: worker lost: no report for 10 s")),
    ("running", ("message", "step 1")),
])
def test_outcome_is_the_result_the_failure_or_the_message(name, expected):
    assert timing.outcome(RECORDS[name]) == expected


def test_a_long_failure_is_clipped():
    kind, text = timing.outcome(RECORDS["failed"])
    assert kind == "failure" and text.startswith("Failed: ValueError: xxx") and text.endswith("…")
    assert len(text) == len("Failed: ") + timing.MAX_OUTCOME_CHARS + 1

"""How the app words a task: times, elapsed and ETA, parameters, outcome. No Qt here: the page words them
the same way (server/static/format.js), and tests/unit/test_task_words.py runs both on the same cases.

A task's latest state is given as a mapping with state, percent, ts (the server's time of its latest
event), message, and its record's created, started, finished, result and error (protocol.RECORD_FIELDS).
Only differences of the server's own times are used, so a skewed clock on either side does not matter.
"""
import json
import time
from datetime import datetime

FINAL = ("succeeded", "failed", "cancelled")
MAX_OUTCOME_CHARS = 300


def format_duration(seconds):
    """Return seconds as m:ss, or h:mm:ss from an hour on."""
    whole = max(0, int(_round_half_up(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_clock(unix_seconds):
    """Return a Unix time as the local time of day, HH:MM:SS."""
    return datetime.fromtimestamp(unix_seconds).strftime("%H:%M:%S")


def params_summary(params, schema=None):
    """Return parameters as "name=value, …", in the order the kind's schema declares them."""
    if not isinstance(params, dict):
        return ""
    order = [name for name in ((schema or {}).get("properties") or {}) if name in params]
    names = order + [name for name in params if name not in order]
    return ", ".join(f"{name}={_value(params[name])}" for name in names)


def result_text(result):
    """Return a result as rows show it: an object as "name=value, …", anything else as JSON."""
    return params_summary(result) if isinstance(result, dict) else _json(result)


def timing(record, since_event):
    """Return {waiting, elapsed, eta, duration} in seconds (None when not known) of a task's latest state.

    since_event is how long ago (on this machine's clock) its latest event arrived. The ETA carries the
    observed rate (percent done since the attempt started) on to 100 %.
    """
    start, since = record.get("started"), max(0.0, since_event or 0.0)
    result = {"waiting": None, "elapsed": None, "eta": None, "duration": None}
    state, percent = record.get("state"), record.get("percent") or 0
    if state in FINAL:
        begin = start if start is not None else record.get("created")
        if record.get("finished") is not None and begin is not None:
            result["duration"] = max(0.0, record["finished"] - begin)
    elif state == "running" and start is not None:
        ran = max(0.0, record["ts"] - start)
        result["elapsed"] = ran + since
        if 0 < percent < 100 and ran > 0:
            result["eta"] = max(0.0, (100 - percent) * ran / percent - since)
    elif state == "queued" and record.get("created") is not None:
        result["waiting"] = max(0.0, record["ts"] - record["created"]) + since
    return result


def times_text(record, since_event):
    """Return the times line of a task: started (or queued) at, waiting, elapsed and ETA, or how long it took."""
    times = timing(record, since_event)
    parts = []
    if record.get("started") is not None:
        parts.append("started " + format_clock(record["started"]))
    elif record.get("created") is not None:
        parts.append("queued " + format_clock(record["created"]))
    if times["waiting"] is not None:
        parts.append("waiting " + format_duration(times["waiting"]))
    if times["elapsed"] is not None:
        parts.append("elapsed " + format_duration(times["elapsed"]))
    if record.get("state") == "running":
        parts.append("ETA " + ("…" if times["eta"] is None else format_duration(times["eta"])))
    if times["duration"] is not None:
        took = "took " if record.get("started") is not None else "ended after "
        parts.append(took + format_duration(times["duration"]))
    return " · ".join(parts)


def outcome(record):
    """Return (kind, text): what a row says of a task: "result", "failure" or its latest "message"."""
    state = record.get("state")
    if state == "succeeded" and record.get("result") is not None:
        return "result", "Result: " + _clip(result_text(record["result"]))
    error = record.get("error")
    if state == "failed" and isinstance(error, dict):
        return "failure", "Failed: " + _clip(f"{error.get('type')}: {error.get('message')}")
    return ("failure" if state == "failed" else "message"), str(record.get("message") or "")


def since(monotonic_time):
    """Return how many seconds ago monotonic_time (time.monotonic()) was."""
    return time.monotonic() - monotonic_time


def _value(value):
    return value if isinstance(value, str) else _json(value)


def _json(value):
    # As JavaScript's JSON.stringify writes it: no spaces, and 5.0 as 5.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json(str(k))}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _clip(text):
    return text if len(text) <= MAX_OUTCOME_CHARS else text[:MAX_OUTCOME_CHARS] + "…"


def _round_half_up(value):
    # As JavaScript's Math.round does for the positive numbers used here.
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)

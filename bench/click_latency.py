"""Figure 4: click -> first progress event, starting over HTTP (POST /tasks) and over the socket.

A socket.io client is connected first, as the page is; each click starts a zero-second task and
the time runs until the client has the task's first `task progress`. Also timed: until its first
`running` event (a worker picked it up), which is what the baseline's first message stands for:
the article's /bg answers only when its worker's new SocketIO emits "background task starting".
"""
import threading
import time
import http.client
import json
import urllib.parse

import socketio

from bench.figures import Row, at_most
from bench.stack import BASELINE, OURS
from bench.stats import median, percentile
from shared import protocol

P50_TARGET_MS = 5.0
WAIT_SECONDS = 10
PAUSE_SECONDS = 0.05  # between clicks, so tasks do not queue behind each other


class Watcher:
    """A socket.io client that notes when each task's first event, and first `running`, arrived."""

    def __init__(self, url):
        self.first, self.running, self.messages = {}, {}, []
        address = urllib.parse.urlsplit(url)  # one kept-alive connection, as the page's fetch() has
        self.http = http.client.HTTPConnection(address.hostname, address.port, timeout=WAIT_SECONDS)
        self._changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on(protocol.TASK_PROGRESS, self._on_progress, namespace=protocol.NAMESPACE)
        self.sio.on(protocol.MY_RESPONSE, self._on_response, namespace=protocol.NAMESPACE)
        self.sio.connect(url, namespaces=[protocol.NAMESPACE], transports=["websocket"], wait_timeout=10)

    def _on_progress(self, event):
        now = time.monotonic()
        with self._changed:
            self.first.setdefault(event["task_id"], now)
            if event["state"] != protocol.TaskState.QUEUED:
                self.running.setdefault(event["task_id"], now)
            self._changed.notify_all()

    def _on_response(self, message):
        with self._changed:
            self.messages.append((time.monotonic(), message.get("data")))
            self._changed.notify_all()

    def wait(self, predicate):
        """Wait until predicate() holds; return whether it did within WAIT_SECONDS."""
        with self._changed:
            return self._changed.wait_for(predicate, WAIT_SECONDS)

    def close(self):
        """Disconnect."""
        self.sio.disconnect()
        self.http.close()


def request(watcher, method, path, body=None):
    """Send one request on the watcher's connection; return the reply's body (an error unless 2xx)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    watcher.http.request(method, path, body=body, headers=headers)
    reply = watcher.http.getresponse()
    data = reply.read()
    if not 200 <= reply.status < 300:
        raise RuntimeError(f"{method} {path}: {reply.status} {data[:200]!r}")
    return data


def http_start(watcher):
    """POST /tasks for a zero-second task; return its id."""
    return json.loads(request(watcher, "POST", protocol.ROUTE_TASKS, b'{"seconds": 0}'))["task_id"]


def socket_start(watcher):
    """Emit `start task` for a zero-second task; return the id in its ack."""
    return watcher.sio.call(protocol.START_TASK, {"seconds": 0}, namespace=protocol.NAMESPACE,
                            timeout=WAIT_SECONDS)["task_id"]


def click_ours(watcher, start):
    """Start one task; return (ms to its first event, ms to its first running event)."""
    clicked = time.monotonic()
    task_id = start()
    watcher.wait(lambda: task_id in watcher.running)
    first, running = watcher.first.get(task_id), watcher.running.get(task_id)
    return tuple(None if at is None else (at - clicked) * 1000 for at in (first, running))


def click_baseline(watcher):
    """Open /bg for a zero-second task; return ms to the worker's first message."""
    seen = len(watcher.messages)
    clicked = time.monotonic()
    request(watcher, "GET", protocol.ROUTE_BACKGROUND + "?seconds=0")
    new = lambda: [at for at, data in watcher.messages[seen:] if data == protocol.BACKGROUND_STARTING]  # noqa: E731
    watcher.wait(lambda: new() and watcher.messages[-1][1] == protocol.BACKGROUND_COMPLETE)
    return (new()[0] - clicked) * 1000 if new() else None


def measure(system, plan):
    """Return {way: [ms per click]} for one system."""
    watcher = Watcher(system.url)
    try:
        if system.kind == BASELINE:
            return {"http": [_paced(lambda: click_baseline(watcher)) for _ in range(plan.clicks)]}
        samples = {}
        for way, start in (("http", lambda: http_start(watcher)), ("socket", lambda: socket_start(watcher))):
            clicks = [_paced(lambda: click_ours(watcher, start)) for _ in range(plan.clicks)]
            samples[way] = [first for first, _running in clicks]
            samples[f"{way}_running"] = [running for _first, running in clicks]
        return samples
    finally:
        watcher.close()


def _paced(click):
    result = click()
    time.sleep(PAUSE_SECONDS)
    return result


def run(lab, plan, log=print):
    """Measure figure 4 for ours (HTTP and socket) and the baseline (HTTP), per async mode."""
    runs = {}
    for repeat in range(plan.repeats):
        for mode in plan.modes:
            for kind in (OURS, BASELINE):
                system = lab.system(kind, mode, worker=True)
                samples = measure(system, plan)
                p50s = {way: percentile([s for s in values if s is not None], 50) for way, values in samples.items()}
                runs.setdefault(system.name, []).append({"p50": p50s, "p99": {
                    way: percentile([s for s in values if s is not None], 99) for way, values in samples.items()},
                    "missing": {way: values.count(None) for way, values in samples.items()}})
                log(f"  click latency {system.name:<18} p50 " + ", ".join(
                    f"{way} {value:.1f} ms" for way, value in p50s.items() if value is not None)
                    + f" (run {repeat + 1})")
    return rows(runs, plan), {"runs": runs}


def rows(runs, plan):
    """Return figure 4's rows: HTTP and socket start, per async mode."""
    out = []
    for mode in plan.modes:
        ours, base = runs[f"{OURS}-{mode}"], runs[f"{BASELINE}-{mode}"]
        def p50(entries, way):
            return median([entry["p50"].get(way) for entry in entries])
        for way, label in (("http", "HTTP POST /tasks"), ("socket", "socket `start task`")):
            value = p50(ours, way)
            note = f"first `running` event (worker picked it up): p50 {_ms(p50(ours, way + '_running'))}"
            if way == "http":
                note += "; baseline = /bg until the worker's first message"
            out.append(Row(f"4. click → first progress, {label} p50 ({mode})", "ms", value,
                           p50(base, way) if way == "http" else None, None, None, "",
                           f"≤ {P50_TARGET_MS:g} ms", at_most(value, P50_TARGET_MS), note))
    return out


def _ms(value):
    return "—" if value is None else f"{value:.1f} ms"

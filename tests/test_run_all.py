"""run_all.py end to end: the whole system from one command, driven and stopped as a user would."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from launcher import preflight
from launcher.quiet import RedisLines
from launcher.redis_server import free_port
from shared import config, protocol
from tests.support.clients import RecordingClient
from tests.support.launch import READY, PREFIXED, STARTED, ROOT, assert_all_gone, children_named  # noqa: F401

LOOK_INSIDE = re.compile(r'run_all \| REDIS_URL=(.+) \(then, workers: (.+ inspect active); '
                         r'Flower: FLOWER_UNAUTHENTICATED_API=1 (.+) flower\)$')
WORKER_READY = re.compile(r"worker +\| .*\] (run_all-\w+@\S+) ready\.")
CLOCK = re.compile(r"\b\d\d:\d\d:\d\d\b")
BANNERS = ["oO0OoO0OoO0Oo", "Redis version=", "Memory overcommit", "-------------- ", "[config]", "[tasks]"]


def test_help_explains_every_option_and_the_environment():
    result = subprocess.run([sys.executable, "run_all.py", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0
    for word in ["--no-desktop", "--open-browser", "--port", "--workers", "--async-mode",
                 "--private-redis", "--redis-dir", "REDIS_URL", "SERVER_PORT", "WORKER_CONCURRENCY",
                 "SOCKETIO_ASYNC_MODE", "BACKGROUND_TASK_SECONDS", "LOG_LEVEL"]:
        assert word in result.stdout


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_runs_the_original_protocol_and_stops_everything_on_ctrl_c(launch, tmp_path, async_mode):
    browser, opened = tmp_path / "browser", tmp_path / "opened"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")  # a browser that notes what it was asked
    browser.chmod(0o755)
    run = launch("--no-desktop", "--port", free_port(), "--workers", 2, "--async-mode", async_mode,
                 "--open-browser", BROWSER=browser)
    url = run.wait_ready()
    tree = run.tree()
    client = RecordingClient(url)
    try:
        client.emit(protocol.MY_EVENT, {"data": "hello"})
        client.wait_for(lambda _: protocol.echo_text("hello") in client.responses(), what="the echo")
        with urllib.request.urlopen(url + protocol.ROUTE_BACKGROUND, timeout=10) as reply:
            assert reply.read().decode() == protocol.BACKGROUND_STARTED_REPLY
        client.wait_for(lambda _: protocol.BACKGROUND_COMPLETE in client.responses(), what="/bg's task")
        background = [r for r in client.responses() if r.startswith("background task")]
        assert background == [protocol.BACKGROUND_STARTING, protocol.BACKGROUND_COMPLETE]
    finally:
        client.close()
    [worker] = children_named(tree, run.process.pid, "celery")
    assert len(worker.children()) == 2  # --workers 2: two prefork pool processes
    assert opened.read_text().strip() == url
    redis_url, inspect_command = assert_calm_output_that_says_how_to_look_inside(run)
    # Pasted into a shell as printed: the line sets REDIS_URL (reading the password from its file),
    # then the inspect command uses it.
    inspected = subprocess.run(["bash", "-c", f"REDIS_URL={redis_url}; {inspect_command}"],
                               capture_output=True, text=True, timeout=60)
    worker_name = run.wait_for(WORKER_READY.pattern).group(1)
    assert inspected.returncode == 0 and worker_name in inspected.stdout, inspected

    run.process.send_signal(signal.SIGINT)
    assert run.finish() == 0, run.output()
    assert_all_gone(tree)
    assert {"run_all", "redis", "worker", "server"} <= {PREFIXED.match(line).group(1) for line in run.lines}
    assert "\x1b[" not in run.output()  # colour only on a terminal

    # The private Redis keeps its data: the next start still knows the task (whatever file layout
    # the Redis version uses for its append-only file).
    [task_id] = {event["task_id"] for event in client.of(protocol.TASK_PROGRESS)}
    again = launch("--no-desktop", "--port", free_port(), "--async-mode", async_mode)
    url = again.wait_ready()
    with urllib.request.urlopen(f"{url}/tasks/{task_id}", timeout=10) as reply:
        assert json.loads(reply.read())["state"] == "succeeded"
    # One launcher data dir, one worker name: Flower does not collect an offline worker per start.
    assert again.wait_for(WORKER_READY.pattern).group(1) == worker_name
    again.process.send_signal(signal.SIGINT)
    assert again.finish() == 0, again.output()


def assert_calm_output_that_says_how_to_look_inside(run):
    """Assert no banner and one time per line before the ready line; return REDIS_URL, inspect command."""
    before_ready = run.lines[:next(i for i, line in enumerate(run.lines) if READY.search(line))]
    assert not [line for line in before_ready for banner in BANNERS if banner in line], run.output()
    assert [line for line in before_ready if len(CLOCK.findall(line)) != 1] == [], run.output()
    look_inside = LOOK_INSIDE.search(before_ready[-1])
    assert look_inside, f"no REDIS_URL line just before the ready line:\n{run.output()}"
    redis_url, inspect_command, flower_celery = look_inside.groups()
    assert '-b "$REDIS_URL"' in inspect_command and flower_celery.endswith('-b "$REDIS_URL"')
    password = open(os.path.join(run.redis_dir, "redis.password")).read().strip()
    assert password not in run.output()  # read from its file by the line itself, never printed
    return redis_url, inspect_command


def test_port_in_use_is_refused_before_anything_starts(launch):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        run = launch("--no-desktop", "--port", port)
        assert run.finish() == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in run.output()
    assert "--port N" in run.output()
    assert not STARTED.search(run.output())
    assert "Traceback" not in run.output()


def test_explicit_redis_url_that_does_not_answer_is_an_error_not_a_private_redis(launch):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    run = launch("--no-desktop", "--port", free_port(), redis_url=closed)
    assert run.finish() == 1
    assert f"No Redis answers at REDIS_URL={closed}" in run.output()
    assert "unset it" in run.output()
    assert not STARTED.search(run.output())  # no private Redis, nor anything else
    assert "Traceback" not in run.output()


def test_a_dying_worker_is_named_and_everything_stops(launch):
    run = launch("--no-desktop", "--port", free_port(), "--workers", 1)
    run.wait_ready()
    tree = run.tree()
    [worker] = children_named(tree, run.process.pid, "celery")
    worker.kill()
    assert run.finish() == 1
    run.wait_for(r"run_all \| worker was killed by SIGKILL: stopping everything")
    run.wait_for(r"run_all \| the last lines worker wrote:")
    run.wait_for(r"run_all \|   worker: .*ready\.")  # the tail shows what the worker last said
    assert_all_gone(tree)


def test_desktop_app_connects_and_closing_it_stops_everything(launch):
    port = free_port()
    run = launch("--port", port, QT_QPA_PLATFORM="offscreen")
    run.wait_ready()
    tree = run.tree()
    [desktop] = children_named(tree, run.process.pid, "desktop_client")
    assert f"--server http://127.0.0.1:{port}" in " ".join(desktop.cmdline())

    def connected_to_server():
        return any(c.status == psutil.CONN_ESTABLISHED and c.raddr and c.raddr.port == port
                   for c in desktop.net_connections(kind="tcp"))
    deadline = time.monotonic() + 20
    while not connected_to_server():
        assert time.monotonic() < deadline, f"the desktop app never connected:\n{run.output()[-3000:]}"
        assert desktop.is_running(), f"the desktop app exited:\n{run.output()[-3000:]}"
        time.sleep(0.1)

    desktop.send_signal(signal.SIGINT)  # the desktop app closes its window on Ctrl+C, as a user would
    assert run.finish() == 0, run.output()
    run.wait_for(r"run_all \| desktop closed: stopping everything")
    assert_all_gone(tree)


REDIS_START = """\
8292:C 29 Nov 2026 03:20:53.849 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
8292:C 29 Nov 2026 03:20:53.849 # Redis version=6.2.14, bits=64, commit=40305114, modified=0, pid=8292
8292:M 29 Nov 2026 03:20:53.850 # WARNING Memory overcommit must be enabled! Without it, ...
8292:M 29 Nov 2026 03:20:53.850 * Ready to accept connections
8292:M 29 Nov 2026 03:25:01.002 * Background append only file rewriting started by pid 9000
8292:signal-handler (1795923027) Received SIGTERM scheduling shutdown...
8292:M 29 Nov 2026 03:30:27.118 # User requested shutdown..."""


def test_redis_lines_hide_the_banner_and_redis_own_time_stamps():
    shown = list(map(RedisLines(), REDIS_START.splitlines()))
    assert shown == [None, None, None, None, "Background append only file rewriting started by pid 9000",
                     "Received SIGTERM scheduling shutdown...", "User requested shutdown..."]


def test_missing_package_is_named_with_the_fix(monkeypatch):
    monkeypatch.setitem(preflight.PACKAGES, "no_such_module_for_run_all", "no-such-package")
    with pytest.raises(preflight.LaunchError, match=r"package no-such-package is not installed.*\./dev run"):
        preflight.check_packages("threading", desktop=False)


def test_missing_page_client_is_named_with_the_fix(tmp_path):
    with pytest.raises(preflight.LaunchError, match=r"socket\.io client is missing.*server\.page_client"):
        preflight.check_page_assets(vendor_dir=str(tmp_path))


def test_desktop_without_a_display_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(preflight.LaunchError, match=r"--no-desktop.*QT_QPA_PLATFORM=offscreen"):
        preflight.check_display({})


def test_a_default_redis_that_answers_is_used_rather_than_a_private_one(redis_server, monkeypatch, tmp_path):
    monkeypatch.setitem(config.DEFAULTS, "REDIS_URL", redis_server.url)
    assert preflight.choose_redis({}, private=False, data_dir=str(tmp_path)) == (redis_server.url, None)
    assert not (tmp_path / "run_all.lock").exists()


def test_one_redis_data_dir_serves_one_private_redis_at_a_time(tmp_path):
    url, (server, lock_fd) = preflight.choose_redis({}, private=True, data_dir=str(tmp_path))
    try:
        assert url == server.url and server.persist
        with pytest.raises(preflight.LaunchError, match=r"keeps its data in .*--redis-dir DIR"):
            preflight.choose_redis({}, private=True, data_dir=str(tmp_path))
    finally:
        os.close(lock_fd)
    _url, (_server, lock_fd) = preflight.choose_redis({}, private=True, data_dir=str(tmp_path))
    os.close(lock_fd)  # it could be taken again once released


def test_explicit_redis_url_and_private_redis_together_are_refused():
    with pytest.raises(preflight.LaunchError, match=r"REDIS_URL is set and --private-redis"):
        preflight.choose_redis({"REDIS_URL": "redis://127.0.0.1:1/0"}, private=True, data_dir=".")


def test_ctrl_c_mid_task_stops_the_worker_warmly_and_the_task_runs_again_at_the_next_start(launch):
    run = launch("--no-desktop", "--port", free_port(), "--workers", 1, "--async-mode", "threading")
    url = run.wait_ready()
    tree = run.tree()
    client = RecordingClient(url)
    try:
        task_id = client.call(protocol.START_TASK, {"seconds": 4})["task_id"]
        client.wait_for(lambda _: any(e["percent"] >= 25 for e in client.progress(task_id)),
                        what="the task under way")
    finally:
        client.close()
    run.process.send_signal(signal.SIGINT)
    assert run.finish() == 0, run.output()
    assert_all_gone(tree)
    output = run.output()
    assert "Traceback" not in output and "WorkerLostError" not in output, output
    assert "killed by SIGTERM" not in output
    run.wait_for(r"run_all \| worker stopped$")

    again = launch("--no-desktop", "--port", free_port(), "--workers", 1)
    url = again.wait_ready()
    client = RecordingClient(url)
    try:
        client.call(protocol.TASK_HISTORY, {"task_id": task_id})  # connected and listening
        deadline = time.monotonic() + 30
        while (state := json.loads(urllib.request.urlopen(f"{url}/tasks/{task_id}", timeout=5).read()))[
                "state"] != "succeeded":
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
        events = client.call(protocol.TASK_HISTORY, {"task_id": task_id})["events"]
    finally:
        client.close()
    again.process.send_signal(signal.SIGINT)
    assert again.finish() == 0, again.output()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    requeued = next(e for e in events if e["state"] == "queued" and e["seq"] > 1)
    assert requeued["message"] == "queued: its worker stopped; it runs again when a worker starts"
    restart = next(e for e in events if e["attempt"] == 2)
    assert restart["message"] == "restarted after its worker stopped (attempt 2 of 3)"

"""The article's bumps and other failures are explained clearly and harm nothing else."""
import os
import re
import shlex
import signal
import subprocess
import uuid

import pytest
import requests
from celery import Celery

from launcher.redis_server import free_port
from shared import protocol
from tests.support.stack import ASYNC_MODES, start_server
from tests.support.clients import RecordingClient
from tests.support.tasks import FAILURE_MESSAGE


def test_a_failing_task_ends_failed_with_a_readable_message_and_the_worker_goes_on(
        redis_server, server, client):
    task_id = uuid.uuid4().hex
    sender = Celery(broker=redis_server.url, set_as_current=False)
    sender.send_task("tests.failing_task", args=[task_id])
    events = client.wait_task_final(task_id)
    assert events[-1]["state"] == "failed"
    assert events[-1]["message"] == f"failed: RuntimeError: {FAILURE_MESSAGE}"
    assert events[-1]["percent"] == 40
    assert "Traceback" not in events[-1]["message"]
    latest = requests.get(f"{server.url}/tasks/{task_id}", timeout=5).json()
    assert latest["state"] == "failed"
    # The same worker still runs the next task to the end.
    next_id = requests.post(server.url + "/tasks", json={"seconds": 0.5}, timeout=5).json()["task_id"]
    assert client.wait_task_final(next_id)[-1]["state"] == "succeeded"
    sender.close()


@pytest.fixture(params=ASYNC_MODES)
def server_without_redis(request, log_dir):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    service = start_server(closed, log_dir, request.param, name=f"server-no-redis-{request.param}")
    yield service
    service.stop()


def test_missing_redis_is_explained_and_the_server_keeps_serving(server_without_redis):
    url = server_without_redis.url
    health = requests.get(url + "/healthz", timeout=10)
    assert health.status_code == 503 and health.json() == {"redis": False, "workers": 0}
    for method, path in [("POST", "/tasks"), ("GET", "/bg"), ("GET", "/tasks/" + "0" * 32)]:
        reply = requests.request(method, url + path, timeout=10)
        assert reply.status_code == 503, path
        error = reply.json()["error"]
        assert error["code"] == "redis_unavailable" and "REDIS_URL" in error["message"]
    assert "Redis is not reachable" in server_without_redis.log_text()
    client = RecordingClient(url)
    try:
        reply = client.call(protocol.START_TASK, {"seconds": 1})
        assert reply["error"]["code"] == "redis_unavailable"
        # Talking to the server needs no Redis: the echo still works.
        client.emit(protocol.MY_EVENT, {"data": "anyone?"})
        client.wait_for(lambda _: client.responses(), what="echo without Redis")
        assert client.responses() == [protocol.echo_text("anyone?")]
    finally:
        client.close()


def test_a_task_started_with_no_worker_says_how_to_start_one_that_works_as_printed(log_dir, tmp_path):
    # A Redis with no worker: the article's "forgotten worker" bump. The first task after the
    # server starts gets the hint, and the command in it, run as printed from anywhere, starts a
    # worker that runs the task.
    from launcher.redis_server import RedisServer
    with RedisServer() as lonely_redis:
        service = start_server(lonely_redis.url, log_dir, "threading", name="server-no-worker")
        worker = None
        try:
            assert requests.get(service.url + "/healthz", timeout=10).json() == {"redis": True, "workers": 0}
            task_id = requests.post(service.url + "/tasks", json={"seconds": 0.5}, timeout=10).json()["task_id"]
            latest = requests.get(f"{service.url}/tasks/{task_id}", timeout=5).json()
            assert latest["state"] == "queued"
            command = re.search(r"start one with `([^`]+)`", latest["message"]).group(1)
            worker = subprocess.Popen(shlex.split(command), cwd=tmp_path, start_new_session=True,
                                      env=dict(os.environ, REDIS_URL=lonely_redis.url),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            client = RecordingClient(service.url)
            try:
                client.wait_for(lambda _: (requests.get(f"{service.url}/tasks/{task_id}", timeout=5)
                                           .json()["state"] == "succeeded"), timeout=60,
                                what="the task, run by the worker the hint started")
            finally:
                client.close()
        finally:
            if worker is not None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
            service.stop()

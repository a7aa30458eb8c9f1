"""Fixtures: a real Redis, a real Celery worker, the real server (in each async mode), real clients."""
import os

import pytest

from launcher import readiness
from launcher.redis_server import RedisServer, free_port
from tests.support.clients import RecordingClient
from tests.support.processes import Service, python

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TEST_TASK_SECONDS = "1"
ASYNC_MODES = ["eventlet", "threading"]


def stack_env(redis_url, **extra):
    """Return the environment for a worker or server process of the test stack."""
    env = dict(os.environ, REDIS_URL=redis_url, BACKGROUND_TASK_SECONDS=TEST_TASK_SECONDS,
               PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    env.update({key: str(value) for key, value in extra.items()})
    return env


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server on a free loopback port."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("logs"))


def start_worker(redis_url, log_dir, name="worker", **env):
    """Start a Celery worker (with the tests' extra tasks) and wait until it answers a ping."""
    service = Service(name, python("-m", "celery", "-A", "server.worker", "worker",
                                   "--loglevel=INFO", "--include=tests.support.tasks",
                                   f"--hostname={name}@%h"),
                      stack_env(redis_url, **env), log_dir).start()
    return service.wait_ready(lambda: readiness.worker_count(redis_url) > 0, timeout=60)


def start_server(redis_url, log_dir, async_mode, name=None, port=None, **env):
    """Start `python -m server` on a free port and wait until /healthz answers."""
    port = port or free_port()
    service = Service(name or f"server-{async_mode}", python("-m", "server"),
                      stack_env(redis_url, SERVER_PORT=port, SOCKETIO_ASYNC_MODE=async_mode, **env),
                      log_dir).start()
    service.url = f"http://127.0.0.1:{port}"
    service.port = port
    return service.wait_ready(lambda: readiness.health(service.url)[0] is not None, timeout=30)


@pytest.fixture(scope="session")
def worker(redis_server, log_dir):
    """A real Celery worker process."""
    service = start_worker(redis_server.url, log_dir)
    yield service
    service.stop()


@pytest.fixture(scope="session", params=ASYNC_MODES)
def server(request, redis_server, worker, log_dir):
    """The real server process, once per async mode, with a worker behind it."""
    service = start_server(redis_server.url, log_dir, request.param)
    yield service
    service.stop()


@pytest.fixture
def connect(server):
    """Return a function that connects a recording socket.io client to the server."""
    clients = []

    def connect_client(url=None, **kwargs):
        client = RecordingClient(url or server.url, **kwargs)
        clients.append(client)
        return client

    yield connect_client
    for client in clients:
        client.close()


@pytest.fixture
def client(connect):
    """One connected socket.io client."""
    return connect()

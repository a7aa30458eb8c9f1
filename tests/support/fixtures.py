"""The tests' shared fixtures: a real Redis, a real Celery worker, the real server (in each async
mode), real clients. Registered by tests/conftest.py."""
import pytest

from launcher.redis_server import RedisServer
from tests.support.clients import RecordingClient
from tests.support.stack import ASYNC_MODES, start_server, start_worker


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server on a free loopback port."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("logs"))


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

"""Start the system's real processes for tests: a worker and a server on a given Redis."""
import os

from launcher import readiness
from launcher.redis_server import free_port

from .processes import Service, python

TEST_TASK_SECONDS = "1"
ASYNC_MODES = ["eventlet", "threading"]


def stack_env(redis_url, **extra):
    """Return the environment for a worker or server process of the test stack."""
    env = dict(os.environ, REDIS_URL=redis_url, BACKGROUND_TASK_SECONDS=TEST_TASK_SECONDS,
               PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_worker(redis_url, log_dir, name="worker", **env):
    """Start a Celery worker (with the tests' extra tasks) and wait until it answers a ping."""
    service = Service(name, python("-m", "celery", "-A", "server.worker", "worker",
                                   "--loglevel=INFO", "--include=tests.support.tasks",
                                   f"--hostname={name}@%h", "--without-mingle", "--without-gossip"),
                      stack_env(redis_url, **env), log_dir).start()
    service.node = name
    return service.wait_ready(lambda: readiness.worker_count(redis_url, destination=[_node(name)]) > 0,
                              timeout=60)


def _node(name):
    import socket
    return f"{name}@{socket.gethostname()}"


def start_server(redis_url, log_dir, async_mode, name=None, port=None, **env):
    """Start `python -m server` on a free port and wait until /healthz answers."""
    port = port or free_port()
    service = Service(name or f"server-{async_mode}", python("-m", "server"),
                      stack_env(redis_url, SERVER_PORT=port, SOCKETIO_ASYNC_MODE=async_mode, **env),
                      log_dir).start()
    service.url = f"http://127.0.0.1:{port}"
    service.port = port
    return service.wait_ready(lambda: readiness.health(service.url)[0] is not None, timeout=30)


class Stack:
    """A private Redis with workers and a server of its own, for tests that break things.

    Nothing else consumes its queue, so a task a test kills is taken up only by this stack's
    workers. Leases are short (LEASE_SECONDS) so a lost task is noticed in seconds.
    """

    LEASE_SECONDS = 3

    def __init__(self, log_dir, name, data_dir=None, **env):
        from launcher.redis_server import RedisServer
        if data_dir is not None:
            os.makedirs(data_dir, exist_ok=True)
        self.log_dir = log_dir
        self.name = name
        self.env = {"TASK_LEASE_SECONDS": self.LEASE_SECONDS, **env}
        self.redis = RedisServer(data_dir=data_dir, persist=data_dir is not None).start()
        self.workers = []
        self.server = None
        self.clients = []
        self._celery = None

    @property
    def url(self):
        """Return the server's URL."""
        return self.server.url

    def start_worker(self, name="worker", **env):
        """Start one more worker on this stack's Redis; return it."""
        worker = start_worker(self.redis.url, self.log_dir, name=f"{self.name}-{name}", **self.env, **env)
        self.workers.append(worker)
        return worker

    def start_server(self, async_mode="eventlet", **env):
        """Start the server on this stack's Redis; return it."""
        self.server = start_server(self.redis.url, self.log_dir, async_mode,
                                   name=f"{self.name}-server-{async_mode}", **self.env, **env)
        return self.server

    def client(self):
        """Return a new recording socket.io client of the server."""
        from .clients import RecordingClient
        client = RecordingClient(self.url)
        self.clients.append(client)
        return client

    def start_task(self, seconds):
        """Start the background task over HTTP; return its id."""
        import requests
        reply = requests.post(f"{self.url}/tasks", json={"seconds": seconds}, timeout=10)
        assert reply.status_code == 202, reply.text
        return reply.json()["task_id"]

    @property
    def celery(self):
        """Return a Celery app on this stack's broker, as Flower or `celery control` would use."""
        if self._celery is None:
            from celery import Celery
            self._celery = Celery(broker=self.redis.url, set_as_current=False)
            self._celery.conf.update(accept_content=["json"], task_serializer="json")
        return self._celery

    def restart_redis(self, down_seconds):
        """Stop Redis, keep it down for down_seconds, then start it again on the same port and data."""
        import time

        from launcher.redis_server import RedisServer
        self.redis.stop()
        time.sleep(down_seconds)  # the outage itself
        self.redis = RedisServer(port=self.redis.port, data_dir=self.redis.data_dir, persist=True).start()

    def close(self):
        """Stop everything this stack started."""
        for client in self.clients:
            client.close()
        for service in [self.server, *self.workers]:
            if service is not None:
                service.stop()
        if self._celery is not None:
            self._celery.close()
        self.redis.stop()

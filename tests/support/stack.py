"""Start the system's real processes for tests: a worker and a server on a given Redis."""
from launcher import services

TEST_TASK_SECONDS = "1"
ASYNC_MODES = ["eventlet", "threading"]
TEST_TASKS = "tests.support.tasks"  # tasks only the tests' workers know, to exercise failures
TEST_KINDS = "tests.support.kinds"  # a task kind declared as the README says, for server and worker


def stack_env(**extra):
    """Return the settings a test's worker or server runs with (short tasks, INFO logs, the test kind),
    plus extra."""
    return {"BACKGROUND_TASK_SECONDS": TEST_TASK_SECONDS, "LOG_LEVEL": "INFO", "TASK_MODULES": TEST_KINDS,
            **extra}


def start_worker(redis_url, log_dir, name="worker", **env):
    """Start a Celery worker that also knows the tests' tasks, and wait until it is alive."""
    return services.start_worker(redis_url, log_dir, name, include=[TEST_TASKS], **stack_env(**env))


def start_server(redis_url, log_dir, async_mode, name=None, port=None, **env):
    """Start the server on a free port (or port) and wait until /healthz answers."""
    return services.start_server(redis_url, log_dir, async_mode, name, port, **stack_env(**env))


class Stack:
    """A private Redis with workers and a server of its own, for tests that break things.

    Nothing else consumes its queue, so a task a test kills is taken up only by this stack's
    workers. Leases are short (LEASE_SECONDS) so a lost task is noticed in seconds.
    """

    LEASE_SECONDS = 3

    def __init__(self, log_dir, name, data_dir=None, **env):
        from launcher.redis_server import RedisServer
        if data_dir is not None:
            import os
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

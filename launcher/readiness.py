"""Checks that tell when each part of the system is ready to serve."""
import functools
import json
import time
import urllib.error
import urllib.request

from celery import Celery

from shared import config

from .redis_server import ping as redis_answers  # noqa: F401  (re-exported: one place for each check)


def worker_count(redis_url, timeout=0.5, destination=None):
    """Return how many Celery workers on redis_url (of those named in destination) answer a ping."""
    try:
        # Naming the workers also ends the ping as soon as they all answered, not after timeout.
        return len(_control_app(redis_url).control.ping(destination=destination, timeout=timeout) or [])
    except Exception:  # the broker itself is unreachable
        return 0


@functools.lru_cache(maxsize=8)
def _control_app(redis_url):
    # Kept for the next poll: a fresh app's first ping spends about half a second connecting.
    app = Celery(broker=config.broker_url(redis_url), set_as_current=False)
    app.conf.update(accept_content=["json"], broker_connection_retry_on_startup=False,
                    broker_connection_max_retries=0)
    return app


def health(server_url, timeout=2.0):
    """Return (status, body) of the server's /healthz, or (None, None) when it does not answer."""
    try:
        with urllib.request.urlopen(f"{server_url}/healthz", timeout=timeout) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError):
        return None, None


def wait_until(check, timeout, interval=0.05, what="condition", cancel=None):
    """Call check until it returns a true value and return that value; TimeoutError after timeout.

    When the threading.Event cancel is set, stop waiting and return None.
    """
    deadline = time.monotonic() + timeout
    while cancel is None or not cancel.is_set():
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout}s")
        if cancel is None:
            time.sleep(interval)
        else:
            cancel.wait(interval)
    return None

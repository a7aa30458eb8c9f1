"""Checks that tell when each part of the system is ready to serve."""
import functools
import json
import socket
import time
import urllib.error
import urllib.request

from .redis_server import ping as redis_answers  # noqa: F401  (re-exported: one place for each check)


def hostname():
    """Return this machine's name as Celery puts it in worker node names (name@host)."""
    return socket.gethostname()


def worker_alive(redis_url, node):
    """Tell whether the worker node (name@host) on redis_url has sent its heartbeat (it is consuming)."""
    try:
        return _store(redis_url).worker_is_alive(node)
    except Exception:  # Redis unreachable: not alive as far as anyone can tell
        return False


@functools.lru_cache(maxsize=8)
def _store(redis_url):
    from server.progress import TaskProgress
    return TaskProgress(redis_url)


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

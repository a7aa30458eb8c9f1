"""What the system can tell about its own health: Redis reachable, workers alive."""
import logging
import time

from flask import current_app

from . import progress
from .app import socketio

log = logging.getLogger(__name__)

# Workers on this machine answer within milliseconds; /healthz waits out the whole timeout.
PING_TIMEOUT = 0.3
CACHE_SECONDS = 10.0
_cache = {"count": None, "at": float("-inf"), "refreshing": False}


def redis_ok():
    """Tell whether Redis answers."""
    return progress.get().ping()


def live_worker_count(timeout=PING_TIMEOUT):
    """Ping every Celery worker and return how many answered."""
    if not redis_ok():  # fail fast: Celery would retry the broker for seconds first
        return 0
    try:
        replies = current_app.extensions["celery"].control.ping(timeout=timeout)
    except Exception as exc:  # the broker is down: no worker can be reached either
        log.warning("could not ping workers: %s", exc)
        return 0
    count = len(replies or [])
    _cache.update(count=count, at=time.monotonic())
    return count


def cached_worker_count():
    """Return the last live worker count (None before the first), refreshing a stale one meanwhile.

    Never pings on the caller's time: starting a task must not wait out a ping's timeout.
    """
    if time.monotonic() - _cache["at"] > CACHE_SECONDS and not _cache["refreshing"]:
        _cache.update(refreshing=True, at=time.monotonic())
        socketio.start_background_task(_refresh, current_app._get_current_object())
    return _cache["count"]


def _refresh(app):
    try:
        with app.app_context():
            live_worker_count()
    finally:
        _cache["refreshing"] = False

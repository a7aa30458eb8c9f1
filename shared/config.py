"""All configuration, read once from environment variables with safe defaults.

Nothing else in the project reads the environment or spells an address or a secret.
Only the standard library is imported here, so ``python -m server`` can read its
async mode before eventlet monkey-patches anything.
"""
import os
import secrets
from dataclasses import dataclass

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASYNC_MODES = ("eventlet", "threading")
SOCKETIO_CHANNEL = "flask-socketio"

DEFAULTS = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SERVER_HOST": "127.0.0.1",
    "SERVER_PORT": "5000",
    "SOCKETIO_ASYNC_MODE": "eventlet",
    "BACKGROUND_TASK_SECONDS": "10",
    "WORKER_CONCURRENCY": "4",
    "TASK_RETENTION_SECONDS": str(24 * 3600),
    "EVENT_STREAM_LENGTH": "100000",
    "TASK_LEASE_SECONDS": "10",
    "TASK_MAX_ATTEMPTS": "3",
    "TASK_TIME_LIMIT_FACTOR": "2",
    "REDIS_OUTAGE_SECONDS": "60",
    "LOG_LEVEL": "INFO",
}


class ConfigError(ValueError):
    """An environment variable holds a value the project cannot use."""


@dataclass(frozen=True)
class Settings:
    """The project's configuration; see README's Configuration section."""

    redis_url: str
    server_host: str
    server_port: int
    secret_key: str
    async_mode: str
    background_task_seconds: float
    worker_concurrency: int
    task_retention_seconds: int
    event_stream_length: int
    task_lease_seconds: float
    task_max_attempts: int
    task_time_limit_factor: float
    redis_outage_seconds: float
    log_level: str

    @property
    def server_url(self):
        """Return the URL a local client uses to reach the server."""
        host = "127.0.0.1" if self.server_host in ("0.0.0.0", "") else self.server_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.server_port}"


def load(environ=None):
    """Read the settings from the environment, raising ConfigError on an unusable value."""
    env = os.environ if environ is None else environ

    def get(name):
        return env.get(name) or DEFAULTS[name]

    async_mode = get("SOCKETIO_ASYNC_MODE")
    if async_mode not in ASYNC_MODES:
        raise ConfigError(f"SOCKETIO_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, "
                          f"not {async_mode!r}")
    redis_url = get("REDIS_URL")
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix://, not {redis_url!r}")
    return Settings(
        redis_url=redis_url,
        server_host=get("SERVER_HOST"),
        server_port=_number(get, "SERVER_PORT", int, 1, 65535),
        # A fresh random key per start unless one is given: no secret lives in the code.
        secret_key=env.get("SECRET_KEY") or secrets.token_hex(32),
        async_mode=async_mode,
        background_task_seconds=_number(get, "BACKGROUND_TASK_SECONDS", float, 0, 3600),
        worker_concurrency=_number(get, "WORKER_CONCURRENCY", int, 1, 256),
        task_retention_seconds=_number(get, "TASK_RETENTION_SECONDS", int, 60, 365 * 24 * 3600),
        event_stream_length=_number(get, "EVENT_STREAM_LENGTH", int, 1000, 100_000_000),
        task_lease_seconds=_number(get, "TASK_LEASE_SECONDS", float, 1, 3600),
        task_max_attempts=_number(get, "TASK_MAX_ATTEMPTS", int, 1, 100),
        task_time_limit_factor=_number(get, "TASK_TIME_LIMIT_FACTOR", float, 1, 1000),
        redis_outage_seconds=_number(get, "REDIS_OUTAGE_SECONDS", float, 0, 3600),
        log_level=get("LOG_LEVEL").upper(),
    )


def _number(get, name, kind, low, high):
    raw = get(name)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, "
                          f"not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {raw!r}")
    return value


def redacted(url):
    """Return url with any password replaced, fit for logs and error messages."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{host}"

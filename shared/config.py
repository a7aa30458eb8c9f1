"""All configuration, read once from environment variables with safe defaults.

Nothing else in the project reads the environment or spells an address or a secret.
A ``.env`` file in the current directory (KEY=value lines, as honcho, foreman and
``flask run`` read it) supplies values the environment does not set: the environment wins.
Only the standard library is imported at the top, so ``python -m server`` can read its
async mode before eventlet monkey-patches anything (python-dotenv only when a .env exists).
"""
import ipaddress
import os
import re
import secrets
import urllib.parse
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

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
    "TASK_RETENTION_COUNT": "10000",
    "TASK_LEASE_SECONDS": "10",
    "TASK_MAX_ATTEMPTS": "3",
    "TASK_TIME_LIMIT_FACTOR": "2",
    "REDIS_OUTAGE_SECONDS": "60",
    "LOG_LEVEL": "INFO",
    # Your own task kinds (README: Add your own task): modules the server and the worker import.
    "TASK_MODULES": "",
    # Security: see README's Security section.
    "ALLOWED_HOSTS": "",
    "ALLOWED_ORIGINS": "",
    "TASK_START_BURST": "50",
    "TASK_START_RATE": "10",
    "MAX_ACTIVE_TASKS_PER_CLIENT": "100",
    "MAX_QUEUED_TASKS": "10000",
    "LOG_TIMESTAMPS": "yes",
}
# SERVER_HOST values that listen on every interface.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DOTENV_FILE = ".env"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")
_YES, _NO = ("1", "yes", "true", "on"), ("0", "no", "false", "off")

# What each entry point reads; a setting it does not use keeps its default, so a value meant for
# another part (SOCKETIO_ASYNC_MODE for the desktop app) can neither stop it nor change it.
ALL_SETTINGS = frozenset(DEFAULTS) | {"SECRET_KEY", "AUTH_TOKEN", "INSECURE_NO_TOKEN"}
SERVER_SETTINGS = ALL_SETTINGS - {"WORKER_CONCURRENCY"}
WORKER_SETTINGS = frozenset({
    "REDIS_URL", "WORKER_CONCURRENCY", "TASK_RETENTION_SECONDS", "TASK_RETENTION_COUNT", "EVENT_STREAM_LENGTH",
    "TASK_LEASE_SECONDS", "TASK_MAX_ATTEMPTS", "TASK_TIME_LIMIT_FACTOR", "REDIS_OUTAGE_SECONDS", "LOG_LEVEL",
    "LOG_TIMESTAMPS", "TASK_MODULES"})
DESKTOP_SETTINGS = frozenset({"SERVER_HOST", "SERVER_PORT", "AUTH_TOKEN"})


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
    task_retention_count: int
    task_lease_seconds: float
    task_max_attempts: int
    task_time_limit_factor: float
    redis_outage_seconds: float
    log_level: str
    task_modules: tuple  # modules declaring task kinds, imported by the server and the worker
    # Security: see README's Security section.
    allowed_hosts: tuple  # extra Host names served, besides localhost, SERVER_HOST and IP literals
    allowed_origins: tuple  # extra origins allowed to change things, besides the server's own
    auth_token: str  # "" when none was given
    insecure_no_token: bool  # serve a non-loopback address without a token (trusted networks only)
    task_start_burst: int  # task starts one client may make at once...
    task_start_rate: float  # ...and per second after that
    max_active_tasks_per_client: int  # queued + running tasks one client may have
    max_queued_tasks: int  # queued + running tasks started through this server, all clients together
    log_timestamps: bool

    @property
    def server_url(self):
        """Return the URL a local client uses to reach the server."""
        host = "127.0.0.1" if self.server_host in ("0.0.0.0", "") else self.server_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.server_port}"

    @property
    def listens_beyond_loopback(self):
        """Tell whether other machines may reach the server (SERVER_HOST is not a loopback address)."""
        return not is_loopback(self.server_host)

    @property
    def requires_token(self):
        """Tell whether clients must present AUTH_TOKEN: when one is set, or beyond loopback by default."""
        return bool(self.auth_token) or (self.listens_beyond_loopback and not self.insecure_no_token)


def environment(path=DOTENV_FILE):
    """Return the process's environment over the values of the .env file at path (if there is one)."""
    if not os.path.isfile(path):
        return dict(os.environ)
    from dotenv import dotenv_values

    # No ${VAR} expansion: the file means what honcho and systemd's EnvironmentFile= read in it.
    from_file = {name: value for name, value in dotenv_values(path, interpolate=False).items()
                 if value is not None}
    return {**from_file, **os.environ}


def load(environ=None, names=ALL_SETTINGS):
    """Read the settings named in names, raising ConfigError on an unusable value; the rest keep defaults.

    environ defaults to environment(): the process's environment over the .env file.
    """
    env = environment() if environ is None else environ

    def get(name):
        return (env.get(name) if name in names else None) or DEFAULTS[name]

    async_mode = get("SOCKETIO_ASYNC_MODE")
    if async_mode not in ASYNC_MODES:
        raise ConfigError(f"SOCKETIO_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, "
                          f"not {async_mode!r}")
    return Settings(
        redis_url=_redis_url(get("REDIS_URL")),
        server_host=_host(get("SERVER_HOST")),
        server_port=_number(get, "SERVER_PORT", int, 1, 65535),
        # A fresh random key per start unless one is given: no secret lives in the code.
        secret_key=("SECRET_KEY" in names and env.get("SECRET_KEY")) or secrets.token_hex(32),
        async_mode=async_mode,
        background_task_seconds=_number(get, "BACKGROUND_TASK_SECONDS", float, 0, 3600),
        worker_concurrency=_number(get, "WORKER_CONCURRENCY", int, 1, 256),
        task_retention_seconds=_number(get, "TASK_RETENTION_SECONDS", int, 60, 365 * 24 * 3600),
        event_stream_length=_number(get, "EVENT_STREAM_LENGTH", int, 1000, 100_000_000),
        task_retention_count=_number(get, "TASK_RETENTION_COUNT", int, 10, 100_000_000),
        task_lease_seconds=_number(get, "TASK_LEASE_SECONDS", float, 1, 3600),
        task_max_attempts=_number(get, "TASK_MAX_ATTEMPTS", int, 1, 100),
        task_time_limit_factor=_number(get, "TASK_TIME_LIMIT_FACTOR", float, 1, 1000),
        redis_outage_seconds=_number(get, "REDIS_OUTAGE_SECONDS", float, 0, 3600),
        log_level=_choice(get, "LOG_LEVEL", LOG_LEVELS),
        log_timestamps=_yes_or_no(get, "LOG_TIMESTAMPS"),
        task_modules=_module_names(get("TASK_MODULES")),
        allowed_hosts=_host_names(get("ALLOWED_HOSTS")),
        allowed_origins=_origins(get("ALLOWED_ORIGINS")),
        auth_token=_token(env.get("AUTH_TOKEN", "") if "AUTH_TOKEN" in names else ""),
        insecure_no_token="INSECURE_NO_TOKEN" in names and _flag(env, "INSECURE_NO_TOKEN"),
        task_start_burst=_number(get, "TASK_START_BURST", int, 1, 1_000_000),
        task_start_rate=_number(get, "TASK_START_RATE", float, 0.001, 1_000_000),
        max_active_tasks_per_client=_number(get, "MAX_ACTIVE_TASKS_PER_CLIENT", int, 1, 10_000_000),
        max_queued_tasks=_number(get, "MAX_QUEUED_TASKS", int, 1, 100_000_000),
    )


def _redis_url(url):
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix://, not {redacted(url)!r}")
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number from 0 to 65535)
    except ValueError:
        raise ConfigError(f"REDIS_URL has a port that is not a number from 1 to 65535: "
                          f"{redacted(url)!r}") from None
    database = parts.path.strip("/")
    if parts.scheme != "unix" and database and not database.isdigit():
        raise ConfigError(f"REDIS_URL must end with a database number such as /0, not /{database}: "
                          f"{redacted(url)!r}")
    return url


def _host(host):
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if _HOST_NAME.fullmatch(host):
        return host
    raise ConfigError(f"SERVER_HOST must be an IP address or a host name (such as 127.0.0.1 or 0.0.0.0), "
                      f"without scheme or port, not {host!r}")


def _choice(get, name, choices):
    value = get(name).upper()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {get(name)!r}")
    return value


def _yes_or_no(get, name):
    value = get(name).lower()
    if value not in _YES + _NO:
        raise ConfigError(f"{name} must be yes or no (or 1/0, true/false, on/off), not {get(name)!r}")
    return value in _YES


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
    url = _redacted_query(url)
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{host}"


def _redacted_query(url):
    # unix:// URLs may carry the password as ?password=...
    base, mark, query = url.partition("?")
    if not mark or "password=" not in query:
        return url
    pairs = [(key, "***" if key == "password" else value) for key, value in parse_qsl(query)]
    return f"{base}?{urlencode(pairs, safe='*/')}"


def broker_url(redis_url):
    """Return the Celery (kombu) broker URL for a Redis URL: kombu spells unix sockets redis+socket://."""
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    query = dict(parse_qsl(parts.query))
    password = unquote(parts.password) if parts.password else query.pop("password", None)
    db = query.pop("db", None)
    if db is not None:
        query["virtual_host"] = db
    credentials = f":{quote(password, safe='')}@" if password else ""
    return f"redis+socket://{credentials}{parts.path}" + (f"?{urlencode(query)}" if query else "")


def is_loopback(host):
    """Tell whether host (a SERVER_HOST value) is reachable from this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a wildcard ("" is one too) or a name: assume other machines reach it


def _host_names(raw):
    names = tuple(name.strip().lower() for name in raw.split(",") if name.strip())
    for name in names:
        if "/" in name or "@" in name or " " in name:
            raise ConfigError(f"ALLOWED_HOSTS is a comma-separated list of host names like "
                              f"tasks.example.com, not {name!r}")
    return names


def _origins(raw):
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ConfigError(f"ALLOWED_ORIGINS is a comma-separated list of origins like "
                              f"https://tasks.example.com, not {origin!r}")
    return origins


def _module_names(raw):
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    for name in names:
        if not all(part.isidentifier() for part in name.split(".")):
            raise ConfigError(f"TASK_MODULES is a comma-separated list of Python modules like "
                              f"my_tasks or mypackage.tasks, not {name!r}")
    return names


def _token(raw):
    token = raw.strip()
    if token and (len(token) < 16 or not token.isprintable() or " " in token):
        raise ConfigError("AUTH_TOKEN must be at least 16 printable characters without spaces "
                          "(python -c 'import secrets; print(secrets.token_hex(32))' makes one)")
    return token


def _flag(env, name):
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "no", "false"):
        return False
    if raw in ("1", "yes", "true"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, not {raw!r}")

"""Entry points that behave: --help, one-line configuration errors, only their own settings, .env,
and a server that says "serving on" only once it listens, in its own words when it cannot."""
import os
import resource
import socket
import subprocess
import sys

import psutil
import pytest
import requests

from launcher import readiness
from launcher.redis_server import free_port
from shared import config
from launcher.services import Service
from shared.config import PROJECT_ROOT as ROOT
from tests.support.stack import start_server, start_worker

SERVER = ["-m", "server"]
WORKER_BY_HAND = ["-m", "celery", "-A", "server.worker", "worker", "--loglevel=INFO"]
WORKER = ["-m", "server.worker_cli"]
DESKTOP = ["-m", "desktop_client"]
LAUNCHER = ["run_all.py", "--no-desktop"]
PAGE_CLIENT = ["-m", "server.page_client"]
# Settings that would stop whatever reads them.
BROKEN = {"LOG_LEVEL": "bogus", "SOCKETIO_ASYNC_MODE": "gevent", "SERVER_PORT": "http", "REDIS_URL": "x"}


def run(args, env=None, cwd=ROOT, timeout=60):
    """Run this interpreter with args and the test's environment changed by env; return the result."""
    environ = {k: v for k, v in os.environ.items() if k not in config.ALL_SETTINGS}
    environ.update(PYTHONPATH=ROOT, QT_QPA_PLATFORM="offscreen", **(env or {}))
    return subprocess.run([sys.executable, *args], env=environ, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("args", [SERVER, WORKER, DESKTOP, LAUNCHER, PAGE_CLIENT],
                         ids=["server", "worker", "desktop", "run_all", "page_client"])
def test_help_prints_usage_and_exits_0_whatever_the_settings(args):
    result = run([*args, "--help"], env=BROKEN)
    assert result.returncode == 0, result
    assert result.stdout.lower().startswith("usage:") and result.stderr == "", result


@pytest.mark.parametrize("args, env, named", [
    (SERVER, {"LOG_LEVEL": "bogus"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    (SERVER, {"SERVER_HOST": "http://0.0.0.0"}, "SERVER_HOST must be an IP address or a host name"),
    (SERVER, {"REDIS_URL": "redis://127.0.0.1:port/0"}, "REDIS_URL has a port"),
    (SERVER, {"REDIS_URL": "redis://127.0.0.1:6379/zero"}, "REDIS_URL must end with a database number"),
    (SERVER, {"LOG_TIMESTAMPS": "sometimes"}, "LOG_TIMESTAMPS must be yes or no"),
    (WORKER_BY_HAND, {"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY must be between 1 and 256"),
    (WORKER_BY_HAND, {"TASK_LEASE_SECONDS": "soon"}, "TASK_LEASE_SECONDS must be a number"),
    (WORKER, {"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of"),
    (WORKER, {"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL must start with redis://"),
    (DESKTOP, {"SERVER_PORT": "70000"}, "SERVER_PORT must be between 1 and 65535"),
    (LAUNCHER, {"EVENT_STREAM_LENGTH": "ten"}, "EVENT_STREAM_LENGTH must be a whole number"),
], ids=["server-log-level", "server-host", "server-redis-port", "server-redis-db", "server-timestamps",
        "hand-worker-concurrency", "hand-worker-lease", "worker-log-level", "worker-redis-scheme",
        "desktop-port", "run_all-stream-length"])
def test_a_bad_setting_is_one_line_naming_it_without_a_traceback(args, env, named):
    result = run(args, env=env)
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Configuration error: " in lines[0] and named in lines[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_the_desktop_app_ignores_server_settings(tmp_path, log_dir):
    env = {"SOCKETIO_ASYNC_MODE": "gevent", "WORKER_CONCURRENCY": "many", "LOG_LEVEL": "bogus",
           "XDG_CONFIG_HOME": str(tmp_path)}
    closed = f"http://127.0.0.1:{free_port()}"
    environ = {k: v for k, v in os.environ.items() if k not in config.ALL_SETTINGS}
    app = Service("desktop-ignoring", [sys.executable, *DESKTOP, "--server", closed],
                  dict(environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1", **env), log_dir).start()
    try:
        app.wait_ready(lambda: f"reconnecting: {closed}" in app.log_text(), timeout=30)  # up and trying
    finally:
        app.stop()
    assert "Configuration error" not in app.log_text()


def test_the_worker_ignores_server_and_desktop_settings(redis_server, log_dir):
    worker = start_worker(redis_server.url, log_dir, name="ignoring-worker", SOCKETIO_ASYNC_MODE="gevent",
                          SERVER_PORT="http", SERVER_HOST="http://nowhere", BACKGROUND_TASK_SECONDS="-1")
    worker.stop()  # started means it answered a ping


def test_the_server_ignores_worker_settings(redis_server, log_dir):
    server = start_server(redis_server.url, log_dir, "threading", name="server-ignoring",
                          WORKER_CONCURRENCY="zero")
    server.stop()


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_a_busy_port_gets_our_one_line_and_no_serving_on(redis_server, async_mode):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run(SERVER, env={"SERVER_PORT": str(port), "SOCKETIO_ASYNC_MODE": async_mode,
                                  "REDIS_URL": redis_server.url})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Port {port} on 127.0.0.1 is already in use: stop the program using it or choose another with "
        "SERVER_PORT.")
    assert "serving on" not in result.stderr and "Traceback" not in result.stderr
    assert "is in use by another program" not in result.stderr  # Werkzeug's own words


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_serving_on_names_the_address_bound(redis_server, log_dir, async_mode):
    server = start_server(redis_server.url, log_dir, async_mode, name=f"server-localhost-{async_mode}",
                          SERVER_HOST="localhost")
    try:
        assert f"serving on http://127.0.0.1:{server.port} (async mode {async_mode}" in server.log_text()
    finally:
        server.stop()


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_the_server_raises_its_open_file_limit_to_hold_thousands_of_clients(redis_server, log_dir, async_mode):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))  # most systems' default, inherited
    try:
        server = start_server(redis_server.url, log_dir, async_mode, name=f"server-open-files-{async_mode}")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        limit = psutil.Process(server.process.pid).rlimit(resource.RLIMIT_NOFILE)
        assert limit == (hard, hard)
        assert f"open-file limit {hard})" in server.log_text()
    finally:
        server.stop()


def test_a_dotenv_in_the_working_directory_configures_the_server_and_the_environment_wins(
        redis_server, tmp_path, log_dir):
    port = free_port()
    (tmp_path / ".env").write_text(f"# settings\nREDIS_URL={redis_server.url}\nSERVER_PORT={port}\n"
                                   "LOG_LEVEL=bogus\nBACKGROUND_TASK_SECONDS=${NOT_EXPANDED}\n")
    environ = {k: v for k, v in os.environ.items() if k not in config.ALL_SETTINGS}
    # LOG_LEVEL from the environment wins over the file's unusable one; BACKGROUND_TASK_SECONDS's
    # file value would fail the start were it expanded (to nothing) rather than read as written.
    env = dict(environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1", LOG_LEVEL="INFO", BACKGROUND_TASK_SECONDS="1")
    server = Service("server-dotenv", [sys.executable, *SERVER], env, log_dir, cwd=tmp_path).start()
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_ready(lambda: readiness.health(url)[0] == 200)
        assert requests.get(f"{url}/healthz", timeout=5).json()["redis"] is True  # the file's REDIS_URL
    finally:
        server.stop()


def test_environment_reads_dotenv_under_the_process_environment(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text('export SERVER_PORT=6001\nSECRET_KEY="two words"\nLOG_LEVEL=DEBUG\n'
                                   "REDIS_URL=${HOME}\n# LOG_TIMESTAMPS=no\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    monkeypatch.delenv("SERVER_PORT", raising=False)
    monkeypatch.delenv("LOG_TIMESTAMPS", raising=False)
    environment = config.environment()
    assert environment["SERVER_PORT"] == "6001" and environment["SECRET_KEY"] == "two words"
    assert environment["LOG_LEVEL"] == "ERROR"  # the environment wins
    assert environment["REDIS_URL"] == "${HOME}"  # as written, as honcho and systemd read it
    assert "LOG_TIMESTAMPS" not in environment  # a comment


def test_environment_without_dotenv_is_the_process_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config.environment() == dict(os.environ)


@pytest.mark.parametrize("names, broken", [
    (config.DESKTOP_SETTINGS, {"SOCKETIO_ASYNC_MODE": "gevent", "WORKER_CONCURRENCY": "x", "LOG_LEVEL": "x"}),
    (config.WORKER_SETTINGS, {"SERVER_PORT": "x", "SERVER_HOST": "http://x", "BACKGROUND_TASK_SECONDS": "x"}),
    (config.SERVER_SETTINGS, {"WORKER_CONCURRENCY": "x"}),
], ids=["desktop", "worker", "server"])
def test_settings_an_entry_point_does_not_read_keep_their_defaults(names, broken):
    settings = config.load(broken, names=names)
    defaults = config.load({})
    for name in broken:
        field = {"SOCKETIO_ASYNC_MODE": "async_mode"}.get(name, name.lower())
        assert getattr(settings, field) == getattr(defaults, field)


@pytest.mark.parametrize("env, field, value", [
    ({"LOG_LEVEL": "debug"}, "log_level", "DEBUG"),
    ({"LOG_TIMESTAMPS": "no"}, "log_timestamps", False), ({"LOG_TIMESTAMPS": "On"}, "log_timestamps", True),
    ({"SERVER_HOST": "::1"}, "server_host", "::1"), ({"SERVER_HOST": "app.example.com"}, "server_host",
                                                      "app.example.com"),
    ({"REDIS_URL": "rediss://:secret@redis.example.com:6380/0?ssl_cert_reqs=required"}, "redis_url",
     "rediss://:secret@redis.example.com:6380/0?ssl_cert_reqs=required"),
    ({"REDIS_URL": "unix:///run/redis/redis.sock?db=0"}, "redis_url", "unix:///run/redis/redis.sock?db=0"),
])
def test_config_accepts(env, field, value):
    assert getattr(config.load(env), field) == value


def test_a_rejected_redis_url_keeps_its_password_out_of_the_message():
    with pytest.raises(config.ConfigError) as caught:
        config.load({"REDIS_URL": "redis://:hunter2@host:port/0"})
    assert "hunter2" not in str(caught.value)

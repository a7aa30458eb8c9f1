"""Every setting is checked once, in shared/config.py, with a one-line reason."""
import pytest

from server.tasks import time_limits
from shared import config


def test_defaults_are_safe():
    settings = config.load({})
    assert settings.server_host == "127.0.0.1"
    assert settings.task_lease_seconds == 10 and settings.task_max_attempts == 3


@pytest.mark.parametrize("name, value", [
    ("SERVER_PORT", "0"), ("SERVER_PORT", "http"), ("SOCKETIO_ASYNC_MODE", "gevent"),
    ("REDIS_URL", "http://x"), ("TASK_LEASE_SECONDS", "0"), ("TASK_LEASE_SECONDS", "nan"),
    ("TASK_MAX_ATTEMPTS", "0"), ("TASK_MAX_ATTEMPTS", "1.5"), ("TASK_TIME_LIMIT_FACTOR", "0.5"),
    ("REDIS_OUTAGE_SECONDS", "-1"), ("EVENT_STREAM_LENGTH", "10"),
    ("SERVER_PORT", "70000"), ("REDIS_URL", "localhost"), ("REDIS_URL", "redis://host:99999/0"),
    ("REDIS_URL", "redis://host:6379/db0"), ("BACKGROUND_TASK_SECONDS", "-1"), ("WORKER_CONCURRENCY", "0"),
    ("LOG_LEVEL", "verbose"), ("LOG_TIMESTAMPS", "2"), ("SERVER_HOST", "127.0.0.1:5000"),
    ("SERVER_HOST", "-bad-.example"), ("SERVER_HOST", "a b"),
    # security settings
    ("AUTH_TOKEN", "short"), ("INSECURE_NO_TOKEN", "maybe"), ("ALLOWED_ORIGINS", "evil.example"),
    ("ALLOWED_ORIGINS", "https://x.example/path"), ("ALLOWED_HOSTS", "http://x.example/"),
    ("TASK_START_RATE", "0"), ("TASK_START_BURST", "many"), ("MAX_ACTIVE_TASKS_PER_CLIENT", "0"),
    ("MAX_QUEUED_TASKS", "-1"),
])
def test_an_unusable_setting_is_refused_naming_it(name, value):
    with pytest.raises(config.ConfigError, match=name):
        config.load({name: value})


@pytest.mark.parametrize("url, shown", [
    ("redis://:secret@host:6379/0", "redis://:***@host:6379/0"),
    ("redis://user:secret@host/0", "redis://user:***@host/0"),
    ("redis://host/0", "redis://host/0"),
])
def test_passwords_never_reach_logs(url, shown):
    assert config.redacted(url) == shown


@pytest.mark.parametrize("seconds, factor, soft, hard", [(10, 2, 50, 80), (0, 2, 30, 60), (100, 3, 330, 360)])
def test_time_limits_follow_the_tasks_length(seconds, factor, soft, hard):
    assert time_limits(seconds, factor) == (soft, hard)

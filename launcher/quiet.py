"""What run_all.py shows of its children's lines by default; --verbose shows every line as written.

Redis opens with about ten lines of banner (version, configuration, and a memory-overcommit warning
that matters to a production server, not to a private development Redis) and stamps every line with
its own date and time, beside the launcher's. Its banner is hidden up to "Ready to accept connections"
(the launcher then says "redis is ready"), and later lines lose Redis's stamp. Celery's banner is left
out at the source (celery --quiet), and the worker's and the server's own times by LOG_TIMESTAMPS=no.
A hidden line still goes to its process's tail, which the launcher shows if the process dies.
"""
import re

REDIS_READY = "Ready to accept connections"
# "8292:M 29 Nov 2026 03:20:53.850 * ": pid, role, date, time and level mark; from a signal handler,
# "8292:signal-handler (1795923027) ": pid and Unix time.
REDIS_STAMP = re.compile(r"^\d+:(?:[XCSM] \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#]"
                         r"|signal-handler \(\d+\)) ")


class RedisLines:
    """Hide Redis's start-up banner; return each later line without Redis's time stamp."""

    def __init__(self):
        self._ready = False

    def __call__(self, line):
        if not self._ready:
            self._ready = REDIS_READY in line
            return None
        return REDIS_STAMP.sub("", line, count=1)

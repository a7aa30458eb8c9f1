"""A real nginx running the deployment guide's own configuration (deploy/nginx.conf), for tests.

The guide's file is used as written except for what only a test may change: its listen addresses
become free loopback ports, its upstream servers the test's servers, and its certificate a
throwaway self-signed one. Each change must find exactly what it expects, so a reshaped file fails
the test instead of being tested half-changed. nginx runs in the foreground (daemon off) as a
child of the test, with its prefix, temp dirs, logs and pid file in a directory of the test's own.
"""
import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from launcher.redis_server import free_port

from shared.config import PROJECT_ROOT as ROOT

GUIDE_CONFIG = os.path.join(ROOT, "deploy", "nginx.conf")
# The test's access log: which server (upstream) answered each request, and how.
ACCESS_LOG_FORMAT = '$remote_addr $upstream_addr $status "$request"'
ACCESS_LINE = re.compile(r'^(\S+) (\S+(?:, \S+)*) (\d{3}) "(\S+) (\S+) [^"]*"$')

MAIN_CONFIG = """\
daemon off;
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 512; }}
http {{
    log_format upstreams '{log_format}';
    access_log {prefix}/access.log upstreams;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/taskprogress.conf;
}}
"""


def require(program, package):
    """Return the path of program; skip the test (fail it on CI, which installs it) when it is missing."""
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if not path:
        message = f"{program} is not installed (Debian/Ubuntu: apt-get install {package})"
        if os.environ.get("CI"):
            pytest.fail(message)  # .ci/run installs it: a skip there would hide a broken setup
        pytest.skip(message)
    return path


def self_signed_certificate(directory):
    """Write a throwaway certificate for 127.0.0.1 and its key into directory; return their paths."""
    openssl = require("openssl", "openssl")
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def guide_config(upstream_ports, cert, key):
    """Return the guide's nginx.conf on free loopback ports; and {guide's port: the test's port}."""
    with open(GUIDE_CONFIG, encoding="utf-8") as file:
        text = file.read()
    ports = {}

    def listen(match):
        ports.setdefault(match.group(1), free_port())
        return f"listen 127.0.0.1:{ports[match.group(1)]}{match.group(2) or ''};"

    text = _replace(text, r"^\s*listen \[::\]:\d+[^;]*;\n", "", 2, re.M)  # loopback IPv4 only
    text = _replace(text, r"listen (\d+)( ssl)?;", listen, 2)
    servers = iter(upstream_ports)
    text = _replace(text, r"server 127\.0\.0\.1:\d+;", lambda _: f"server 127.0.0.1:{next(servers)};",
                    len(upstream_ports))
    text = _replace(text, r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", 1)
    text = _replace(text, r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", 1)
    return text, {int(guide): port for guide, port in ports.items()}


def _replace(text, pattern, replacement, expected, flags=0):
    new_text, count = re.subn(pattern, replacement, text, flags=flags)
    assert count == expected, f"deploy/nginx.conf: expected {expected} of {pattern!r}, found {count}"
    return new_text


class Nginx:
    """nginx in the foreground with the guide's configuration, in a prefix directory of its own."""

    def __init__(self, prefix, site_config, ports):
        self.prefix = prefix
        self.ports = ports
        self.access_log = os.path.join(prefix, "access.log")
        self.error_log = os.path.join(prefix, "error.log")
        self.process = None
        with open(os.path.join(prefix, "taskprogress.conf"), "w", encoding="utf-8") as file:
            file.write(site_config)
        # As root, nginx's workers would switch to "nobody", who cannot enter the test's directory.
        user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
        self.config = os.path.join(prefix, "nginx.conf")
        with open(self.config, "w", encoding="utf-8") as file:
            file.write(MAIN_CONFIG.format(prefix=prefix, user=user, log_format=ACCESS_LOG_FORMAT))

    def start(self, timeout=15):
        """Start nginx and wait until it accepts connections on every port."""
        nginx = require("nginx", "nginx")
        argv = [nginx, "-p", self.prefix, "-c", self.config, "-e", self.error_log]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while not all(_accepts(port) for port in self.ports.values()):
            assert self.process.poll() is None, f"nginx exited:\n{self.errors()}"
            assert time.monotonic() < deadline, f"nginx not listening after {timeout}s:\n{self.errors()}"
            time.sleep(0.05)
        return self

    def url(self, guide_port):
        """Return the base URL of what the guide serves on guide_port (443: https)."""
        scheme = "https" if guide_port == 443 else "http"
        return f"{scheme}://127.0.0.1:{self.ports[guide_port]}"

    def requests(self):
        """Return the logged requests as (client address, upstream(s), status, method, path) tuples."""
        with open(self.access_log, encoding="utf-8") as log:
            return [match.groups() for match in map(ACCESS_LINE.match, log.read().splitlines()) if match]

    def errors(self):
        """Return nginx's error log."""
        try:
            with open(self.error_log, encoding="utf-8") as log:
                return log.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        """Stop nginx (TERM: at once, open websockets or not), killing it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False

"""The deployment guide, run: two servers (one per async mode) and two workers on one Redis behind a
real nginx with docs/DEPLOYMENT.md's own configuration file; the Procfile under honcho; the
systemd units through systemd-analyze."""
import os
import re
import signal
import socket
import subprocess
import sys

import pytest
import requests

from launcher import readiness
from launcher.redis_server import RedisServer, free_port
from shared import protocol
from tests.support import browser as chromium
from tests.support.clients import RecordingClient
from tests.support.nginx import Nginx, guide_config, require, self_signed_certificate
from launcher.services import Service
from shared.config import PROJECT_ROOT as ROOT
from tests.support.stack import start_server, start_worker

browser = chromium.browser  # fixture
# The throwaway certificate is not checked, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

BIN = os.path.dirname(sys.executable)
UNITS = os.path.join(ROOT, "deploy", "systemd")
GUIDE_VENV_BIN = "/opt/taskprogress/venv/bin"
MAX_POLLING_CLIENTS = 24


class Deployment:
    """What the guide sets up, on this machine's loopback: Redis, workers, servers and nginx."""

    def __init__(self, redis, workers, servers, nginx):
        self.redis, self.workers, self.servers, self.nginx = redis, workers, servers, nginx
        self.url = nginx.url(443)  # TLS ends at nginx, as in the guide

    def upstreams(self):
        """Return the upstream address of each server, as nginx logs it."""
        return {f"127.0.0.1:{server.port}" for server in self.servers}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, log_dir):
    """Redis, two workers (each its own -n name), an eventlet and a threading server, and nginx."""
    require("nginx", "nginx")
    prefix = str(tmp_path_factory.mktemp("nginx"))
    cert, key = self_signed_certificate(prefix)
    started = []
    redis = RedisServer().start()
    try:
        for name in ("deploy-worker1", "deploy-worker2"):
            started.append(start_worker(redis.url, log_dir, name=name))
        servers = [start_server(redis.url, log_dir, mode, name=f"deploy-server-{mode}")
                   for mode in ("eventlet", "threading")]
        started += servers
        site, ports = guide_config([server.port for server in servers], cert, key)
        nginx = Nginx(prefix, site, ports).start()
        try:
            yield Deployment(redis, started[:2], servers, nginx)
        finally:
            nginx.stop()
    finally:
        for service in started:
            service.stop()
        redis.stop()


def through_nginx(deployment, source_address=None, **kwargs):
    """Return a recording client connected through nginx (TLS, its certificate not checked)."""
    return RecordingClient(deployment.url, ssl_verify=False, http_session=_session(source_address), **kwargs)


def _session(source_address=None):
    """Return a requests session for the throwaway certificate, its connections from source_address."""
    class SourceAddress(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, source_address=(source_address, 0), **kwargs)

    session = requests.Session()
    # Not trusting the environment: a CA bundle named there (REQUESTS_CA_BUNDLE) would win over verify.
    session.trust_env = False
    session.verify = False
    if source_address:
        session.mount("https://", SourceAddress())
    return session


def start_task(url, seconds=1):
    """Start a task over HTTP at url; return its id."""
    reply = _session().post(f"{url}/tasks", json={"seconds": seconds}, timeout=10)
    assert reply.status_code == 202, reply.text
    return reply.json()["task_id"]


def test_the_page_loads_through_nginx_in_chromium_and_runs_a_task_over_a_websocket(deployment, browser):
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        page.goto(deployment.url + "/")
        # Connected means the browser's Origin passed the server's check: nginx forwarded Host
        # and X-Forwarded-Proto, so https://127.0.0.1:port is the server's own origin.
        page.wait_for_selector("#connection[data-state=connected]", timeout=15000)
        page.wait_for_selector("#tasks[data-synced]", state="attached")
        before = page.locator("#tasks li").count()
        page.click("#start")
        page.wait_for_function("n => document.querySelectorAll('#tasks li').length > n", arg=before)
        task_id = page.locator("#tasks li").first.get_attribute("data-task-id")
        page.wait_for_selector(f"#tasks li[data-task-id='{task_id}'][data-state=succeeded]", timeout=20000)
    finally:
        context.close()
    # nginx logs a websocket once it closes (with the page, just now).
    def upgraded():
        return [r for r in deployment.nginx.requests() if "transport=websocket" in r[4] and r[2] == "101"]
    try:
        readiness.wait_until(upgraded, timeout=10, what="a websocket through nginx")
    except TimeoutError:
        pytest.fail(f"no websocket upgrade through nginx: {deployment.nginx.requests()[-10:]}")


def test_plain_http_is_sent_to_https(deployment):
    reply = requests.get(deployment.nginx.url(80) + "/tasks", allow_redirects=False, timeout=10)
    assert reply.status_code == 301 and reply.headers["Location"].startswith("https://127.0.0.1")


def test_a_task_started_through_nginx_reaches_clients_on_both_servers_as_it_does_through_nginx(deployment):
    direct = [RecordingClient(server.url) for server in deployment.servers]
    proxied = through_nginx(deployment)
    clients = [*direct, proxied]
    try:
        task_id = start_task(deployment.url)
        histories = [client.wait_task_final(task_id) for client in clients]
        for client in clients:
            client.wait_for(lambda _, c=client: protocol.BACKGROUND_COMPLETE in c.responses(),
                            what="the task's broadcast")
    finally:
        for client in clients:
            client.close()
    assert histories[0][-1]["state"] == "succeeded"
    assert [e["seq"] for e in histories[0]] == list(range(1, len(histories[0]) + 1))
    assert histories[1] == histories[0] and histories[2] == histories[0]  # the same events, everywhere
    for client in clients:  # every broadcast exactly once on every server
        assert [r for r in client.responses() if r.startswith("background task")] == [
            protocol.BACKGROUND_STARTING, protocol.BACKGROUND_COMPLETE]


def test_polling_clients_keep_to_one_server_each_through_the_sticky_upstream(deployment):
    # Clients from several loopback addresses, polling only (no websocket upgrade): each session's
    # requests must all reach the server that holds it, whichever of the two that is.
    clients, addresses = [], []
    try:
        while len(clients) < MAX_POLLING_CLIENTS:
            address = f"127.0.0.{10 + len(clients)}"
            clients.append(through_nginx(deployment, address, transports=["polling"]))
            addresses.append(address)
            served = _upstreams_by_client(deployment.nginx.requests(), addresses)
            if len(clients) >= 4 and set().union(*served.values()) >= deployment.upstreams():
                break
        task_id = start_task(deployment.url)
        for client in clients:
            assert client.wait_task_final(task_id)[-1]["state"] == "succeeded"
    finally:
        for client in clients:
            client.close()
    logged = [r for r in deployment.nginx.requests() if r[0] in addresses]
    served = _upstreams_by_client(logged, addresses)
    assert set().union(*served.values()) == deployment.upstreams(), served  # both servers took some
    assert all(len(upstreams) == 1 for upstreams in served.values()), served  # each client kept to one
    refused = [r for r in logged if r[2] != "200"]
    assert not refused, refused  # no "400 Invalid session"
    assert all(len([r for r in logged if r[0] == a]) >= 4 for a in addresses)  # many polls each


def _upstreams_by_client(logged, addresses):
    served = {address: set() for address in addresses}
    for address, upstreams, _status, _method, path in logged:
        if address in served and path.startswith("/socket.io/"):
            served[address].update(upstreams.split(", "))
    return served


def test_the_procfile_runs_the_system_under_honcho(tmp_path, log_dir):
    honcho, _ = _installed_scripts("honcho", "taskprogress-server")
    with RedisServer() as redis:
        # Our .env, read by honcho (which passes it on) as by shared/config.py.
        (tmp_path / ".env").write_text(f"REDIS_URL={redis.url}\nLOG_LEVEL=INFO\n")
        port = free_port()
        env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONUNBUFFERED="1")
        env.pop("REDIS_URL", None)
        service = Service("honcho", [honcho, "-f", os.path.join(ROOT, "Procfile"), "-d", str(tmp_path),
                                     "start", "-p", str(port)], env, log_dir).start()
        try:
            worker = f"worker-{port + 100}@{socket.gethostname()}"  # honcho gives the second process PORT+100
            service.wait_ready(lambda: readiness.worker_alive(redis.url, worker),
                               timeout=60)
            url = f"http://127.0.0.1:{port}"
            service.wait_ready(lambda: readiness.health(url)[0] == 200, timeout=30)
            client = RecordingClient(url)
            try:
                assert client.wait_task_final(start_task(url, seconds=0.5))[-1]["state"] == "succeeded"
            finally:
                client.close()
        finally:
            service.process.send_signal(signal.SIGINT)
            service.process.wait(30)
            print(service.log_text())  # shown if the test fails
    assert "Traceback" not in service.log_text()


@pytest.mark.parametrize("units", [["taskprogress-server@5001.service", "taskprogress-worker@1.service"]])
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path, units):
    analyze = require("systemd-analyze", "systemd")
    _installed_scripts("taskprogress-server", "taskprogress-worker")
    for template in os.listdir(UNITS):
        with open(os.path.join(UNITS, template), encoding="utf-8") as unit:
            text = unit.read()
        assert GUIDE_VENV_BIN in text
        # The guide's virtualenv is this one here: systemd-analyze checks that ExecStart= exists.
        (tmp_path / template).write_text(text.replace(GUIDE_VENV_BIN, BIN))
    result = subprocess.run([analyze, "verify", "--man=no", *[str(tmp_path / unit) for unit in units]],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result


def test_honcho_exports_the_procfile_as_units_that_verify(tmp_path):
    analyze = require("systemd-analyze", "systemd")
    honcho, _ = _installed_scripts("honcho", "taskprogress-server")
    (tmp_path / ".env").write_text("REDIS_URL=redis://127.0.0.1:6379/0\n")
    out = tmp_path / "units"
    subprocess.run([honcho, "-f", os.path.join(ROOT, "Procfile"), "-d", str(tmp_path), "export",
                    "-a", "taskprogress", "-u", "nobody", "-c", "worker=2", "systemd", str(out)],
                   check=True, capture_output=True, timeout=60)
    services = sorted(name for name in os.listdir(out) if name.endswith(".service"))
    assert services == ["taskprogress-web-1.service", "taskprogress-worker-1.service",
                        "taskprogress-worker-2.service"]
    # Each worker its own node name, from its own PORT, which systemd leaves to the shell.
    for number, port in [(1, 5100), (2, 5101)]:
        unit = (out / f"taskprogress-worker-{number}.service").read_text()
        assert f"Environment=PORT={port}\n" in unit
        assert 'taskprogress-worker --hostname="worker-$PORT@$(hostname)"' in unit
    result = subprocess.run([analyze, "verify", "--man=no", *[str(out / name) for name in services]],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result


def _installed_scripts(*names):
    """Return the paths of console scripts beside this interpreter; skip (fail on CI) when one is missing."""
    paths = [os.path.join(BIN, name) for name in names]
    missing = [name for name, path in zip(names, paths) if not os.access(path, os.X_OK)]
    if missing:
        message = (f"{', '.join(missing)} not installed in {BIN}: "
                   "./dev test installs the project (pip install -e .)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return paths


def test_the_guide_names_the_files_it_is_tested_with():
    with open(os.path.join(ROOT, "docs", "DEPLOYMENT.md"), encoding="utf-8") as guide:
        text = guide.read()
    for needed in ["deploy/nginx.conf", "deploy/systemd/taskprogress-server@.service",
                   "deploy/systemd/taskprogress-worker@.service", "Procfile", ".env.example",
                   "hash $remote_addr consistent", "ip_hash", "FLOWER_UNAUTHENTICATED_API", "rediss://",
                   "ALLOWED_HOSTS", "AUTH_TOKEN", "proxy_set_header Host $http_host"]:
        assert needed in text, needed
    assert re.search(r"-n\s+\S+|--hostname", text)

"""Safe to run and safe to open: every attack of issue 10, tried against the real processes.

Cross-site requests, DNS rebinding, a server reachable from other machines, the private Redis,
floods of task starts, hostile input and missing headers; and what held before and must keep holding.
"""
import http.client
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import psutil
import pytest
import redis
import requests
import socketio
import websocket

from launcher import redis_server as private_redis
from launcher.redis_server import RedisServer, free_port
from server import security
from server.limits import RateLimited, TaskLimits
from shared import config, protocol
from tests.support.stack import ASYNC_MODES, start_server
from tests.support import browser as chromium
from tests.support.clients import RecordingClient
from shared.config import PROJECT_ROOT as ROOT
from tests.support.security import ENGINEIO_QUERY, non_loopback_address, printed_tokens, self_signed_tls


EVIL = "http://evil.example"
SECURITY_HEADERS = {
    "Content-Security-Policy":
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def recent_task_ids(url, **headers):
    """Return the ids of the most recent tasks (a task is listed as soon as it is queued)."""
    reply = requests.get(url + protocol.ROUTE_TASKS, headers=headers, timeout=5)
    assert reply.status_code == 200, reply.text
    return {task["task_id"] for task in reply.json()["tasks"]}


def assert_refused(reply, status, code):
    """A refusal is JSON naming its reason, never a traceback."""
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code and error["message"]
    assert "Traceback" not in reply.text


# Cross-site requests: what a page on another site can make a browser send. Browsers add Origin to
# every POST, and Sec-Fetch-Site to every request (these are the headers Chromium sends).
CROSS_SITE = {
    "text-plain-post": ("POST", "/tasks", dict(data='{"seconds": 1}', headers={
        "Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"})),
    "form-post": ("POST", "/tasks", dict(data={"seconds": "1"}, headers={
        "Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})),
    "json-post": ("POST", "/tasks", dict(json={"seconds": 1}, headers={
        "Origin": EVIL, "Sec-Fetch-Site": "cross-site"})),
    "sandboxed-null-origin": ("POST", "/tasks", dict(data='{"seconds": 1}', headers={
        "Content-Type": "text/plain", "Origin": "null", "Sec-Fetch-Site": "cross-site"})),
    "img-bg": ("GET", "/bg", dict(headers={
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"})),
    "same-site-bg": ("GET", "/bg", dict(headers={"Sec-Fetch-Site": "same-site"})),
}


@pytest.mark.parametrize("method, path, kwargs", CROSS_SITE.values(), ids=CROSS_SITE.keys())
def test_cross_site_requests_are_refused_and_start_nothing(server, method, path, kwargs):
    before = recent_task_ids(server.url)
    reply = requests.request(method, server.url + path, timeout=5, **kwargs)
    assert_refused(reply, 403, "forbidden")
    assert recent_task_ids(server.url) == before  # no task was created
    assert f"refused {method} {path} from 127.0.0.1" in server.log_text()


def test_a_cross_site_cancel_is_refused_and_the_task_runs_on(server, client):
    task_id = requests.post(server.url + "/tasks", json={"seconds": 1}, timeout=5).json()["task_id"]
    reply = requests.post(f"{server.url}/tasks/{task_id}/cancel", data="",
                          headers={"Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
                          timeout=5)
    assert_refused(reply, 403, "forbidden")
    assert client.wait_task_final(task_id)[-1]["state"] == "succeeded"


@pytest.mark.parametrize("headers", [
    {},
    {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"},
    {"Sec-Fetch-Site": "none"},
], ids=["script-or-curl", "same-origin-page", "address-bar"])
def test_the_page_scripts_and_curl_still_start_tasks(server, headers):
    own = {**headers, "Origin": server.url} if headers.get("Sec-Fetch-Site") == "same-origin" else headers
    reply = requests.post(server.url + "/tasks", json={"seconds": 0}, headers=own, timeout=5)
    assert reply.status_code == 202 and reply.json()["task_id"]
    background = requests.get(server.url + "/bg", headers=headers, timeout=5)
    assert background.status_code == 200 and background.text == protocol.BACKGROUND_STARTED_REPLY


# Chromium's own guard for pages on the public internet reaching a loopback address (Local/Private
# Network Access) may block the image before it leaves; turned off here, so the request reaches the
# server and it is the server's refusal that is tested, as with browsers that have no such guard.
NO_LOCAL_NETWORK_GUARD = ("--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
                          "PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults")


@pytest.fixture(scope="module")
def browser_without_local_network_guard(playwright):
    browser = playwright.chromium.launch(executable_path=chromium.chromium_path(),
                                         args=[*chromium.CHROMIUM_ARGS, NO_LOCAL_NETWORK_GUARD])
    yield browser
    browser.close()


def test_real_cross_site_requests_from_chromium_are_refused(browser_without_local_network_guard, server):
    """A page on another origin sends what browsers really send: fetch, a form and an image."""
    before = recent_task_ids(server.url)
    logged_before = len(server.log_text())  # the shared server's log: only lines from now on count
    context = browser_without_local_network_guard.new_context()
    try:
        page = context.new_page()
        # The attacker's page, at an origin of its own (served by the browser itself).
        page.route("http://evil.example/", lambda route: route.fulfill(content_type="text/html", body=f"""
            <form id=f method=post action="{server.url}/tasks" enctype="text/plain">
              <input name='{{"seconds": 1, "x": "' value='"}}'></form>
            <img src="{server.url}/bg">"""))
        page.goto("http://evil.example/")
        page.evaluate("""url => fetch(url + '/tasks', {method: 'POST', mode: 'no-cors',
                                   body: '{"seconds": 1}'}).catch(() => null)""", server.url)
        page.evaluate("() => document.getElementById('f').submit()")
        deadline = time.monotonic() + 15
        wanted = ["refused POST /tasks from 127.0.0.1: requests from pages at 'http://evil.example'",
                  "refused GET /bg from 127.0.0.1: a request sent by another site"]
        while not all(line in server.log_text()[logged_before:] for line in wanted):
            assert time.monotonic() < deadline, f"the server never refused them:\n{server.log_text()[-2000:]}"
            time.sleep(0.05)
    finally:
        context.close()
    assert recent_task_ids(server.url) == before


# DNS rebinding: the attacker's name re-pointed at 127.0.0.1, so the Host header is the attacker's.
@pytest.mark.parametrize("method, path", [("GET", "/"), ("POST", "/tasks"), ("GET", ENGINEIO_QUERY)],
                         ids=["page", "post-tasks", "socketio-handshake"])
def test_a_rebinding_host_is_refused(server, method, path):
    before = recent_task_ids(server.url)
    reply = requests.request(method, server.url + path, json={"seconds": 1} if method == "POST" else None,
                             headers={"Host": f"evil.example:{server.port}"}, timeout=5)
    assert_refused(reply, 403, "forbidden")
    assert "ALLOWED_HOSTS" in reply.json()["error"]["message"]
    assert recent_task_ids(server.url) == before


def test_a_socketio_client_through_a_rebinding_host_cannot_connect(server):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, namespaces=[protocol.NAMESPACE], transports=["polling"],
                       headers={"Host": f"evil.example:{server.port}"}, wait_timeout=5)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_the_machines_own_names_are_served(server, host):
    reply = requests.get(server.url + "/", headers={"Host": f"{host}:{server.port}"}, timeout=5)
    assert reply.status_code == 200


@pytest.fixture(scope="module")
def proxied_server(redis_server, worker, log_dir):
    """A server deployed behind a reverse proxy that serves it as https://tasks.example."""
    service = start_server(redis_server.url, log_dir, "threading", name="server-proxied",
                           ALLOWED_HOSTS="tasks.example", ALLOWED_ORIGINS="https://tasks.example")
    yield service
    service.stop()


def test_allowed_hosts_and_origins_serve_a_proxied_deployment(proxied_server):
    url, proxied = proxied_server.url, {"Host": "tasks.example"}
    assert requests.get(url + "/", headers=proxied, timeout=5).status_code == 200
    reply = requests.post(url + "/tasks", json={"seconds": 0}, timeout=5,
                          headers={**proxied, "Origin": "https://tasks.example", "Sec-Fetch-Site": "same-origin"})
    assert reply.status_code == 202
    handshake = requests.get(url + ENGINEIO_QUERY, headers={**proxied, "Origin": "https://tasks.example"},
                             timeout=5)
    assert handshake.status_code == 200
    assert handshake.headers["Access-Control-Allow-Origin"] == "https://tasks.example"
    assert_refused(requests.get(url + "/", headers={"Host": "other.example"}, timeout=5), 403, "forbidden")


# A server reachable from other machines: SERVER_HOST=0.0.0.0, reached through this machine's own
# non-loopback address (the traffic never leaves the machine).
@pytest.fixture(scope="module", params=ASYNC_MODES)
def network_server(request, redis_server, worker, log_dir):
    """A server on 0.0.0.0 with no AUTH_TOKEN given: it makes one and prints it."""
    address = non_loopback_address()
    service = start_server(redis_server.url, log_dir, request.param, name=f"server-network-{request.param}",
                           SERVER_HOST="0.0.0.0")
    service.network_url = f"http://{address}:{service.port}"
    deadline = time.monotonic() + 10
    while not printed_tokens(service.log_text()):
        assert time.monotonic() < deadline, service.log_text()
        time.sleep(0.05)
    service.token = printed_tokens(service.log_text())[0]
    yield service
    service.stop()


def test_a_network_server_prints_its_token_once_and_names_its_real_address(network_server):
    log = network_server.log_text()
    assert printed_tokens(log) == [network_server.token]
    assert len(network_server.token) >= 32
    assert f"serving on http://0.0.0.0:{network_server.port}" in log


NETWORK_REQUESTS = [("GET", "/"), ("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/bg"),
                    ("GET", "/static/app.js"), ("POST", "/tasks/" + "0" * 32 + "/cancel")]


@pytest.mark.parametrize("method, path", NETWORK_REQUESTS)
@pytest.mark.parametrize("token", [None, "wrong-token-of-the-right-length-0123456789"], ids=["none", "wrong"])
def test_a_network_server_refuses_requests_without_its_token(network_server, method, path, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    before = recent_task_ids(network_server.network_url,
                             Authorization=f"Bearer {network_server.token}")
    reply = requests.request(method, network_server.network_url + path, headers=headers, timeout=5,
                             json={"seconds": 0} if method == "POST" else None)
    assert_refused(reply, 401, "unauthorized")
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert recent_task_ids(network_server.network_url,
                           Authorization=f"Bearer {network_server.token}") == before
    assert network_server.log_text().count(network_server.token) == 1  # printed once, never logged


def test_a_network_server_serves_requests_with_its_token(network_server):
    url, auth = network_server.network_url, {"Authorization": f"Bearer {network_server.token}"}
    assert requests.get(url + "/", headers=auth, timeout=5).status_code == 200
    reply = requests.post(url + "/tasks", json={"seconds": 0}, headers=auth, timeout=5)
    assert reply.status_code == 202 and reply.json()["task_id"]
    assert requests.get(url + "/bg", headers=auth, timeout=5).text == protocol.BACKGROUND_STARTED_REPLY


def test_healthz_stays_open_and_tells_nothing_sensitive(network_server):
    reply = requests.get(network_server.network_url + "/healthz", timeout=5)
    assert reply.status_code == 200
    body = reply.json()  # two facts, no address, version or secret
    assert set(body) == {"redis", "workers"} and body["redis"] is True and isinstance(body["workers"], int)


@pytest.mark.parametrize("token", [None, "wrong-token-of-the-right-length-0123456789", 42],
                         ids=["none", "wrong", "not-a-string"])
def test_a_network_server_refuses_socketio_clients_without_its_token(network_server, token):
    client, refusals = socketio.Client(reconnection=False), []
    client.on("connect_error", refusals.append, namespace=protocol.NAMESPACE)
    auth = {"cursor": None} if token is None else {protocol.AUTH_TOKEN_FIELD: token}
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(network_server.network_url, namespaces=[protocol.NAMESPACE], auth=auth,
                       wait_timeout=5)
    [refusal] = refusals
    assert "needs its token" in refusal["message"] and refusal["data"]["code"] == "unauthorized"
    assert "refused connection from" in network_server.log_text()


def test_a_network_server_serves_socketio_clients_with_its_token(network_server):
    url = network_server.network_url
    sio = socketio.Client(reconnection=False)
    received = []
    sio.on(protocol.MY_RESPONSE, received.append, namespace=protocol.NAMESPACE)
    sio.connect(url, namespaces=[protocol.NAMESPACE], wait_timeout=5,
                auth={protocol.AUTH_TOKEN_FIELD: network_server.token, "batch": True})
    try:
        reply = sio.call(protocol.START_TASK, {"seconds": 0}, namespace=protocol.NAMESPACE, timeout=10)
        assert reply["task_id"]
        sio.emit(protocol.MY_EVENT, {"data": "over the network"}, namespace=protocol.NAMESPACE)
        deadline = time.monotonic() + 10
        while {"data": protocol.echo_text("over the network")} not in received:
            assert time.monotonic() < deadline, received
            time.sleep(0.02)
    finally:
        sio.disconnect()


def test_the_page_opened_with_its_token_keeps_it_in_a_strict_httponly_cookie(browser, network_server):
    url = network_server.network_url
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{url}/?{protocol.AUTH_TOKEN_FIELD}={network_server.token}")
        page.wait_for_selector("#connection[data-state=connected]")
        assert page.url == url + "/"  # the token left the address bar
        [cookie] = context.cookies()
        assert cookie["value"] == network_server.token
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""  # out of reach of scripts
        page.fill("#message", "with a cookie")
        page.press("#message", "Enter")
        page.wait_for_function("t => document.getElementById('log').textContent.includes(t)",
                               arg=protocol.echo_text("with a cookie"))
        page.reload()  # the cookie alone opens it from now on
        page.wait_for_selector("#connection[data-state=connected]")
    finally:
        context.close()
    stranger = browser.new_context()
    try:
        assert stranger.new_page().goto(url + "/").status == 401
    finally:
        stranger.close()


def run_desktop(url, *args, config_home, stdin=None):
    """Start the desktop app on url (offscreen); return the process, its output read line by line."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(config_home), PYTHONUNBUFFERED="1")
    env.pop("AUTH_TOKEN", None)
    process = subprocess.Popen([sys.executable, "-m", "desktop_client", "--server", url, *args], cwd=ROOT,
                               env=env, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if stdin:
        process.stdin.write(stdin + "\n")
        process.stdin.close()
    process.lines = []
    threading.Thread(target=lambda: process.lines.extend(iter(process.stdout.readline, "")), daemon=True).start()
    return process


def wait_line(process, text, timeout=30):
    """Wait until the process printed a line containing text; return that line."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in process.lines if text in line]
        if found:
            return found[0]
        assert process.poll() is None, "".join(process.lines)
        assert time.monotonic() < deadline, f"no {text!r} in:\n{''.join(process.lines)}"
        time.sleep(0.05)


def stop_desktop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0, "".join(process.lines)


def test_the_desktop_app_connects_with_token_and_is_refused_without(network_server, tmp_path):
    url = network_server.network_url
    without = run_desktop(url, config_home=tmp_path / "without")
    try:
        assert "needs its token" in wait_line(without, f"reconnecting: {url}")
    finally:
        stop_desktop(without)
    with_token = run_desktop(url, "--token", network_server.token, config_home=tmp_path / "with")
    try:
        wait_line(with_token, f"connected: {url}")
    finally:
        stop_desktop(with_token)


def test_the_desktop_app_remembers_a_token_only_when_asked_and_only_for_its_server(network_server, tmp_path):
    url, home = network_server.network_url, tmp_path / "home"
    first = run_desktop(url, "--token", "-", "--remember-token", config_home=home, stdin=network_server.token)
    try:
        wait_line(first, f"connected: {url}")
    finally:
        stop_desktop(first)
    [settings_file] = (home / "TaskProgress").glob("*.conf")
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    assert network_server.token in settings_file.read_text()
    again = run_desktop(url, config_home=home)  # no --token: the remembered one, for this server
    try:
        wait_line(again, f"connected: {url}")
    finally:
        stop_desktop(again)
    # The same server under another address is another server to the app: the token is not sent.
    elsewhere = f"http://127.0.0.1:{network_server.port}"
    other = run_desktop(elsewhere, config_home=home)
    try:
        assert "needs its token" in wait_line(other, f"reconnecting: {elsewhere}")
    finally:
        stop_desktop(other)


@pytest.fixture(scope="module")
def trusting_server(redis_server, worker, log_dir):
    """A server on 0.0.0.0 told to need no token (INSECURE_NO_TOKEN=1)."""
    service = start_server(redis_server.url, log_dir, "eventlet", name="server-insecure", SERVER_HOST="0.0.0.0",
                           INSECURE_NO_TOKEN="1")
    service.network_url = f"http://{non_loopback_address()}:{service.port}"
    yield service
    service.stop()


def test_opting_out_of_the_token_is_loud_and_serves_everyone(trusting_server):
    reply = requests.post(trusting_server.network_url + "/tasks", json={"seconds": 0}, timeout=5)
    assert reply.status_code == 202
    assert "INSECURE" in trusting_server.log_text() and "INSECURE_NO_TOKEN" in trusting_server.log_text()
    assert printed_tokens(trusting_server.log_text()) == []


@pytest.fixture(scope="module")
def fixed_token_server(redis_server, worker, log_dir):
    """A server on 0.0.0.0 with AUTH_TOKEN set: that token is required, and never printed."""
    service = start_server(redis_server.url, log_dir, "threading", name="server-fixed-token",
                           SERVER_HOST="0.0.0.0", AUTH_TOKEN="a-fixed-token-from-the-environment")
    service.network_url = f"http://{non_loopback_address()}:{service.port}"
    yield service
    service.stop()


def test_a_fixed_token_is_required_and_never_printed(fixed_token_server):
    url = fixed_token_server.network_url
    assert requests.get(url + "/", timeout=5).status_code == 401
    ok = requests.get(url + "/", headers={"Authorization": "Bearer a-fixed-token-from-the-environment"},
                      timeout=5)
    assert ok.status_code == 200
    assert "a-fixed-token-from-the-environment" not in fixed_token_server.log_text()


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "desktop_client", "__main__.py")),
                    reason="no desktop app in this checkout")
def test_run_all_on_the_network_makes_a_token_and_gives_it_to_the_desktop_app(launch):
    run = launch("--port", free_port(), SERVER_HOST="0.0.0.0", QT_QPA_PLATFORM="offscreen")
    page_url = run.wait_ready()
    server_url, _, token = page_url.partition(f"/?{protocol.AUTH_TOKEN_FIELD}=")
    assert len(token) >= 32
    run.wait_for(r"desktop \| connected: " + server_url)  # it had the token
    for process in run.tree():  # which travelled in environments, not on command lines
        assert token not in " ".join(process.cmdline())
    assert requests.get(server_url + "/", timeout=5).status_code == 401
    assert requests.get(page_url, timeout=5).status_code == 200
    run.process.send_signal(signal.SIGINT)
    assert run.finish() == 0, run.output()


# The private Redis that run_all.py starts.
def test_the_private_redis_is_locked_by_a_password_nobody_sees(launch, tmp_path):
    run = launch("--no-desktop", "--port", free_port())
    run.wait_ready()
    data_dir = tmp_path / "redis"
    password = (data_dir / private_redis.PASSWORD_FILE).read_text().strip()
    assert len(password) >= 32
    tree = run.tree()
    for process in tree:  # not on any command line (ps shows those to every user)
        assert password not in " ".join(process.cmdline())
    assert password not in run.output()
    [server] = [p for p in tree if "redis-server" in " ".join(p.cmdline())]
    port = next(c.laddr.port for c in server.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN)
    assert {c.laddr.ip for c in server.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN} \
        == {"127.0.0.1"}  # loopback only
    stranger = redis.Redis(port=port, socket_timeout=5)
    with pytest.raises(redis.exceptions.AuthenticationError):
        stranger.get("anything")
    assert redis.Redis(port=port, password=password, socket_timeout=5).ping()
    run.process.send_signal(signal.SIGINT)
    assert run.finish() == 0, run.output()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    modes = {str(path.relative_to(data_dir)): stat.S_IMODE(path.stat().st_mode) for path in data_dir.rglob("*")}
    assert any("appendonly" in name for name in modes), modes  # it wrote its data
    assert all(mode == (0o700 if (data_dir / name).is_dir() else 0o600) for name, mode in modes.items()), modes


def test_a_data_dir_keeps_its_password_and_an_old_one_is_tightened(tmp_path):
    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    (old / "appendonly.aof").write_text("")
    (old / "appendonly.aof").chmod(0o644)
    fd = private_redis.lock_data_dir(str(old))
    os.close(fd)
    assert stat.S_IMODE(old.stat().st_mode) == 0o700
    assert stat.S_IMODE((old / "appendonly.aof").stat().st_mode) == 0o600
    first = private_redis.data_dir_password(str(old))
    assert private_redis.data_dir_password(str(old)) == first
    (tmp_path / "other").mkdir()
    assert private_redis.data_dir_password(str(tmp_path / "other")) != first


# A Redis of the user's own: with a password, over TLS, on a unix socket. Each through everything:
# the launcher's checks, the worker (Celery's broker), the server, its relay and the message queue.
def _redis_kind(kind, tmp_path):
    if kind == "password":
        return RedisServer(password="a password with spaces & symbols/?")
    if kind == "tls":
        # .ci/run unpacks Debian's redis-server (built with TLS) aside, off PATH, and names it here.
        binary = os.environ.get("TLS_REDIS_SERVER") or private_redis.find_redis_server()
        if not private_redis.supports_tls(binary):
            message = (f"the redis-server found ({binary}) was built without TLS: set TLS_REDIS_SERVER to "
                       "one that has it (Debian's), or put it on PATH")
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
        return RedisServer(password="tls-password", tls=self_signed_tls(tmp_path), binary=binary)
    socket_path = str(tmp_path / "redis.sock")
    return RedisServer(password="socket-password", unix_socket=socket_path)


@pytest.mark.parametrize("kind", ["password", "tls", "unix"])
def test_a_users_redis_url_works_end_to_end(launch, tmp_path, kind):
    with _redis_kind(kind, tmp_path) as users_redis:
        run = launch("--no-desktop", "--port", free_port(), "--workers", 1, redis_url=users_redis.url)
        url = run.wait_ready()
        client = RecordingClient(url)
        try:
            assert requests.get(url + protocol.ROUTE_BACKGROUND, timeout=10).text == protocol.BACKGROUND_STARTED_REPLY
            client.wait_for(lambda _: protocol.BACKGROUND_COMPLETE in client.responses(),
                            what="the worker's messages through the message queue")
            task_id = client.of(protocol.TASK_PROGRESS)[0]["task_id"]
            assert client.wait_task_final(task_id)[-1]["state"] == "succeeded"  # through the relay
        finally:
            client.close()
        assert users_redis.password not in run.output()
        assert config.redacted(users_redis.url) in run.output()
        run.process.send_signal(signal.SIGINT)
        assert run.finish() == 0, run.output()


# Floods of task starts.
@pytest.fixture(scope="module", params=ASYNC_MODES)
def limited_server(request, log_dir):
    """A server with the default limits on a Redis of its own, and no worker: tasks stay queued."""
    with RedisServer() as own_redis:
        service = start_server(own_redis.url, log_dir, request.param, name=f"server-limits-{request.param}")
        yield service
        service.stop()


FLOOD = 2000
BATCH = 50


def flood(client, done, replies):
    """Send `start task` for 3600 s tasks, BATCH at a time, until FLOOD are sent and done is set."""
    sent = 0
    while sent < FLOOD or not done.is_set():
        answered = threading.Semaphore(0)
        for _ in range(BATCH):
            client.sio.emit(protocol.START_TASK, {"seconds": 3600}, namespace=protocol.NAMESPACE,
                            callback=lambda reply: (replies.append(reply), answered.release()))
        for _ in range(BATCH):
            assert answered.acquire(timeout=30), "the flooder's starts went unanswered"
        sent += BATCH


def test_a_flood_of_task_starts_is_limited_while_another_client_is_served(limited_server):
    url = limited_server.url
    flooder, other = RecordingClient(url), RecordingClient(url)
    replies, other_served = [], threading.Event()
    flooding = threading.Thread(target=flood, args=(flooder, other_served, replies), daemon=True)
    try:
        flooding.start()
        deadline = time.monotonic() + 30
        while not any("error" in reply for reply in list(replies)):
            assert time.monotonic() < deadline and flooding.is_alive(), "the flood was never limited"
            time.sleep(0.01)
        # Mid-flood, another client's echo and task start are served.
        other.emit(protocol.MY_EVENT, {"data": "still served?"})
        other.wait_for(lambda _: other.responses(), what="an echo during the flood")
        assert "task_id" in other.call(protocol.START_TASK, {"seconds": 1})
        assert flooding.is_alive()  # the flood went on meanwhile: it stops only now
        other_served.set()
        flooding.join(120)
    finally:
        other_served.set()
        flooder.close()
        other.close()
    accepted = [reply for reply in replies if "task_id" in reply]
    refused = [reply["error"] for reply in replies if "error" in reply]
    assert len(replies) >= FLOOD and len(accepted) + len(refused) == len(replies)
    assert int(config.DEFAULTS["TASK_START_BURST"]) <= len(accepted) \
        <= int(config.DEFAULTS["MAX_ACTIVE_TASKS_PER_CLIENT"])
    assert {error["code"] for error in refused} == {"rate_limited"}
    assert "try again in" in refused[0]["message"]
    log = limited_server.log_text()
    assert "limiting task starts of socket" in log
    # A line when limiting starts and one per 10 s of flood after that, not one per refusal.
    assert log.count("limiting task starts of socket") <= 3
    assert "Traceback" not in log


def post_task_from(address, port):
    """POST /tasks from a given loopback source address (another HTTP client); return (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(address, 0))
    try:
        connection.request("POST", "/tasks", body=b'{"seconds": 3600}', headers={"Content-Type": "application/json"})
        reply = connection.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        connection.close()


def test_an_http_flood_gets_429_with_retry_after_while_another_address_is_served(limited_server):
    statuses, retry_after = [], set()
    with requests.Session() as session:
        for _ in range(200):
            reply = session.post(limited_server.url + "/tasks", json={"seconds": 3600}, timeout=10)
            statuses.append(reply.status_code)
            if reply.status_code == 429:
                assert reply.json()["error"]["code"] == "rate_limited"
                retry_after.add(reply.headers["Retry-After"])
    assert statuses.count(202) >= int(config.DEFAULTS["TASK_START_BURST"]) and 429 in statuses
    assert set(statuses) == {202, 429}
    assert all(value.isdigit() and int(value) >= 1 for value in retry_after)
    status, _headers, body = post_task_from("127.0.0.2", limited_server.port)  # another client
    assert status == 202, body


@pytest.fixture(scope="module")
def capped_server(log_dir):
    """A server with small caps and a generous rate, on a Redis of its own, and no worker."""
    with RedisServer() as own_redis:
        service = start_server(own_redis.url, log_dir, "eventlet", name="server-capped", TASK_START_BURST=1000,
                               TASK_START_RATE=1000, MAX_ACTIVE_TASKS_PER_CLIENT=3, MAX_QUEUED_TASKS=5)
        yield service
        service.stop()


def test_a_client_and_the_server_have_caps_on_unfinished_tasks(capped_server):
    first, second = RecordingClient(capped_server.url), RecordingClient(capped_server.url)
    try:
        mine = [first.call(protocol.START_TASK, {"seconds": 3600})["task_id"] for _ in range(3)]
        refusal = first.call(protocol.START_TASK, {"seconds": 3600})["error"]
        assert refusal["code"] == "rate_limited" and "3 tasks unfinished" in refusal["message"]
        cancelled = requests.post(f"{capped_server.url}/tasks/{mine[0]}/cancel", timeout=5)
        assert cancelled.status_code == 202
        assert "task_id" in first.call(protocol.START_TASK, {"seconds": 3600})  # a slot came free
        assert "task_id" in second.call(protocol.START_TASK, {"seconds": 3600})
        assert "task_id" in second.call(protocol.START_TASK, {"seconds": 3600})
        full = second.call(protocol.START_TASK, {"seconds": 3600})["error"]  # 5 unfinished on the server
        assert full["code"] == "rate_limited" and "the server has 5 tasks unfinished" in full["message"]
    finally:
        first.close()
        second.close()


# Headers.
@pytest.mark.parametrize("method, path, headers", [
    ("GET", "/", {}), ("GET", "/healthz", {}), ("GET", "/static/app.js", {}),
    ("GET", protocol.ROUTE_SOCKETIO_CLIENT, {}), ("GET", "/no/such/page", {}), ("GET", ENGINEIO_QUERY, {}),
    ("POST", "/tasks", {"Content-Type": "text/plain"}), ("GET", "/", {"Host": "evil.example"}),
], ids=["page", "healthz", "script", "socketio-library", "not-found", "socketio", "refused-415",
        "refused-in-front"])
def test_every_response_carries_the_security_headers(server, method, path, headers):
    reply = requests.request(method, server.url + path, headers=headers, timeout=5)
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers.get(name) == value, name


def test_the_page_works_under_its_content_security_policy(browser, server):
    context = browser.new_context()
    context.add_init_script("""window.cspViolations = [];
        document.addEventListener('securitypolicyviolation',
            e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));""")
    try:
        page = context.new_page()
        problems = []  # script errors, and failed loads (but the favicon, which the page has none of)
        page.on("console", lambda message: message.type == "error"
                and not message.text.startswith("Failed to load resource") and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("response", lambda reply: reply.status >= 400 and not reply.url.endswith("/favicon.ico")
                and problems.append(f"{reply.status} {reply.url}"))
        page.goto(server.url + "/")
        page.wait_for_selector("#connection[data-state=connected]")
        page.click("#start")
        page.wait_for_selector("#tasks li[data-state=succeeded]", timeout=20000)
        assert page.evaluate("window.cspViolations") == [] and problems == []
        # The policy is in force: an inline script is blocked, and reported.
        page.evaluate("""() => { const s = document.createElement('script');
                                 s.textContent = 'window.inlineRan = true'; document.body.append(s); }""")
        page.wait_for_function("window.cspViolations.length > 0")
        assert page.evaluate("window.inlineRan") is None
        assert page.evaluate("window.cspViolations")[0].startswith("script-src")
    finally:
        context.close()


# What held before issue 10 and must keep holding.
def test_a_cross_site_socketio_handshake_is_refused_without_a_cors_grant(server):
    reply = requests.get(server.url + ENGINEIO_QUERY, headers={"Origin": EVIL}, timeout=5)
    assert reply.status_code in (400, 403)
    assert "Access-Control-Allow-Origin" not in reply.headers
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, namespaces=[protocol.NAMESPACE], headers={"Origin": EVIL}, wait_timeout=5)


@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_no_cors_grant_for_other_sites(server, method):
    reply = requests.request(method, server.url + "/tasks", timeout=5, headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in reply.headers


@pytest.mark.parametrize("path", ["/static/../server/app.py", "/static/..%2fserver%2fapp.py",
                                  "/static/%2e%2e/%2e%2e/etc/passwd", "/vendor/..%2f..%2fpackage.json"])
def test_path_traversal_is_404(server, path):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", path)  # sent as written: no client-side normalisation
        reply = connection.getresponse()
        body = reply.read()
    finally:
        connection.close()
    assert reply.status == 404
    assert b"create_app" not in body and b"root:" not in body


def open_websocket(server):
    """Open a raw socket.io websocket connected to the namespace; return it."""
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
                                     timeout=10)
    assert ws.recv().startswith("0{")  # engine.io open
    ws.send(f"40{protocol.NAMESPACE},{{}}")
    while not ws.recv().startswith(f"40{protocol.NAMESPACE},"):
        pass  # a ping may come first
    return ws


def wait_closed_by_server(ws):
    """Return once the server closes the websocket: a close frame, or the connection dropped.

    (In threading mode the server sends its close frame but Werkzeug keeps the TCP connection.)
    """
    while True:
        try:
            opcode, _frame = ws.recv_data(control_frame=True)
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            return
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return


@pytest.mark.parametrize("frame", ["oversized", "invalid-utf8"])
def test_bad_websocket_frames_close_only_that_connection(server, connect, frame):
    ws = open_websocket(server)
    if frame == "oversized":
        ws.send("42" + protocol.NAMESPACE + ',["my event",{"data":"' + "x" * (2 * 1024 * 1024) + '"}]')
    else:
        ws.send(b"42/test,[\"my event\",{\"data\":\"\xff\xfe\"}]", opcode=websocket.ABNF.OPCODE_TEXT)
    wait_closed_by_server(ws)
    ws.close()
    other = connect()
    other.emit(protocol.MY_EVENT, {"data": "still there?"})
    other.wait_for(lambda _: other.responses(), what="echo after a bad frame")
    assert "Traceback" not in server.log_text()


# Unit tests of the rules (no processes).
class FakeSettings:
    def __init__(self, **overrides):
        values = dict(server_host="127.0.0.1", server_port=5000, allowed_hosts=(), allowed_origins=(),
                      auth_token="", requires_token=False)
        values.update(overrides)
        self.__dict__.update(values)


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:5000", True), ("localhost:5000", True), ("[::1]:5000", True), ("10.1.2.3:5000", True),
    ("192.0.2.2", True), ("LocalHost", True), ("", True), ("tasks.example:443", True),
    ("evil.example:5000", False), ("localhost.evil.example", False), ("127.0.0.1.nip.io:5000", False),
    ("tasks.example.evil:80", False),
])
def test_host_rule(host, allowed):
    policy = security.Policy(FakeSettings(allowed_hosts=("tasks.example",)))
    assert policy.host_allowed(host) is allowed


@pytest.mark.parametrize("origin, host, allowed", [
    ("http://127.0.0.1:5000", "127.0.0.1:5000", True), ("http://localhost", "localhost:80", True),
    ("HTTP://LOCALHOST:5000", "localhost:5000", True), ("https://tasks.example", "tasks.example", True),
    ("http://127.0.0.1:5001", "127.0.0.1:5000", False), ("http://evil.example", "127.0.0.1:5000", False),
    ("null", "127.0.0.1:5000", False), ("https://127.0.0.1:5000", "127.0.0.1:5000", False), ("", "x", False),
])
def test_origin_rule(origin, host, allowed):
    policy = security.Policy(FakeSettings(allowed_origins=("https://tasks.example",)))
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": host}
    assert policy.origin_allowed(origin, environ) is allowed


@pytest.mark.parametrize("origin, forwarded, allowed", [
    ("https://127.0.0.1:8443", "https", True),  # behind a TLS proxy: the page is at https, same Host
    ("https://127.0.0.1:8443", "", False),  # no proxy said so
    ("https://evil.example", "https", False),  # the header names a scheme, never a host
    ("http://127.0.0.1:8443", "https", True),
    ("https://127.0.0.1:8443", "gopher", False),
])
def test_origin_rule_behind_a_tls_proxy(origin, forwarded, allowed):
    policy = security.Policy(FakeSettings())
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8443", "HTTP_X_FORWARDED_PROTO": forwarded}
    assert policy.origin_allowed(origin, environ) is allowed


def test_a_token_is_made_only_beyond_loopback_and_compared_whole():
    assert security.Policy(FakeSettings()).token is None
    made = security.Policy(FakeSettings(server_host="0.0.0.0", requires_token=True))
    assert made.token_generated and len(made.token) >= 32
    fixed = security.Policy(FakeSettings(auth_token="x" * 20, requires_token=True))
    assert not fixed.token_generated and fixed.token_matches("x" * 20)
    assert not fixed.token_matches("x" * 19) and not fixed.token_matches(None) and not fixed.token_matches(20)


@pytest.mark.parametrize("env, requires", [
    ({}, False), ({"SERVER_HOST": "localhost"}, False), ({"SERVER_HOST": "::1"}, False),
    ({"SERVER_HOST": "0.0.0.0"}, True), ({"SERVER_HOST": "192.0.2.2"}, True), ({"SERVER_HOST": "::"}, True),
    ({"SERVER_HOST": "0.0.0.0", "INSECURE_NO_TOKEN": "1"}, False),
    ({"AUTH_TOKEN": "a-token-set-on-loopback"}, True),
])
def test_when_a_token_is_required(env, requires):
    assert config.load(env).requires_token is requires


def test_limits_are_read_from_the_environment():
    settings = config.load({"TASK_START_BURST": "5000", "TASK_START_RATE": "2500.5",
                            "MAX_ACTIVE_TASKS_PER_CLIENT": "3000", "MAX_QUEUED_TASKS": "20000"})
    assert (settings.task_start_burst, settings.task_start_rate, settings.max_active_tasks_per_client,
            settings.max_queued_tasks) == (5000, 2500.5, 3000, 20000)
    defaults = config.load({})
    assert defaults.task_start_burst >= 50 and defaults.task_start_rate >= 10
    assert defaults.max_active_tasks_per_client >= 100


@pytest.mark.parametrize("url, broker", [
    ("redis://:pw@127.0.0.1:6379/0", "redis://:pw@127.0.0.1:6379/0"),
    ("unix:///run/redis.sock?db=2", "redis+socket:///run/redis.sock?virtual_host=2"),
    ("unix://:p%40ss@/run/redis.sock?db=0", "redis+socket://:p%40ss@/run/redis.sock?virtual_host=0"),
    ("unix:///run/redis.sock?password=secret", "redis+socket://:secret@/run/redis.sock"),
])
def test_broker_url_spells_unix_sockets_for_kombu(url, broker):
    assert config.broker_url(url) == broker


@pytest.mark.parametrize("url, shown", [
    ("unix:///run/redis.sock?db=0&password=secret", "unix:///run/redis.sock?db=0&password=***"),
    ("rediss://:secret@host:6380/0?ssl_cert_reqs=required", "rediss://:***@host:6380/0?ssl_cert_reqs=required"),
])
def test_redacted_hides_passwords_in_every_url_form(url, shown):
    assert config.redacted(url) == shown
    assert "secret" not in config.redacted(url)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def limits_with(burst=3, rate=2.0, per_client=100, total=1000, unfinished=None):
    clock = Clock()
    return TaskLimits(burst, rate, per_client, total, unfinished or (lambda ids: list(ids)), clock=clock), clock


def start(limits, client, task_id):
    with limits.slot(client) as started:
        started(task_id)


def test_the_bucket_allows_a_burst_then_the_rate():
    limits, clock = limits_with(burst=3, rate=2.0)
    for n in range(3):
        start(limits, "a", f"task {n}")
    with pytest.raises(RateLimited) as refused:
        start(limits, "a", "one too many")
    assert refused.value.code == "rate_limited" and refused.value.retry_after == 1
    start(limits, "b", "another client is not affected")
    clock.now += 0.5  # one more start at 2 a second
    start(limits, "a", "task 3")
    with pytest.raises(RateLimited):
        start(limits, "a", "task 4")
    clock.now += 100  # refilled up to the burst, no more
    for n in range(3):
        start(limits, "a", f"later {n}")
    with pytest.raises(RateLimited):
        start(limits, "a", "later 3")


def test_caps_count_unfinished_tasks_and_forget_finished_ones():
    finished = set()
    limits, _clock = limits_with(burst=100, per_client=2, total=3,
                                 unfinished=lambda ids: [t for t in ids if t not in finished])
    start(limits, "a", "a1")
    start(limits, "a", "a2")
    with pytest.raises(RateLimited, match="2 tasks unfinished"):
        start(limits, "a", "a3")
    finished.add("a1")
    start(limits, "a", "a3")  # a1 finished: its slot is free
    start(limits, "b", "b1")
    with pytest.raises(RateLimited, match="the server has 3 tasks unfinished"):
        start(limits, "b", "b2")


def test_a_failed_start_gives_its_slot_back():
    limits, _clock = limits_with(burst=100, per_client=1)
    with pytest.raises(RuntimeError):
        with limits.slot("a"):
            raise RuntimeError("Redis is down")
    start(limits, "a", "a1")  # the slot was not kept by the failed start
    limits.forget("a")  # gone: its bucket goes, its unfinished task still counts
    with pytest.raises(RateLimited, match="1 task unfinished"):
        start(limits, "a", "a2")

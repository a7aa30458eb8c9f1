"""Run the web server: python -m server (installed: taskprogress-server)"""
import argparse
import os
import sys

from shared import config

USAGE = """\
Run the task-progress web server: the page, the HTTP API and Socket.IO, on SERVER_HOST:SERVER_PORT.
Settings come from the environment, over a .env file in the current directory: REDIS_URL,
SERVER_HOST, SERVER_PORT, SOCKETIO_ASYNC_MODE, SECRET_KEY, BACKGROUND_TASK_SECONDS, LOG_LEVEL,
LOG_TIMESTAMPS and the TASK_* settings (README, Configuration). Run as many as you like on one
Redis, each on its own port, behind a proxy (docs/DEPLOYMENT.md)."""

# Before the settings are read: --help works whatever they hold.
PROG = "python -m server" if sys.argv[0].endswith("__main__.py") else os.path.basename(sys.argv[0])
argparse.ArgumentParser(prog=PROG, description=USAGE,
                        formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
try:
    settings = config.load(names=config.SERVER_SETTINGS)
except config.ConfigError as exc:
    sys.exit(f"Configuration error: {exc}")

if settings.async_mode == "eventlet":
    # Before anything else is imported, so no call (time.sleep, sockets) blocks the server.
    import warnings

    # Eventlet warns that it is in maintenance mode on import; SOCKETIO_ASYNC_MODE=threading avoids it.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()

import errno  # noqa: E402
import gc  # noqa: E402
import logging  # noqa: E402
import socket  # noqa: E402

from server import open_files  # noqa: E402
from server.app import create_app  # noqa: E402
from shared import protocol  # noqa: E402

log = logging.getLogger("server")

BUFFER_BYTES = 1024  # each eventlet connection's read and write buffers (see small_buffer_protocol)


def main():
    """Start the server on SERVER_HOST:SERVER_PORT."""
    # Without timestamps where whatever shows the output adds its own (run_all.py, journald).
    log_format = "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=settings.log_level,
                        format=f"%(asctime)s {log_format}" if settings.log_timestamps else log_format)
    # One line per request is noise next to the app's own log; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    open_file_limit = open_files.raise_limit()  # one per client connection: 1,024 would cap the clients
    try:
        listener = listen(settings.server_host, settings.server_port)
    except OSError as exc:
        sys.exit(cannot_listen(settings.server_host, settings.server_port, exc))
    app = create_app(settings)
    # The app's start-up objects (Flask, Celery, kombu, eventlet: ~300,000) never become garbage;
    # frozen, they leave every later collection, which would otherwise stall events for ~18 ms.
    gc.collect()
    gc.freeze()
    task_progress = app.extensions["task_progress"]
    if not task_progress.ping():
        log.error("%s", task_progress.unavailable_error())
    # Only now, with the real address: a line that says "serving" must never precede a failed bind.
    log.info("serving on %s (async mode %s, Redis %s, open-file limit %d)", listening_url(listener),
             settings.async_mode, config.redacted(settings.redis_url), open_file_limit)
    announce_access(settings, app.extensions["security"], listening_url(listener))
    if settings.async_mode == "eventlet":
        serve_eventlet(app, listener, open_files.connection_capacity(open_file_limit))
    else:
        serve_threading(app, listener)


def listen(host, port):
    """Return a socket listening on host:port (green under eventlet, which patched the socket module)."""
    family, _type, _proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As eventlet.listen and Werkzeug do: a port left in TIME_WAIT by the last run is free.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Without TCP_NODELAY, Nagle's algorithm holds a small websocket frame until the previous one is
        # acknowledged, and a steady event stream settles at ~10 ms per event instead of under 1 ms.
        # Connections accepted under eventlet inherit the option from the listener.
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listener.bind(address)
        listener.listen(socket.SOMAXCONN)
    except OSError:
        listener.close()
        raise
    return listener


def cannot_listen(host, port, exc):
    """Return the one-line reason the server could not listen on host:port, with the fix."""
    if exc.errno == errno.EADDRINUSE:
        return (f"Port {port} on {host} is already in use: "
                "stop the program using it or choose another with SERVER_PORT.")
    if exc.errno == errno.EACCES:
        return f"Port {port} needs administrator rights: choose one above 1023 with SERVER_PORT."
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"SERVER_HOST {host!r} is not an address of this machine: set it to 127.0.0.1 or 0.0.0.0."
    return f"Cannot listen on {host}:{port}: {exc.strerror or exc}."


def announce_access(settings, policy, url):
    """Say who can reach the server, and print a token made for this run once (as Jupyter does)."""
    if not settings.listens_beyond_loopback:
        return
    if policy.token is None:
        log.warning("INSECURE: %s is reachable from other machines and INSECURE_NO_TOKEN is set: anyone "
                    "who can reach it can start and cancel tasks. Unset INSECURE_NO_TOKEN unless every "
                    "machine on this network is trusted.", url)
        return
    log.info("other machines can reach the server; every request needs its token (AUTH_TOKEN)")
    if policy.token_generated:
        # Printed once, not logged: a new token each start; set AUTH_TOKEN to keep one.
        print(f"\n    To use the server, open (from another machine, with this machine's address):\n"
              f"    {settings.server_url}/?{protocol.AUTH_TOKEN_FIELD}={policy.token}\n", flush=True)


def listening_url(listener):
    """Return the URL of the address listener is bound to."""
    host, port = listener.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_eventlet(app, listener, max_connections):
    """Serve app with eventlet's WSGI server on listener, holding up to max_connections at once."""
    import eventlet.wsgi

    # A websocket holds one of the server's green threads for its whole life, and eventlet's default
    # pool (1,024) would leave every later client waiting in the listen backlog.
    eventlet.wsgi.server(listener, app, log_output=False, max_size=max_connections,
                         protocol=small_buffer_protocol())


def small_buffer_protocol():
    """Return eventlet's HTTP protocol class with buffers sized for our requests and replies."""
    import eventlet.wsgi

    class SmallBufferProtocol(eventlet.wsgi.HttpProtocol):
        # A websocket keeps the buffers of the request that opened it for its whole life without
        # using them (frames go straight to the socket). With eventlet's 8 KiB + 16 KiB an idle
        # client cost 6 KiB more (bench/findings.md, figure 7). Headers longer than this take another
        # system call, a bigger body goes straight to the socket; unbuffered writes would lose data
        # (eventlet's writelines), so the write buffer stays.
        rbufsize = BUFFER_BYTES
        wbufsize = BUFFER_BYTES

    return SmallBufferProtocol


def serve_threading(app, listener):
    """Serve app with Werkzeug's threaded server on listener, as socketio.run() would."""
    from werkzeug.serving import make_server

    host, port = listener.getsockname()[:2]
    # fd: Werkzeug serves the socket bound above rather than binding (and failing in its own words) itself.
    make_server(host, port, app, threaded=True, request_handler=no_delay_request_handler(),
                fd=listener.fileno()).serve_forever()


def no_delay_request_handler():
    """Return Werkzeug's request handler class, made to send each small packet at once too."""
    from werkzeug.serving import WSGIRequestHandler

    class NoDelayRequestHandler(WSGIRequestHandler):
        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # see listen()

    return NoDelayRequestHandler


if __name__ == "__main__":
    main()

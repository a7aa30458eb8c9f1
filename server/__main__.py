"""Run the web server: python -m server"""
import sys

from shared import config

try:
    settings = config.load()
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

from server.app import create_app, socketio  # noqa: E402
from shared import protocol  # noqa: E402

log = logging.getLogger("server")


def main():
    """Start the server on SERVER_HOST:SERVER_PORT."""
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per request is noise next to the app's own log; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(settings)
    # The app's start-up objects (Flask, Celery, kombu, eventlet: ~300,000) never become garbage;
    # frozen, they leave every later collection, which would otherwise stall events for ~18 ms.
    gc.collect()
    gc.freeze()
    task_progress = app.extensions["task_progress"]
    if not task_progress.ping():
        log.error("%s", task_progress.unavailable_error())
    log.info("serving on %s (async mode %s, Redis %s)", bound_url(settings), settings.async_mode,
             config.redacted(settings.redis_url))
    announce_access(settings, app.extensions["security"])
    try:
        if settings.async_mode == "eventlet":
            serve_eventlet(app, settings.server_host, settings.server_port)
        else:
            socketio.run(app, host=settings.server_host, port=settings.server_port,
                         allow_unsafe_werkzeug=True, log_output=False,
                         request_handler=no_delay_request_handler())
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            sys.exit(f"Port {settings.server_port} on {settings.server_host} is already in use: "
                     "stop the program using it or choose another with SERVER_PORT.")
        raise


def bound_url(settings):
    """Return the address the server really listens on, as a URL (0.0.0.0 stays 0.0.0.0)."""
    host = settings.server_host or "0.0.0.0"
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.server_port}"


def announce_access(settings, policy):
    """Say who can reach the server, and print a token made for this run once (as Jupyter does)."""
    if not settings.listens_beyond_loopback:
        return
    if policy.token is None:
        log.warning("INSECURE: %s is reachable from other machines and INSECURE_NO_TOKEN is set: anyone "
                    "who can reach it can start and cancel tasks. Unset INSECURE_NO_TOKEN unless every "
                    "machine on this network is trusted.", bound_url(settings))
        return
    log.info("other machines can reach the server; every request needs its token (AUTH_TOKEN)")
    if policy.token_generated:
        # Printed once, not logged: a new token each start; set AUTH_TOKEN to keep one.
        print(f"\n    To use the server, open (from another machine, with this machine's address):\n"
              f"    {settings.server_url}/?{protocol.AUTH_TOKEN_FIELD}={policy.token}\n", flush=True)


def serve_eventlet(app, host, port):
    """Serve app with eventlet's WSGI server, sending each small packet at once."""
    import socket

    import eventlet.wsgi

    family, _type, _proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = eventlet.listen(address, family)
    # Without TCP_NODELAY, Nagle's algorithm holds a small websocket frame until the previous one is
    # acknowledged, and a steady event stream settles at ~10 ms per event instead of under 1 ms.
    # Accepted connections inherit the option from the listener.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, log_output=False)


def no_delay_request_handler():
    """Return Werkzeug's request handler class, made to send each small packet at once too."""
    import socket

    from werkzeug.serving import WSGIRequestHandler

    class NoDelayRequestHandler(WSGIRequestHandler):
        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # see serve_eventlet

    return NoDelayRequestHandler


if __name__ == "__main__":
    main()

"""Who may talk to the server, and how: checked in front of everything, socket.io included.

One WSGI middleware (``Guard``) wraps the whole app, Flask-SocketIO's engine.io endpoint included,
since socket.io requests never reach Flask's routing. For every request, in order:

1. **Host allow-list** (DNS rebinding): a page on ``evil.example`` whose name the attacker re-points
   at 127.0.0.1 reaches the server with ``Host: evil.example``. Served hosts are IP literals (a
   rebinding page always uses a name), ``localhost``, ``SERVER_HOST`` and ``ALLOWED_HOSTS``; any
   other Host is refused with 403.
2. **Body size and encoding**: a body over ``protocol.MAX_REQUEST_BYTES`` is refused with 413 before
   anything reads it; a socket.io polling POST must be valid UTF-8 (400) and say its length (411),
   which python-engineio would otherwise meet with a traceback or a long wait.
3. **Cross-site requests** cannot change anything: a request that can (any method but GET, HEAD and
   OPTIONS; ``GET /bg``; every socket.io request) is refused with 403 when its ``Origin`` is not the
   server's own (or in ``ALLOWED_ORIGINS``), or when, without an ``Origin``, its ``Sec-Fetch-Site``
   says another site sent it. Scripts, curl and the desktop app send neither header.
4. **Token**: when ``Policy.token`` is set (always beyond loopback, see shared/config.py), every HTTP
   request but ``/healthz`` and socket.io's must carry it, as ``Authorization: Bearer …`` or in the
   HttpOnly cookie the page receives when opened once with ``/?token=…``; else 401. Socket.io
   clients send it in their connection's auth, checked by ``check_connect`` (events.py).

Every response, refusals included, carries the security headers. A refusal is JSON, like every
error of the server, and costs one log line. Tokens are compared in constant time and never logged.
"""
import hmac
import ipaddress
import io
import json
import logging
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from flask import current_app, request

from shared import protocol
from shared.protocol import ErrorCode, ProtocolError

from . import wire

log = logging.getLogger(__name__)

SOCKETIO_PATH = "/socket.io/"  # Flask-SocketIO's default engine.io endpoint
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SAFE_FETCH_SITES = ("same-origin", "none")  # "none": typed in the address bar, a bookmark
TOKEN_COOKIE = "taskprogress_token_{port}"  # cookies ignore ports: one per server port
SECURITY_HEADERS = [
    ("Content-Security-Policy",
     "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
]
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class Policy:
    """The rules, from the settings: which hosts and origins are served, and the token if one is needed."""

    def __init__(self, settings):
        self.allowed_hosts = frozenset({"localhost", settings.server_host.strip("[]").lower(),
                                        *settings.allowed_hosts} - {""})
        self.allowed_origins = frozenset(_normal_origin(origin) for origin in settings.allowed_origins)
        # Beyond loopback a token is required; with none given, one is made for this run (printed once).
        self.token_generated = settings.requires_token and not settings.auth_token
        # Hex: never starts with "-", which `--token <value>` on a command line would take for an option.
        self.token = secrets.token_hex(32) if self.token_generated else (settings.auth_token or None)
        self.cookie_name = TOKEN_COOKIE.format(port=settings.server_port)

    def host_allowed(self, host):
        """Tell whether a Host header (name or address, with or without port) names this server."""
        if not host:
            return True  # HTTP/1.0 without Host: no browser sends that
        name = _host_name(host)
        return _is_ip_literal(name) or name in self.allowed_hosts

    def origin_allowed(self, origin, environ=None):
        """Tell whether a browser page at origin may use the server (python-engineio calls it too)."""
        if not origin:
            return False
        origin = _normal_origin(origin)
        return origin in self.allowed_origins or (
            environ is not None and origin in _own_origins(environ))

    def token_matches(self, candidate):
        """Tell, in constant time, whether candidate is the token (True when none is required)."""
        if self.token is None:
            return True
        return isinstance(candidate, str) and hmac.compare_digest(candidate.encode(), self.token.encode())

    def presented_token(self, environ):
        """Return the token an HTTP request carries (Authorization header, else cookie), or None."""
        scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        cookie = SimpleCookie()
        try:
            cookie.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # a malformed Cookie header carries no token
            return None
        morsel = cookie.get(self.cookie_name)
        return morsel.value if morsel else None


class Guard:
    """WSGI middleware applying the Policy to every request (see the module docstring)."""

    def __init__(self, app, policy):
        self.app = app
        self.policy = policy

    def __call__(self, environ, start_response):
        def start_with_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers = list(headers) + [(n, v) for n, v in SECURITY_HEADERS if n.lower() not in present]
            return start_response(status, headers, exc_info)

        refusal = self._check_host(environ) or self._check_body(environ) or self._check_origin(environ)
        cookie = self._token_cookie(environ) if refusal is None else None
        if refusal is None and cookie is None:
            refusal = self._check_token(environ)
        if refusal is not None:
            return refusal.respond(environ, start_with_headers)
        if cookie is None:
            return self.app(environ, start_with_headers)

        def start_with_cookie(status, headers, exc_info=None):
            return start_with_headers(status, list(headers) + [("Set-Cookie", cookie)], exc_info)
        return self.app(environ, start_with_cookie)

    def _check_host(self, environ):
        host = environ.get("HTTP_HOST", "")
        if self.policy.host_allowed(host):
            return None
        return Refusal(403, ErrorCode.FORBIDDEN,
                       f"this server does not serve the host {host[:100]!r}; if it is a name of this "
                       "server, add it to ALLOWED_HOSTS")

    def _check_body(self, environ):
        raw_length = environ.get("CONTENT_LENGTH", "").strip()
        if raw_length and not raw_length.isdigit():
            return Refusal(400, ErrorCode.INVALID_PAYLOAD, "the Content-Length header is not a number")
        if raw_length and int(raw_length) > protocol.MAX_REQUEST_BYTES:
            return Refusal(413, ErrorCode.TOO_LARGE, f"the request body is {raw_length} bytes; the limit "
                                                     f"is {protocol.MAX_REQUEST_BYTES} bytes", close=True)
        if not (_is_socketio(environ) and environ.get("REQUEST_METHOD") == "POST"):
            return None
        if not raw_length:
            return Refusal(411, ErrorCode.INVALID_PAYLOAD, "a socket.io POST must give its Content-Length",
                           close=True)
        body = environ["wsgi.input"].read(int(raw_length))
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return Refusal(400, ErrorCode.INVALID_PAYLOAD, "the socket.io message is not valid UTF-8")
        environ["wsgi.input"] = io.BytesIO(body)  # read once here; python-engineio reads it again
        environ["CONTENT_LENGTH"] = str(len(body))
        return None

    def _check_origin(self, environ):
        if not _can_change_things(environ):
            return None
        origin = environ.get("HTTP_ORIGIN")
        if origin:
            if self.policy.origin_allowed(origin, environ):
                return None
            return Refusal(403, ErrorCode.FORBIDDEN,
                           f"requests from pages at {origin[:100]!r} may not change anything here; "
                           "add that origin to ALLOWED_ORIGINS to allow it")
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site is None or site in SAFE_FETCH_SITES:
            return None
        return Refusal(403, ErrorCode.FORBIDDEN,
                       f"a request sent by another site ({site[:40]}) may not change anything here")

    def _check_token(self, environ):
        if self.policy.token is None or _is_socketio(environ) \
                or environ.get("PATH_INFO") == protocol.ROUTE_HEALTH:
            return None
        if self.policy.token_matches(self.policy.presented_token(environ)):
            return None
        return Refusal(401, ErrorCode.UNAUTHORIZED,
                       "this server needs its token: open the URL with ?token=… that it printed at start, "
                       "or send Authorization: Bearer <token>",
                       headers=[("WWW-Authenticate", 'Bearer realm="task progress"')])

    def _token_cookie(self, environ):
        """Return the Set-Cookie value for a page opened with a valid ?token=, else None."""
        if self.policy.token is None or environ.get("REQUEST_METHOD") != "GET" \
                or environ.get("PATH_INFO") != protocol.ROUTE_INDEX:
            return None
        given = parse_qs(environ.get("QUERY_STRING", "")).get(protocol.AUTH_TOKEN_FIELD, [None])[0]
        if given is None or not self.policy.token_matches(given):
            return None
        # Behind a TLS proxy the server sees http: its X-Forwarded-Proto says the browser used https
        # (trusting it can only make the cookie stricter).
        https = "https" in (environ.get("wsgi.url_scheme"), environ.get("HTTP_X_FORWARDED_PROTO", "").lower())
        secure = "; Secure" if https else ""
        return f"{self.policy.cookie_name}={self.policy.token}; Path=/; HttpOnly; SameSite=Strict{secure}"


class Refusal:
    """A JSON error response given in front of the app, logged once."""

    def __init__(self, status, code, message, headers=(), close=False):
        self.status, self.code, self.message = status, code, message
        self.headers = list(headers) + ([("Connection", "close")] if close else [])

    def respond(self, environ, start_response):
        """Log the refusal and send it."""
        log.warning("refused %s %s from %s: %s", environ.get("REQUEST_METHOD"),
                    environ.get("PATH_INFO", "")[:200], environ.get("REMOTE_ADDR"), self.message)
        body = json.dumps({"error": {"code": str(self.code), "message": self.message}}).encode()
        reason = {400: "BAD REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 411: "LENGTH REQUIRED",
                  413: "CONTENT TOO LARGE"}[self.status]
        start_response(f"{self.status} {reason}", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(body))), *self.headers])
        return [body]


def init_app(app, policy):
    """Put the Guard in front of the whole app, socket.io included: call it after socketio.init_app."""
    app.extensions["security"] = policy
    app.wsgi_app = Guard(app.wsgi_app, policy)


def check_connect(auth):
    """Raise ProtocolError unless a connecting socket.io client may connect (its auth, its token)."""
    if isinstance(auth, wire.Undecodable):
        raise auth.error
    policy = current_app.extensions["security"]
    token = auth.get(protocol.AUTH_TOKEN_FIELD) if isinstance(auth, dict) else None
    if token is None:  # the page sends none: its cookie (or a header) carries it
        token = policy.presented_token(request.environ)
    if not policy.token_matches(token):
        raise ProtocolError(ErrorCode.UNAUTHORIZED,
                            f"this server needs its token: connect with auth {{\"{protocol.AUTH_TOKEN_FIELD}\": …}}")


def _can_change_things(environ):
    return (environ.get("REQUEST_METHOD") not in SAFE_METHODS or _is_socketio(environ)
            or environ.get("PATH_INFO") == protocol.ROUTE_BACKGROUND)


def _is_socketio(environ):
    return environ.get("PATH_INFO", "").startswith(SOCKETIO_PATH)


def _host_name(host):
    """Return the lower-case name or address of a Host header, without its port or brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _is_ip_literal(name):
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _own_origins(environ):
    """Return the server's own origins: its scheme and Host, and the scheme a proxy says the browser used.

    Behind a TLS-terminating proxy (docs/DEPLOYMENT.md) the server sees http while the page is at
    https with the same Host. A header a browser page cannot add to a cross-site request without a
    CORS grant (none is given) can only name the scheme; the host must still be the Host served.
    """
    host = environ.get("HTTP_HOST", "")
    schemes = {environ.get("wsgi.url_scheme", "http")}
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
    if forwarded in ("http", "https"):
        schemes.add(forwarded)
    return {_normal_origin(f"{scheme}://{host}") for scheme in schemes}


def _normal_origin(origin):
    """Return origin in lower case without a default port (browsers omit it, Host headers may not)."""
    scheme, sep, rest = origin.strip().lower().partition("://")
    host, colon, port = rest.rpartition(":")
    if colon and "]" not in port and _DEFAULT_PORTS.get(scheme) == port:
        rest = host
    return f"{scheme}{sep}{rest}"

"""The app's words: how it shows ids, server text and connection problems, and how it reads a
server address typed by the user. Server text is always shown as text, never as markup."""
import html
from urllib.parse import parse_qs, urlsplit, urlunsplit

import socketio

from shared import protocol

MAX_TEXT_CHARS = 4000  # longer server text is cut, so one line cannot swamp the log

# What python-socketio reports (often a long requests exception), and what the user is told.
_CONNECT_ERRORS = (("needs its token", "the server needs its token: start the app with --token TOKEN, or "
                                      "open File ▸ Change server… with the URL the server printed"),
                   ("refused", "no server is answering at this address"),
                   ("Name or service not known", "the host name is unknown"),
                   ("nodename nor servname", "the host name is unknown"),
                   ("getaddrinfo", "the host name is unknown"),
                   ("timed out", "the server did not answer in time"),
                   ("Network is unreachable", "the network is unreachable"),
                   ("No route to host", "the server cannot be reached"),
                   ("SSL", "a secure connection could not be set up"))


def short_id(task_id):
    """Return the short form of a task id shown in rows and log lines."""
    return task_id[:8]


def clip(text, limit=MAX_TEXT_CHARS):
    """Return text cut to limit characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def describe(payload, limit=120):
    """Return a short printable form of any payload, for log lines about bad input."""
    return clip(repr(payload), limit)


def plain_tooltip(text):
    """Return a tooltip that shows text literally.

    Qt guesses whether a tooltip is rich text, so raw server text like "<img src=x>" would be
    parsed; escaping it inside <qt> makes the guess certain and the text literal.
    """
    return f"<qt>{html.escape(text)}</qt>"


def check_url(url):
    """Return url if a socket.io client can use it, else raise ValueError saying why."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a server address like http://127.0.0.1:5000")
    try:
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    return url.strip()


def split_token(url):
    """Return (url without its query, the token in its ?token=… or None): the URL a server prints."""
    parts = urlsplit(url.strip())
    token = parse_qs(parts.query).get(protocol.AUTH_TOKEN_FIELD, [None])[0]
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", "")), token


def disconnect_text(reason):
    """Return why the link dropped, in words."""
    reasons = {socketio.Client.reason.TRANSPORT_ERROR: "the connection to the server was lost",
               socketio.Client.reason.SERVER_DISCONNECT: "the server closed the connection"}
    return reasons.get(reason, str(reason or "disconnected"))


def connect_error_text(data):
    """Return why connecting failed, in words, from what python-socketio reported."""
    if isinstance(data, dict) and "message" in data:
        data = data["message"]
    text = str(data or "the server could not be reached")
    for clue, meaning in _CONNECT_ERRORS:
        if clue.lower() in text.lower():
            return meaning
    return clip(text, 200)

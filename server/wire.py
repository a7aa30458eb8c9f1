"""What clients send over socket.io, decoded defensively: hostile packets become protocol errors.

python-socketio decodes each packet with its JSON module and dispatches it by type; data it cannot
decode (JSON nested 100,000 deep, a truncated array, an event that is no list) raised deep inside it,
logged a traceback and answered nothing. Here the server gets a JSON module that refuses nesting
deeper than the protocol's limit (``protocol.parse_json``) and a packet class (python-socketio's
documented ``serializer`` hook) that turns such a packet into an event named by an ``Undecodable``:
the namespace's catch-all handler raises its ProtocolError, so the sender gets an ordinary
``protocol error`` (and an ack, when it asked for one) through the one error path of events.py.
A connection request whose auth cannot be decoded carries an ``Undecodable`` as its auth instead.

What the server sends goes uncompressed: ``without_compression`` declines websocket compression
(permessage-deflate), which browsers and socket.io-client always offer. Compression runs once per
client for every message, with each connection's own zlib state: sending one progress event to 100
pages cost 100 compressions, a third of the server's time. Our messages are small JSON, so the
bytes saved are few, and the CPU is what limits how many clients one server can feed.
"""
import json

from socketio import packet

from shared import protocol
from shared.protocol import ErrorCode, ProtocolError


WEBSOCKET_EXTENSIONS = "HTTP_SEC_WEBSOCKET_EXTENSIONS"  # the offer, as WSGI names the header


def without_compression(wsgi_app):
    """Wrap wsgi_app so that websocket upgrades are answered without extensions (no compression).

    The WebSocket handshake is built from the request's headers in both async modes (eventlet's
    websocket module, simple-websocket under Werkzeug); an offer it never sees is declined, and
    the client goes on without it (RFC 6455, section 9.1).
    """
    def app(environ, start_response):
        environ.pop(WEBSOCKET_EXTENSIONS, None)
        return wsgi_app(environ, start_response)
    return app


class DepthLimitedJSON:
    """The JSON module of the socket.io server: the standard one, but loads refuses deep nesting."""

    @staticmethod
    def dumps(value, **kwargs):
        """Encode value as JSON."""
        return json.dumps(value, **kwargs)

    @staticmethod
    def loads(text, **_kwargs):
        """Decode JSON text, raising ProtocolError (a ValueError) for invalid or too deeply nested JSON."""
        return protocol.parse_json(text)


class Undecodable(str):
    """Stands for a packet's data that could not be decoded: its text says why, `error` is the refusal."""

    def __new__(cls, error):
        text = super().__new__(cls, error.message)
        text.error = error
        return text


class TolerantPacket(packet.Packet):
    """A socket.io packet whose undecodable data becomes an Undecodable instead of an exception."""

    json = DepthLimitedJSON

    def decode(self, encoded_packet):
        """Decode encoded_packet; never raise for what a client sent."""
        if not isinstance(encoded_packet, str):
            return self._undecodable(ProtocolError(ErrorCode.INVALID_PAYLOAD,
                                                   "binary data is not part of the protocol"))
        try:
            attachments = super().decode(encoded_packet)
        except ProtocolError as error:
            return self._undecodable(error)
        except ValueError:
            return self._undecodable(ProtocolError(ErrorCode.INVALID_PAYLOAD,
                                                   "the message is not a socket.io packet"))
        if self.packet_type in (packet.BINARY_EVENT, packet.BINARY_ACK):
            return self._undecodable(ProtocolError(ErrorCode.INVALID_PAYLOAD,
                                                   "binary data is not part of the protocol"))
        if self.packet_type not in (packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK):
            return self._undecodable(ProtocolError(ErrorCode.INVALID_PAYLOAD,
                                                   f"packet type {self.packet_type} is not one a client sends"))
        if self.packet_type == packet.EVENT and not _is_event(self.data):
            return self._undecodable(ProtocolError(ErrorCode.INVALID_PAYLOAD,
                                                   "an event is a list: [name, payload...]"))
        return attachments

    def _undecodable(self, error):
        if self.packet_type == packet.CONNECT:
            self.data = Undecodable(error)  # on_connect refuses the connection with it
        elif self.packet_type == packet.ACK:
            self.data = []  # the server asks clients for no acks: python-socketio ignores it
        else:
            # Dispatched to the namespace's catch-all handler, which raises the error; with no
            # namespace (the packet type itself was garbage) python-socketio drops it.
            self.packet_type = packet.EVENT
            self.data = [Undecodable(error)]
        self.attachment_count = 0
        return 0


def _is_event(data):
    return isinstance(data, list) and bool(data) and isinstance(data[0], str)

// A minimal socket.io client (Engine.IO 4 over one websocket, no polling, no reconnection) for load tests:
// far cheaper per message than socket.io-client, so one Node process can receive what the server sends.
// Speaks just enough of the protocol: open, namespace connect with auth, events, ping -> pong.
"use strict";
const { EventEmitter } = require("events");
const WebSocket = require("ws");

// Engine.IO packet types (first character) and Socket.IO packet types (second).
const EIO_OPEN = "0", EIO_PING = "2", EIO_PONG = "3", EIO_MESSAGE = "4";
const SIO_CONNECT = "0", SIO_EVENT = "2", SIO_CONNECT_ERROR = "4";

class LeanSocket extends EventEmitter {
  constructor(url, namespace, auth) {
    super();
    const { host } = new URL(url);
    this.namespace = namespace;
    this.prefix = `${EIO_MESSAGE}${SIO_EVENT}${namespace},`;
    this.ws = new WebSocket(`ws://${host}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    this.ws.on("message", (data) => this.onPacket(data.toString()));
    this.ws.on("close", () => this.emit("disconnect", "transport close"));
    this.ws.on("error", (error) => this.emit("connect_error", error));
    this.auth = auth;
  }

  onPacket(text) {
    if (text.startsWith(this.prefix)) {
      const [event, data] = JSON.parse(text.slice(this.prefix.length));
      this.emit(event, data);
    } else if (text === EIO_PING) {
      this.ws.send(EIO_PONG);
      this.emit("ping");
    } else if (text[0] === EIO_OPEN) {
      this.ws.send(`${EIO_MESSAGE}${SIO_CONNECT}${this.namespace},${JSON.stringify(this.auth)}`);
    } else if (text.startsWith(`${EIO_MESSAGE}${SIO_CONNECT}${this.namespace},`)) {
      this.emit("connect");
    } else if (text.startsWith(`${EIO_MESSAGE}${SIO_CONNECT_ERROR}${this.namespace},`)) {
      this.emit("connect_error", new Error(text));
    }
  }

  disconnect() {
    this.ws.close();
  }
}

module.exports = { LeanSocket };

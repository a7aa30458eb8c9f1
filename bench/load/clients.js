// Open many socket.io connections to the /test namespace from one Node process (shared by the Node load scripts).
"use strict";
const { io } = require("socket.io-client");
const { LeanSocket } = require("./lean_client");

const NAMESPACE = "/test";

// Parse "--name value" pairs into an object of strings.
function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 2) options[argv[i].replace(/^--/, "")] = argv[i + 1];
  return options;
}

// Now, in CLOCK_MONOTONIC seconds: the clock Python's time.monotonic() reads too.
function monotonic() {
  return Number(process.hrtime.bigint()) / 1e9;
}

// Open one client: the lean one by default, socket.io-client's when `kind` is "socket.io".
function openClient(kind, url, batched = false) {
  // batched: ask our server for `task progress batch` messages, as the page and the desktop app do.
  const auth = batched ? { cursor: null, batch: true } : { cursor: null };
  if (kind === "socket.io") {
    return io(url + NAMESPACE, { transports: ["websocket"], forceNew: true, reconnection: false, auth,
                                 timeout: 20000 });
  }
  return new LeanSocket(url, NAMESPACE, auth);
}

// Connect `count` clients, `batch` at a time; resolve with the sockets once each saw `readyEvent`
// (or connected, when readyEvent is empty). `setup(socket, index)` runs before each connects.
// `url` may list several servers, comma-separated: clients take them in turn.
async function connectAll(url, count, batch, readyEvent, setup, kind = "lean", batched = false) {
  const urls = url.split(","), sockets = [];
  for (let first = 0; first < count; first += batch) {
    const pending = [];
    for (let index = first; index < Math.min(count, first + batch); index++) {
      const socket = openClient(kind, urls[index % urls.length], batched);
      setup(socket, index);
      sockets.push(socket);
      pending.push(new Promise((resolve, reject) => {
        socket.once(readyEvent || "connect", resolve);
        socket.once("connect_error", (error) => reject(new Error(`client ${index}: ${error.message}`)));
      }));
    }
    await Promise.all(pending);
  }
  return sockets;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = ((sorted.length - 1) * q) / 100;
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

// The same result shape as bench/load/summary.py.
function summarize(latencies, receivedPerClient, expected, cpuFraction) {
  const sorted = Float64Array.from(latencies).sort();
  const result = { expected, clients: receivedPerClient.length,
                   received_min: receivedPerClient.length ? Math.min(...receivedPerClient) : 0,
                   lost: receivedPerClient.reduce((sum, received) => sum + (expected - received), 0),
                   cpu_fraction: cpuFraction };
  for (const q of [50, 90, 99, 99.9]) result[`p${q}`] = percentile(sorted, q);
  result.max = sorted.length ? sorted[sorted.length - 1] : null;
  return result;
}

// Fraction of one core this process used since `since` (a process.cpuUsage() reading) over `seconds`.
function cpuFraction(since, seconds) {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6 / seconds;
}

function say(word, payload) {
  process.stdout.write(payload === undefined ? `${word}\n` : `${word} ${JSON.stringify(payload)}\n`);
}

module.exports = { parseArgs, monotonic, openClient, connectAll, summarize, cpuFraction, say };

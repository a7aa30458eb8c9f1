// Hold up to N idle socket.io connections and check their heartbeats pass.
// node bench/load/idle.js --url URL --clients N [--ready-event "task list"] [--batch 50]
//                         [--stall-seconds 15] [--connect-seconds 600]
// Opens the clients a batch at a time and stops at the server's ceiling: when a batch is not all in
// within --stall-seconds (or a client is refused or dropped while connecting), or after --connect-seconds
// in all. Prints `ready {connected, offered, seconds, stopped}` (stopped: why it stopped short, or null),
// then for `hold SECONDS` on stdin prints `result {...}`: how many of the connected clients stayed
// connected and how many heard at least one server ping.
"use strict";
const readline = require("readline");
const { parseArgs, monotonic, openClient, say } = require("./clients");

// Open one batch; resolve with how many of its clients got readyEvent, and the first failure (or null).
function openBatch(options, first, count, clients) {
  const stallMs = Number(options["stall-seconds"] || 15) * 1000;
  const readyEvent = options["ready-event"] || "connect";
  return new Promise((resolve) => {
    let ready = 0, settled = 0, failure = null;
    const timer = setTimeout(() => finish(`a batch was not all in after ${stallMs / 1000} s`), stallMs);
    const finish = (reason) => {
      clearTimeout(timer);
      resolve({ ready, failure: failure || reason });
    };
    for (let index = first; index < first + count; index++) {
      const socket = openClient("lean", options.url);
      clients.sockets[index] = socket;
      let done = false;
      const settle = (ok, reason) => {
        if (done) return;
        done = true;
        if (ok) { ready++; clients.ready[index] = true; }
        else failure = failure || reason;
        if (++settled === count) finish(null);
      };
      socket.on("ping", () => clients.pings[index]++);
      socket.on("disconnect", () => { clients.dropped[index] = true; settle(false, "a client was dropped while connecting"); });
      socket.once(readyEvent, () => settle(true));
      socket.once("connect_error", (error) => settle(false, `a client was refused: ${error.message}`));
    }
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const offered = Number(options.clients);
  const batch = Number(options.batch || 50);
  const connectSeconds = Number(options["connect-seconds"] || 600);
  const clients = { sockets: [], ready: new Array(offered).fill(false), pings: new Array(offered).fill(0),
                    dropped: new Array(offered).fill(false) };
  const started = monotonic();
  let connected = 0, stopped = null;
  for (let first = 0; first < offered; first += batch) {
    const result = await openBatch(options, first, Math.min(batch, offered - first), clients);
    connected += result.ready;
    stopped = result.failure || (monotonic() - started > connectSeconds ? `${connectSeconds} s spent connecting` : null);
    if (stopped) break;
  }
  const seconds = monotonic() - started;
  // Clients still waiting at the ceiling would count if they got in later: close them.
  clients.sockets.forEach((socket, index) => { if (!clients.ready[index]) socket.disconnect(); });
  say("ready", { connected, offered, seconds, stopped });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [word, holdSeconds] = line.trim().split(/\s+/);
    if (word !== "hold") continue;
    const { ready, pings, dropped } = clients;
    const pingsBefore = pings.slice();
    const droppedBefore = dropped.map((gone, index) => gone || !ready[index]);
    await new Promise((resolve) => setTimeout(resolve, Number(holdSeconds) * 1000));
    const heard = pings.filter((count, index) => ready[index] && count > pingsBefore[index] && !dropped[index]);
    const disconnects = dropped.filter((gone, index) => gone && !droppedBefore[index]);
    say("result", { clients: connected, offered, disconnects: disconnects.length, heartbeats_passed: heard.length });
    process.exit(0);
  }
}

main().catch((error) => { process.stderr.write(`${error.stack}\n`); process.exit(1); });

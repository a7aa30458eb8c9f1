// Hold N idle socket.io connections and check their heartbeats pass.
// node bench/load/idle.js --url URL --clients N [--ready-event "task list"] [--batch 50]
// Prints `ready {connected, seconds}` once every client is in, then for `hold SECONDS` on stdin prints
// `result {...}`: how many clients stayed connected and how many heard at least one server ping.
"use strict";
const readline = require("readline");
const { parseArgs, monotonic, connectAll, say } = require("./clients");

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const clients = Number(options.clients);
  const pings = new Array(clients).fill(0);
  const dropped = new Array(clients).fill(false);
  const started = monotonic();
  await connectAll(options.url, clients, Number(options.batch || 50), options["ready-event"], (socket, index) => {
    socket.on("ping", () => pings[index]++);
    socket.on("disconnect", () => { dropped[index] = true; });
  });
  say("ready", { connected: clients, seconds: monotonic() - started });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [word, seconds] = line.trim().split(/\s+/);
    if (word !== "hold") continue;
    const pingsBefore = pings.slice();
    await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
    const heard = pings.filter((count, index) => count > pingsBefore[index] && !dropped[index]).length;
    say("result", { clients, disconnects: dropped.filter(Boolean).length, heartbeats_passed: heard });
    process.exit(0);
  }
}

main().catch((error) => { process.stderr.write(`${error.stack}\n`); process.exit(1); });

// Hold N socket.io clients and time every event against the intended send time in its message.
// node bench/load/receive.js --url URL --clients N --event "task progress" [--ready-event "task list"]
//                            [--client lean|socket.io] [--batched 1 (with --event "task progress batch")]
// Prints `ready` once every client is in. For each `go T COUNT RATE` line on stdin it prints
// `result {...}` when every client has every event of that run, or GRACE seconds after the last was due.
"use strict";
const readline = require("readline");
const { parseArgs, monotonic, connectAll, summarize, cpuFraction, say } = require("./clients");

const GRACE_SECONDS = 3;

// One scheduled run: which events each client has seen, and how late they came.
class Run {
  constructor(clients, start, count, rate) {
    Object.assign(this, { clients, start, count, rate, samples: 0, complete: 0, done: null });
    this.latencies = new Float64Array(clients * count);
    this.seen = Array.from({ length: clients }, () => new Uint8Array(count));
    this.received = new Array(clients).fill(0);
  }

  record(client, message, now) {
    const [position, intended] = String(message).split(" ");
    const at = Number(position);
    // Not a run event, a straggler of an earlier run, or a repeat.
    if (!(at >= 0 && at < this.count) || Number(intended) < this.start - 0.001 || this.seen[client][at]) return;
    this.seen[client][at] = 1;
    this.latencies[this.samples++] = (now - Number(intended)) * 1000;
    if (++this.received[client] === this.count && ++this.complete === this.clients && this.done) this.done();
  }

  async finish() {
    const cpuBefore = process.cpuUsage(), wallBefore = monotonic();
    const waitMs = (this.start + this.count / this.rate + GRACE_SECONDS - monotonic()) * 1000;
    await new Promise((resolve) => {
      this.done = resolve;
      if (this.complete === this.clients) resolve();
      setTimeout(resolve, Math.max(0, waitMs));
    });
    const cpu = cpuFraction(cpuBefore, monotonic() - wallBefore);
    return summarize(this.latencies.subarray(0, this.samples), this.received, this.count, cpu);
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const clients = Number(options.clients);
  let run = null;
  const batched = options.batched === "1";
  const sockets = await connectAll(options.url, clients, Number(options.batch || 50), options["ready-event"],
    (socket, index) => socket.on(options.event, (data) => {
      if (!run) return;
      const now = monotonic();
      // A `task progress batch` holds several events in one message.
      const events = batched ? (data && data.events) || [] : [data];
      for (const event of events) run.record(index, event && event.message, now);
    }), options.client, batched);
  let disconnects = 0;
  sockets.forEach((socket) => socket.on("disconnect", () => disconnects++));
  say("ready");
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [word, start, count, rate] = line.trim().split(/\s+/);
    if (word !== "go") continue;
    run = new Run(clients, Number(start), Number(count), Number(rate));
    const result = await run.finish();
    say("result", { ...result, disconnects });
  }
  sockets.forEach((socket) => socket.disconnect());
  process.exit(0);
}

main().catch((error) => { process.stderr.write(`${error.stack}\n`); process.exit(1); });

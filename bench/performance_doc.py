"""Write docs/PERFORMANCE.md and docs/latency.png from a run's rows and data.

python -m bench.performance_doc [RESULTS_JSON] rewrites both from a saved run (bench/results/latest.json).
The hand-written findings (causes of missed targets, recommended fixes) live in bench/findings.md
and are included as they are.
"""
import json
import os
import sys

from bench import report
from bench.figures import Row
from shared.config import PROJECT_ROOT as ROOT

DOC_PATH = os.path.join(ROOT, "docs", "PERFORMANCE.md")
PLOT_PATH = os.path.join(ROOT, "docs", "latency.png")
COST_PLOT_PATH = os.path.join(ROOT, "docs", "fanout-cost.png")
MEMORY_PLOT_PATH = os.path.join(ROOT, "docs", "redis_memory.png")
FINDINGS_PATH = os.path.join(ROOT, "bench", "findings.md")

METHOD = """\
## How it is measured

Every system runs on a private Redis of its own, so no system's traffic reaches another's; repeats
are interleaved across systems, every figure is the median over the repeats, and every ratio is taken
between figures of the same run. Load is open loop: event *i* is due at *T + i / rate* whatever became
of earlier ones, and latency runs from that intended send time to arrival (CLOCK_MONOTONIC, shared by
every process on the machine), so a system that falls behind pays for it in its latency.

- **Systems.** *Ours*: `python -m server` in each async mode; its events are recorded with
  `TaskProgress.record` from a separate process, as the worker does, and reach clients through the
  relay (Redis Stream). *Baseline*: `bench/baseline/`, the original article's design written fresh: a
  Flask-SocketIO server on a Redis message queue whose Celery task creates a new
  `SocketIO(message_queue=...)` each time it runs; its events are emitted through a write-only
  `SocketIO(message_queue=...)` from a separate process (one emitter for the whole run, which favours
  it). *Floor*: a bare Redis `PUBLISH` → `SUBSCRIBE` between two Python processes.
- **Clients.** Two receivers, one Node process holding all of a run's clients: socket.io-client 4.8.4,
  the page's own library (figure 2's target is about it), and `bench/load/lean_client.js`, a minimal
  Engine.IO 4 client over one websocket (`ws`) that costs the load generator less. Both connect as the
  page does (websocket, and for ours `task progress batch`); every step reports the receiver's CPU,
  since it shares the 2 cores with the server.
- **1. Emit → client**: one client, 1,000 events/s for a few seconds per run; p50 against the floor's p50.
- **2. Fan-out**: 100 clients; the event rate climbs from 25 events/s, doubling, until a step loses an
  event or its p99 reaches 100 ms, then bisects once; deliveries/s = events/s × clients. Three
  interleaved passes with socket.io-client (the target holds in every pass), one with the lean client.
- **2b. Server CPU per delivery**: the server process's CPU time during a step over the deliveries made
  in it, at each rate of the climb (the climb goes on past a failure to 400 events/s, so the baseline
  is measured there too, where it no longer holds); median over the passes.
- **2c. Clients**: the same search with 10, 100 and 1,000 socket.io-client clients (eventlet), each
  starting at 2,500 deliveries/s.
- **2d. Server processes**: ours with 1 and then 2 server processes on one Redis, the clients taking
  them in turn; each server pinned to a core of its own.
- **3. Worker cost**: wall time per call in one process (median of 5 batches), our `TaskProgress.record`
  and the baseline's `SocketIO.emit` against a bare `redis.publish`. Task setup = the first emit of a new
  task, emitter included, less a steady emit (ours: inside the Flask app context, as Celery runs tasks).
- **4. Click → first progress**: a connected socket.io client starts a zero-second task over HTTP
  (`POST /tasks`, on a kept-alive connection as the page's `fetch` has) or the socket (`start task`)
  and waits for the task's first `task progress`.
- **5. Start → ready**: `bench/startup.py` (median of its runs of `run_all.py --no-desktop`).
- **6. Desktop flood**: the real main window offscreen, connected to our server; events recorded with
  TaskProgress's record script (pipelined, since one process calling `record()` cannot keep 10,000/s);
  the gaps between ticks of a 4 ms timer on the GUI thread, and the process's resident memory. The app
  runs on one core, the server, Redis and the sender on the other (as the server would be elsewhere).
- **7. Idle connections**: fresh servers; one Node process per server opens the connections and holds
  them past the server's 25 s ping interval; a connection counts when it is still up and heard a ping.
  A server that stops taking clients holds what it took. Threading mode: steps of connections until
  one is not held, or the next would take half of the machine's process ids (4 threads per client).
- **8. Redis memory**: a private Redis with the default settings; demo tasks recorded through
  TaskProgress's own scripts as the server and worker record them (no worker: no time spent). Bytes per
  task: used_memory's growth over 2,000 tasks of one length; per event: the difference between the two
  lengths, per event. The day: 30,000 default tasks (3 x TASK_RETENTION_COUNT) interleaved as 10 tasks/s
  interleave them, with the sweeper's forget once per simulated second, recorded as fast as Redis takes
  them: every cap is by count, so past them the rest of the day repeats the same state
  (`bench/redis_memory.py`).
"""


def write(rows, data, meta):
    """Write the plot and the page."""
    data = {name: figure for name, figure in data.items() if isinstance(figure, dict)}
    try:
        from bench import plot
    except ImportError:  # matplotlib comes with the dev extra only
        print("matplotlib is not installed: the plots are not drawn (pip install matplotlib)")
        plot = None
    title = f"{meta['date'][:10]}, {meta['machine']['CPU']}, {meta['machine']['cores']} cores"
    sweep = data.get("latency", {}).get("sweep") if plot else None
    if sweep:
        plot.latency_plot(sweep, PLOT_PATH, title)
    ladder = data.get("fanout", {}).get("cost") if plot else None
    if ladder:
        plot.cost_plot(ladder, data.get("scaling", {}).get("clients"), COST_PLOT_PATH, title)
    memory = data.get("redis", {}).get("day", {}).get("samples") if plot else None
    if memory:
        from bench.redis_memory import TARGET_MB
        plot.memory_plot(memory, MEMORY_PLOT_PATH, "Redis used_memory, default settings, 10 tasks/s of 10-s tasks",
                         TARGET_MB)
    with open(DOC_PATH, "w") as doc:
        doc.write(page(rows, data, meta, bool(sweep), bool(ladder), bool(memory)))


def page(rows, data, meta, with_plot, with_cost_plot=False, with_memory_plot=False):
    """Return the page's Markdown."""
    machine = "\n".join(f"| {label} | {value} |" for label, value in meta["machine"].items())
    load = [meta["load_average"]["start"]] + [figure["load_average_before"] for figure in data.values()
                                             if "load_average_before" in figure]
    parts = [
        "# Performance",
        f"Measured {meta['date']} with `{meta['command']}` (plan *{meta['plan']}*), wall time "
        f"{meta['wall_seconds'] / 60:.1f} min. To reproduce: `./dev bench` (about 25 minutes; `--quick` "
        "for a short run, `--only fanout` for one figure: latency, fanout, scaling, cost, click, startup, "
        "desktop, idle, redis). Raw results: `bench/results/latest.json` (not committed).",
        "## Machine\n\n| | |\n|---|---|\n" + machine,
        f"**Noise.** The machine is shared: other engineers ran tests on the same 2 cores during the run "
        f"(1-minute load average {min(load):.2f} to {max(load):.2f} as each figure began). Hence medians "
        "over repeats and same-run ratios; single runs vary by tens of percent.",
        "## Results\n\n" + report.markdown_table(rows),
    ]
    if with_plot:
        parts.append("## Latency against event rate\n\n![emit → client latency percentiles against event "
                     "rate, ours and the baseline in both async modes, and the floor](latency.png)")
    if with_cost_plot:
        parts.append("## Server CPU per delivery, and how it grows with clients\n\n![server CPU time per "
                     "delivery against event rate at 100 socket.io-client clients, ours and the baseline in "
                     "both async modes; and deliveries/s held against 10, 100 and 1,000 clients]"
                     "(fanout-cost.png)\n\n" + cost_table(data["fanout"]["cost"]))
    if with_memory_plot:
        parts.append("## Redis memory over a simulated day\n\n![Redis used_memory against tasks recorded at "
                     "10 tasks/s with the default settings: it levels off once the count caps are reached]"
                     "(redis_memory.png)")
    parts.append(METHOD)
    if os.path.exists(FINDINGS_PATH):
        with open(FINDINGS_PATH) as findings:
            parts.append(findings.read().strip())
    return "\n\n".join(parts) + "\n"


def cost_table(ladder):
    """Return figure 2b's ladder as a Markdown table: µs of server CPU per delivery by event rate."""
    names = list(ladder)
    rates = sorted({float(rate) for by_rate in ladder.values() for rate in by_rate})
    lines = ["| events/s | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for rate in rates:
        cells = []
        for name in names:
            point = next((v for r, v in ladder[name].items() if float(r) == rate), None)
            cells.append("—" if point is None else f"{point['us']:.1f}{'' if point['held'] else ' (not held)'}")
        lines.append(f"| {rate:g} | " + " | ".join(cells) + " |")
    return "µs of server CPU per delivery (median over the passes; *not held*: events lost or p99 ≥ 100 ms):\n\n" + "\n".join(lines)


def main(argv=None):
    """Rewrite the page and the plot from a saved results file."""
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else os.path.join(ROOT, "bench", "results", "latest.json")
    with open(path) as saved:
        results = json.load(saved)
    write([Row(**row) for row in results["rows"]], results["data"], results["meta"])
    print(f"wrote {DOC_PATH} and {PLOT_PATH}")


if __name__ == "__main__":
    main()

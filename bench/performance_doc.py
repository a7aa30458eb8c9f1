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
- **Clients.** `bench/load/lean_client.js`: a minimal socket.io client (Engine.IO 4 over one websocket,
  `ws` from node_modules); one Node process holds all of a run's clients. socket.io-client itself was
  the bottleneck in the fan-out (0.77 of a core at 20,000 messages/s, p50 800 ms, while the server idled
  at 0.45); the lean client takes a fraction of that, and the figures report its CPU.
- **1. Emit → client**: one client, 1,000 events/s for a few seconds per run; p50 against the floor's p50.
- **2. Fan-out**: 100 clients; the event rate doubles until a run loses an event or its p99 reaches
  100 ms, then bisects; deliveries/s = events/s × clients; median over the repeated searches.
- **3. Worker cost**: wall time per call in one process (median of 5 batches), our `TaskProgress.record`
  and the baseline's `SocketIO.emit` against a bare `redis.publish`. Task setup = the first emit of a new
  task, emitter included, less a steady emit (ours: inside the Flask app context, as Celery runs tasks).
- **4. Click → first progress**: a connected socket.io client starts a zero-second task over HTTP
  (`POST /tasks`) or the socket (`start task`) and waits for the task's first `task progress`.
- **5. Start → ready**: `bench/startup.py` (median of its runs of `run_all.py --no-desktop`).
- **6. Desktop flood**: the real main window offscreen, connected to our server; events recorded with
  TaskProgress's record script (pipelined, since one process calling `record()` cannot keep 10,000/s);
  the gaps between ticks of a 4 ms timer on the GUI thread, and the process's resident memory.
- **7. Idle connections**: fresh servers; one Node process per server opens the connections and holds
  them past the server's 25 s ping interval; a connection counts when it is still up and heard a ping.
  A server that stops taking clients holds what it took. Threading mode: steps of connections until
  one is not held, or the next would take half of the machine's process ids (4 threads per client).
"""


def write(rows, data, meta):
    """Write the plot and the page."""
    data = {name: figure for name, figure in data.items() if isinstance(figure, dict)}
    sweep = data.get("latency", {}).get("sweep")
    if sweep:
        try:
            from bench.plot import latency_plot
        except ImportError:  # matplotlib comes with the dev extra only
            print("matplotlib is not installed: docs/latency.png not drawn (pip install matplotlib)")
            sweep = None
    if sweep:
        latency_plot(sweep, PLOT_PATH, f"{meta['date'][:10]}, {meta['machine']['CPU']}, "
                                       f"{meta['machine']['cores']} cores")
    with open(DOC_PATH, "w") as doc:
        doc.write(page(rows, data, meta, bool(sweep)))


def page(rows, data, meta, with_plot):
    """Return the page's Markdown."""
    machine = "\n".join(f"| {label} | {value} |" for label, value in meta["machine"].items())
    load = [meta["load_average"]["start"]] + [figure["load_average_before"] for figure in data.values()
                                             if "load_average_before" in figure]
    parts = [
        "# Performance",
        f"Measured {meta['date']} with `{meta['command']}` (plan *{meta['plan']}*), wall time "
        f"{meta['wall_seconds'] / 60:.1f} min. To reproduce: `./dev bench` (about 15 minutes; `--quick` "
        "for a short run, `--only fanout` for one figure: latency, fanout, cost, click, startup, "
        "desktop, idle). Raw results: `bench/results/latest.json` (not committed).",
        "## Machine\n\n| | |\n|---|---|\n" + machine,
        f"**Noise.** The machine is shared: other engineers ran tests on the same 2 cores during the run "
        f"(1-minute load average {min(load):.2f} to {max(load):.2f} as each figure began). Hence medians "
        "over repeats and same-run ratios; single runs vary by tens of percent.",
        "## Results\n\n" + report.markdown_table(rows),
    ]
    if with_plot:
        parts.append("## Latency against event rate\n\n![emit → client latency percentiles against event "
                     "rate, ours and the baseline in both async modes, and the floor](latency.png)")
    parts.append(METHOD)
    if os.path.exists(FINDINGS_PATH):
        with open(FINDINGS_PATH) as findings:
            parts.append(findings.read().strip())
    return "\n\n".join(parts) + "\n"


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

"""Figure 7: idle connections one server process holds with heartbeats passing, and memory per connection.

Every server is restarted fresh, then one Node process per server opens the connections (lean
clients) and holds them past the server's ping interval: a connection counts when it is still up
and heard at least one server ping during the hold (its pong keeps the server from dropping it).
A server that stops taking clients (a batch not all in within STALL_SECONDS) holds what it took.

Eventlet: every eventlet server is offered plan.idle_connections at once. Threading mode costs
threads per connection, so it has a ceiling of its own: its servers are offered each of
plan.idle_threading_steps in turn (all at once, fresh each step) until none holds a step in full,
the search has taken SEARCH_SECONDS, or the next step would take more than THREAD_SHARE of the
machine's process ids. The open-file limit is raised first (children inherit it):
the Node holders need one file per client too.
"""
import contextlib
import json
import time

import psutil

from bench.children import node_child
from bench.figures import Row, at_least, at_most
from bench.procstat import rss_mib
from bench.stack import BASELINE, OURS
from bench.stats import median
from server import open_files

TARGET_CONNECTIONS = 10_000
CONNECT_TIMEOUT = 300
SETTLE_SECONDS = 1.0
STALL_SECONDS = 15  # a batch of clients not all in after this: the server holds no more
SEARCH_SECONDS = 150  # no further threading step once the search has taken this long
PID_MAX = "/proc/sys/kernel/pid_max"  # every thread takes a process id: the machine's thread ceiling
# The search never takes more of the machine's process ids than this: past them, every process on it
# (other people's included) fails to start threads and processes.
THREAD_SHARE = 0.5


def holder(system, connections):
    """Return the Node process that holds up to connections idle clients to system's server."""
    ready_event = "task list" if system.kind == OURS else ""
    return node_child(f"idle-{system.name}", "idle.js", "--url", system.url, "--clients", connections,
                      "--ready-event", ready_event, "--stall-seconds", STALL_SECONDS)


def measure(systems, connections, hold_seconds):
    """Connect up to connections clients to every system at once and hold them; return {name: result}."""
    results = {}
    with contextlib.ExitStack() as stack:
        before = {system.name: rss_mib(system.server.process.pid) for system in systems}
        holders = {system.name: stack.enter_context(holder(system, connections)) for system in systems}
        for system in systems:
            ready = json.loads(holders[system.name].wait_line("ready", CONNECT_TIMEOUT))
            results[system.name] = {"connect_seconds": ready["seconds"], "stopped": ready["stopped"]}
        time.sleep(SETTLE_SECONDS)
        for system in systems:
            process = psutil.Process(system.server.process.pid)
            results[system.name].update(rss_connected_mib=rss_mib(process.pid), threads=process.num_threads(),
                                        open_files=process.num_fds())
            holders[system.name].send(f"hold {hold_seconds}")
        for system in systems:
            held = holders[system.name].result(hold_seconds + CONNECT_TIMEOUT)
            rss_after = rss_mib(system.server.process.pid)
            results[system.name].update(held, rss_before_mib=before[system.name], rss_after_mib=rss_after,
                                        kib_per_connection=(rss_after - before[system.name]) * 1024
                                        / max(1, held["clients"]))
    return results


def held_in_full(result):
    """Tell whether every client offered got in and heard a heartbeat."""
    return result["heartbeats_passed"] == result["offered"]


def run(lab, plan, log=print):
    """Measure figure 7 for ours and the baseline, per async mode; return (rows, data)."""
    open_files.raise_limit()
    runs, searches = {}, {}
    for mode in plan.modes:
        systems = [lab.system(kind, mode) for kind in (OURS, BASELINE)]
        if mode == "eventlet":
            runs.update(offer(lab, systems, plan, log))
        else:
            searches.update(search(lab, systems, plan, log))
    return rows(runs, searches, plan), {"runs": runs, "searches": searches}


def offer(lab, systems, plan, log):
    """Offer plan.idle_connections to every system, plan.idle_repeats times; return {name: [result]}."""
    runs = {system.name: [] for system in systems}
    for repeat in range(plan.idle_repeats):
        for system in systems:
            lab.restart_server(system)
        for name, result in measure(systems, plan.idle_connections, plan.idle_hold_seconds).items():
            runs[name].append(result)
            log_result(log, name, result, f"run {repeat + 1}")
    return runs


def search(lab, systems, plan, log):
    """Offer each step in turn until no system holds it in full; return {name: [result per step]}."""
    steps = {system.name: [] for system in systems}
    started = time.monotonic()
    for connections in plan.idle_threading_steps:
        threads = threads_needed(steps, connections)
        if threads > pid_max() * THREAD_SHARE:
            log(f"  idle threading step {connections:,} skipped: about {threads:,.0f} threads, over "
                f"{THREAD_SHARE:.0%} of the machine's {pid_max():,}")
            break
        for system in systems:
            lab.restart_server(system)
        for name, result in measure(systems, connections, plan.idle_hold_seconds).items():
            steps[name].append(result)
            log_result(log, name, result, f"step {connections:,}")
        if not any(held_in_full(results[-1]) for results in steps.values()):
            break
        if time.monotonic() - started > SEARCH_SECONDS:
            break
    return steps


def threads_needed(steps, connections):
    """Return about how many threads the threading servers together need to hold connections each."""
    per_connection = max((results[-1]["threads"] / results[-1]["offered"] for results in steps.values()
                          if results), default=0)
    return per_connection * connections * len(steps)


def log_result(log, name, result, label):
    log(f"  idle {name:<18} {result['heartbeats_passed']}/{result['offered']} with heartbeats, "
        f"{result['clients']} in, {result['disconnects']} dropped, {result['threads']} threads, "
        f"{result['kib_per_connection']:.0f} KiB per connection, connected in {result['connect_seconds']:.1f}s "
        f"({label}{'; ' + result['stopped'] if result['stopped'] else ''})")


def rows(runs, searches, plan):
    """Return figure 7's rows: connections held, and memory per connection, per async mode."""
    out = []
    if runs:
        out += eventlet_rows(runs[f"{OURS}-eventlet"], runs[f"{BASELINE}-eventlet"], plan)
    if searches:
        out += ceiling_rows(searches[f"{OURS}-threading"], searches[f"{BASELINE}-threading"], plan)
    return out


def eventlet_rows(ours, base, plan):
    held = median([run["heartbeats_passed"] for run in ours])
    base_held = median([run["heartbeats_passed"] for run in base])
    memory, base_memory = (median([run["kib_per_connection"] for run in runs]) for runs in (ours, base))
    stopped = base[-1]["stopped"]
    ratio = memory / base_memory if base_memory else None
    return [
        Row("7. idle connections held, heartbeats passing (eventlet)", "connections", held, base_held, None,
            None, "", f"≥ {TARGET_CONNECTIONS:,}", at_least(held, TARGET_CONNECTIONS),
            note=f"{plan.idle_connections:,} offered, held {plan.idle_hold_seconds:g} s, "
                 f"{len(ours)} run(s); server RSS {median([run['rss_before_mib'] for run in ours]):.0f} → "
                 f"{median([run['rss_after_mib'] for run in ours]):.0f} MiB"
                 + (f"; the baseline stopped taking clients at {base[-1]['clients']:,} ({stopped}: "
                    "eventlet's default pool of 1,024 green threads)" if stopped else "")),
        Row("7. server memory per idle connection (eventlet)", "KiB", memory, base_memory, None, ratio,
            "baseline", "≤ baseline", at_most(ratio, 1.0),
            note=f"each at the connections it held (ours {held:,.0f}, the baseline {base_held:,.0f})"),
    ]


def ceiling_rows(ours, base, plan):
    ceiling, base_ceiling = (max([step["offered"] for step in steps if held_in_full(step)], default=0)
                             for steps in (ours, base))
    common = [(o, b) for o, b in zip(ours, base) if held_in_full(o) and held_in_full(b)]
    memory, base_memory = (common[-1][0]["kib_per_connection"], common[-1][1]["kib_per_connection"]) \
        if common else (None, None)
    return [
        Row("7. idle connections held, heartbeats passing (threading): ceiling", "connections", ceiling,
            base_ceiling, None, None, "", "reported", None, note=ceiling_reason(ours, ceiling, plan)),
        Row("7. server memory per idle connection (threading)", "KiB", memory, base_memory, None,
            memory / base_memory if base_memory else None, "baseline", "reported",
            note=f"at {common[-1][0]['offered']:,} connections each" if common else "no step held by both"),
    ]


def ceiling_reason(steps, ceiling, plan):
    """Return why ours stopped where it did: the step past its ceiling, threads per connection, the limit."""
    failed = next((step for step in steps if not held_in_full(step)), None)
    held = next((step for step in steps if step["offered"] == ceiling), None)
    per_connection = held["threads"] / held["offered"] if held else 4
    threads = (f"{per_connection:.1f} threads per connection (Werkzeug's request, simple-websocket's reader, "
               "Engine.IO's writer and pinger)")
    if failed is None:
        untried = [n for n in plan.idle_threading_steps if n > ceiling]
        return (f"held every step tried; {threads}: " + (
            f"{untried[0]:,} for both servers at once would take about "
            f"{per_connection * untried[0] * 2:,.0f} of this machine's {pid_max():,} (kernel.pid_max), so "
            "the search stops here (one server alone held 4,000 and stalled near 5,500: bench/findings.md)"
            if untried else "no higher step planned"))
    return (f"steps {', '.join(f'{n:,}' for n in plan.idle_threading_steps)}, both servers at once; at "
            f"{failed['offered']:,}: {failed['clients']:,} got in, {failed['heartbeats_passed']:,} heard a "
            f"heartbeat ({failed['stopped'] or 'pings late'}), the server at {failed['threads']:,} threads; "
            f"{threads}; kernel.pid_max {pid_max():,} threads for the whole machine")


def pid_max():
    """Return how many processes and threads the machine allows at once."""
    with open(PID_MAX, encoding="ascii") as limit:
        return int(limit.read())

"""Figure 7: idle connections one server process holds with heartbeats passing, and memory per connection.

Every server is restarted fresh, then one Node process per server opens the connections (lean
clients) and holds them past the server's ping interval: a connection counts when it is still up
and heard at least one server ping during the hold (its pong keeps the server from dropping it).
All servers are loaded at once: idle connections cost little CPU, and the run stays short.
"""
import contextlib
import json
import time

from bench.children import node_child
from bench.figures import Row, at_least
from bench.procstat import rss_mib
from bench.stack import BASELINE, OURS
from bench.stats import median

TARGET_CONNECTIONS = 1000
CONNECT_TIMEOUT = 300
SETTLE_SECONDS = 1.0


def holder(system, connections):
    """Return the Node process that holds connections idle clients to system's server."""
    ready_event = "task list" if system.kind == OURS else ""
    return node_child(f"idle-{system.name}", "idle.js", "--url", system.url, "--clients", connections,
                      "--ready-event", ready_event)


def measure(systems, plan):
    """Connect and hold on every system at once; return {system name: result}."""
    results = {}
    with contextlib.ExitStack() as stack:
        before = {system.name: rss_mib(system.server.process.pid) for system in systems}
        holders = {system.name: stack.enter_context(holder(system, plan.idle_connections)) for system in systems}
        for system in systems:
            ready = holders[system.name].wait_line("ready", CONNECT_TIMEOUT)
            results[system.name] = {"connect_seconds": json.loads(ready)["seconds"]}
        time.sleep(SETTLE_SECONDS)
        for system in systems:
            results[system.name]["rss_connected_mib"] = rss_mib(system.server.process.pid)
            holders[system.name].send(f"hold {plan.idle_hold_seconds}")
        for system in systems:
            held = holders[system.name].result(plan.idle_hold_seconds + CONNECT_TIMEOUT)
            rss_after = rss_mib(system.server.process.pid)
            results[system.name].update(held, rss_before_mib=before[system.name], rss_after_mib=rss_after,
                                        kib_per_connection=(rss_after - before[system.name]) * 1024
                                        / plan.idle_connections)
    return results


def run(lab, plan, log=print):
    """Measure figure 7 for ours and the baseline, per async mode; return (rows, data)."""
    systems = [lab.system(kind, mode) for mode in plan.modes for kind in (OURS, BASELINE)]
    runs = {system.name: [] for system in systems}
    for repeat in range(plan.idle_repeats):
        for system in systems:
            lab.restart_server(system)
        for name, result in measure(systems, plan).items():
            runs[name].append(result)
            log(f"  idle {name:<18} {result['heartbeats_passed']}/{result['clients']} with heartbeats, "
                f"{result['disconnects']} dropped, {result['kib_per_connection']:.0f} KiB per connection, "
                f"connected in {result['connect_seconds']:.1f}s (run {repeat + 1})")
    return rows(runs, plan), {"runs": runs}


def rows(runs, plan):
    """Return figure 7's rows: connections held, and memory per connection, per async mode."""
    out = []
    for mode in plan.modes:
        ours, base = runs[f"{OURS}-{mode}"], runs[f"{BASELINE}-{mode}"]
        held = median([run["heartbeats_passed"] for run in ours])
        out.append(Row(f"7. idle connections held, heartbeats passing ({mode})", "connections", held,
                       median([run["heartbeats_passed"] for run in base]), None, None, "",
                       f"≥ {TARGET_CONNECTIONS:,}", at_least(held, TARGET_CONNECTIONS),
                       note=f"{plan.idle_connections} offered, held {plan.idle_hold_seconds:g} s; "
                            f"server RSS {median([run['rss_before_mib'] for run in ours]):.0f} → "
                            f"{median([run['rss_after_mib'] for run in ours]):.0f} MiB"))
        out.append(Row(f"7. server memory per idle connection ({mode})", "KiB",
                       median([run["kib_per_connection"] for run in ours]),
                       median([run["kib_per_connection"] for run in base]), None, None, "", "reported"))
    return out

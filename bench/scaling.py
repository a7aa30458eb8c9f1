"""Figures 2c and 2d: how the fan-out's cost grows with clients, and with server processes.

2c: the fan-out search of figure 2 (socket.io-client receivers) at 10, 100 and 1,000 clients,
ours and the baseline in eventlet mode: deliveries/s held and server CPU per delivery. Each
search starts at the same deliveries/s (so 250 events/s to 10 clients, 2.5 to 1,000).

2d: ours (eventlet) with one server process, then two on the same Redis, the clients taking the
servers in turn (as behind the deployment's load balancer). Each server process is pinned to a
core of its own, so one server has one core and two have two; Redis, the sender and the Node
receiver share both cores with them, which this 2-core machine cannot avoid.
"""
import contextlib
import os

import psutil

from bench import fanout
from bench.delivery import Delivery
from bench.figures import Row
from bench.stack import BASELINE, OURS
from bench.stats import ratio

RECEIVER = fanout.TARGET_RECEIVER


def run(lab, plan, log=print):
    """Measure figures 2c and 2d; return (rows, data)."""
    growth = clients_growth(lab, plan, log)
    servers = server_processes(lab, plan, log)
    return growth_rows(growth, plan) + server_rows(servers, plan), {"clients": growth, "servers": servers}


def _search(delivery, plan, log, clients, server_pids=None):
    start = plan.fanout_start_rate * plan.fanout_clients / clients  # same deliveries/s at the start
    held, steps = fanout.search(delivery, plan, log, clients=clients, server_pids=server_pids,
                                start_rate=start, cost_span=1)  # no climb past the first failure
    best = fanout.best_step([steps])
    return {"clients": clients, "held_deliveries": held * clients if held else None,
            "first_step": {key: steps[0][key] for key in ("rate", "p50", "p99", "cpu_us_per_delivery")},
            "cpu_us_per_delivery": best["cpu_us_per_delivery"] if best else None,
            "server_cpu": best["server_cpu"] if best else None,
            "load_generator_cpu": best["cpu_fraction"] if best else None, "steps": steps}


def clients_growth(lab, plan, log):
    """Return {system: [result per client count]}."""
    results = {}
    for clients in plan.scaling_clients:
        for kind in (OURS, BASELINE):
            system = lab.system(kind, "eventlet")
            lab.restart_server(system)  # no clients of an earlier figure linger
            with Delivery(system, clients=clients, client=RECEIVER, sender_kind=fanout.SENDER_KINDS[kind],
                          label=f"{system.name} x{clients}") as delivery:
                results.setdefault(system.name, []).append(_search(delivery, plan, log, clients))
    return results


def server_processes(lab, plan, log):
    """Return [result with 1 server, result with 2 servers] for ours (eventlet)."""
    system = lab.system(OURS, "eventlet")
    lab.restart_server(system)
    second = lab.extra_server(system)
    cores = sorted(os.sched_getaffinity(0))
    results = []
    for servers in ([system.server], [system.server, second]):
        for index, server in enumerate(servers):
            psutil.Process(server.process.pid).cpu_affinity([cores[index % len(cores)]])
        with contextlib.ExitStack() as stack:
            delivery = stack.enter_context(Delivery(
                system, clients=plan.fanout_clients, client=RECEIVER, sender_kind=fanout.SENDER_KINDS[OURS],
                urls=[server.url for server in servers], label=f"{system.name} on {len(servers)} server(s)"))
            result = _search(delivery, plan, log, plan.fanout_clients,
                             server_pids=[server.process.pid for server in servers])
        result.update(servers=len(servers), cores=[cores[i % len(cores)] for i in range(len(servers))])
        results.append(result)
    for server in (system.server, second):
        psutil.Process(server.process.pid).cpu_affinity(cores)
    return results


def growth_rows(growth, plan):
    """Return figure 2c's rows: per client count, deliveries/s held and CPU per delivery."""
    ours, base = growth[f"{OURS}-eventlet"], growth[f"{BASELINE}-eventlet"]
    out = []
    for mine, theirs in zip(ours, base):
        clients = mine["clients"]
        out.append(Row(f"2c. fan-out to {clients:,} clients, lossless, p99 < 100 ms (eventlet)", "deliveries/s",
                       mine["held_deliveries"], theirs["held_deliveries"], None,
                       ratio(mine["held_deliveries"], theirs["held_deliveries"]), "baseline", "reported",
                       note=_cost_note(mine, theirs)))
    return out


def _cost_note(mine, theirs):
    first = mine["first_step"]
    return (f"server CPU per delivery at the highest rate held: ours {_us(mine)}, baseline {_us(theirs)}; "
            f"ours' server {mine['server_cpu'] or 0:.2f} core, receiver {mine['load_generator_cpu'] or 0:.2f} core; "
            f"ours' first step ({first['rate']:g} events/s): p50 {fanout.ms(first['p50'])}, "
            f"p99 {fanout.ms(first['p99'])}, {_us(first)} per delivery")


def server_rows(results, plan):
    """Return figure 2d's row: deliveries/s held by two server processes against one."""
    one, two = results
    note = (f"{plan.fanout_clients} clients taking the servers in turn; one server pinned to core {one['cores'][0]}, "
            f"two to cores {', '.join(map(str, two['cores']))}; Redis, the sender and the receiver (at "
            f"{two['load_generator_cpu'] or 0:.2f} core) share the same 2 cores. CPU per delivery, all "
            f"servers: {_us(one)} (one), {_us(two)} (two)")
    return [Row("2d. fan-out held by 2 server processes, against 1 (eventlet)", "deliveries/s",
                two["held_deliveries"], one["held_deliveries"], None,
                ratio(two["held_deliveries"], one["held_deliveries"]), "one server", "reported", note=note)]


def _us(result):
    return fanout.us(result["cpu_us_per_delivery"])

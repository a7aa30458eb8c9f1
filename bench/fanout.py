"""Figure 2: the highest sustained deliveries/s from one server process to 100 clients, nothing lost;
and figure 2b: the server's CPU time per delivery against the event rate.

Two receivers, one after the other: socket.io-client (the page's own library, from node_modules;
the target is about it) and the lean client (a minimal Engine.IO client that costs the load
generator less). One Node process holds every client; its CPU is reported, since it shares the
machine's cores with the server.

A search climbs from FANOUT_START_RATE events/s, doubling, until a step loses an event or its p99
reaches 100 ms, and at least to the cost figure's top rate; then it bisects between the highest
step held and the first failure. CPU per delivery is the server's CPU time during a step over the
deliveries made in it, so the climb's steps draw figure 2b for free.
"""
import contextlib
import math
import time

from bench.delivery import Delivery
from bench.figures import Row, at_least, at_most
from bench.procstat import CpuMeter
from bench.stack import BASELINE, OURS
from bench.stats import median, ratio

P99_LIMIT_MS = 100.0
TARGET_RATIO = 4.0
TARGET_RECEIVER = "socket.io"
SETTLE_SECONDS = 2.0  # after a failed step, let the server drain its queues before the next one
# Ours records with its own script, pipelined, so the sender (about 6,000 record() calls/s at most
# here) never caps the server; the baseline's emitter is far from its limit where its server fails.
SENDER_KINDS = {OURS: "ours-pipelined", BASELINE: BASELINE}
# Figure 2b's targets, ours / baseline CPU per delivery: (below HIGH_RATE, from HIGH_RATE up).
HIGH_RATE = 200
COST_TARGETS = {"eventlet": (1.0, 0.5), "threading": (1.5, 0.5)}


def passes(result):
    """Tell whether a step delivered every event to every client with p99 under the limit."""
    return result["lost"] == 0 and result["p99"] is not None and result["p99"] < P99_LIMIT_MS


def step(delivery, rate, seconds, server_pids):
    """Run one rate; return the receiver's result with the servers' CPU use and CPU per delivery."""
    meter = CpuMeter(server_pids, time.monotonic).start()
    result = delivery.run(rate, seconds)
    result["server_cpu"] = meter.stop()
    result["delivered"] = result["expected"] * result["clients"] - result["lost"]
    result["cpu_us_per_delivery"] = meter.seconds * 1e6 / result["delivered"] if result["delivered"] else None
    result["passed"] = passes(result)
    if not result["passed"]:
        time.sleep(SETTLE_SECONDS)
    return result


def search(delivery, plan, log, clients=None, server_pids=None, start_rate=None, cost_span=None):
    """Return (highest rate held or None, the steps tried) for one receiver and one system."""
    clients = clients or plan.fanout_clients
    server_pids = server_pids or [delivery.system.server.process.pid]
    rate = start_rate or plan.fanout_start_rate
    top, cost_top = rate * 2 ** plan.fanout_doublings, rate * (cost_span or plan.fanout_cost_span)
    # A short unscored run first: the first events after clients connect pay for warm-up.
    delivery.run(rate, min(1.0, plan.fanout_step_seconds))
    held, failed, steps = None, None, []

    def try_rate(rate):
        result = step(delivery, rate, plan.fanout_step_seconds, server_pids)
        steps.append(result)
        log(f"  fan-out {delivery.label:<30} {rate:>8.1f} ev/s x {clients} clients: "
            f"{'pass' if result['passed'] else 'FAIL'}  p99 {ms(result['p99'])}  lost {result['lost']}  "
            f"server cpu {result['server_cpu']:.2f}  {us(result['cpu_us_per_delivery'])}/delivery  "
            f"receiver cpu {result['cpu_fraction']:.2f}  sender cpu {result['sender_cpu']:.2f}, "
            f"{result['sender_behind_ms']:.0f} ms behind")
        return result["passed"]

    while rate <= top:  # climb: to the first failure, and on to the cost figure's top
        if try_rate(rate):
            held = rate if failed is None else held
        elif failed is None:
            failed = rate
        if failed is not None and rate >= cost_top:
            break
        rate *= 2
    for _ in range(plan.fanout_bisections if held and failed else 0):
        middle = (held + failed) / 2
        if try_rate(middle):
            held = middle
        else:
            failed = middle
    return held, steps


def ms(value):
    return "—" if value is None else f"{value:.1f} ms"


def us(value):
    return "—" if value is None else f"{value:.1f} µs"


def run(lab, plan, log=print):
    """Measure figures 2 and 2b for ours and the baseline in each async mode; return (rows, data)."""
    found, searches = {}, {}
    for receiver in plan.fanout_receivers:
        repeats = plan.repeats if receiver == TARGET_RECEIVER else plan.fanout_other_repeats
        with contextlib.ExitStack() as stack:  # one receiver at a time: its clients are the only ones
            deliveries = [stack.enter_context(Delivery(lab.system(kind, mode), clients=plan.fanout_clients,
                                                       client=receiver, sender_kind=SENDER_KINDS[kind]))
                          for mode in plan.modes for kind in (OURS, BASELINE)]
            for _ in range(repeats):  # interleaved passes
                for delivery in deliveries:
                    rate, steps = search(delivery, plan, log)
                    name = delivery.system.name
                    found.setdefault(receiver, {}).setdefault(name, []).append(
                        rate * plan.fanout_clients if rate else None)
                    searches.setdefault(receiver, {}).setdefault(name, []).append(steps)
    costs = cost_ladder(searches.get(TARGET_RECEIVER, {}), plan)
    rows = [row for receiver in plan.fanout_receivers for row in fanout_rows(receiver, found, searches, plan)]
    return rows + cost_rows(costs, plan), {"searches": searches, "found": found, "cost": costs}


def fanout_rows(receiver, found, searches, plan):
    """Return figure 2's rows for one receiver, one per async mode."""
    out = []
    for mode in plan.modes:
        ours_name, base_name = f"{OURS}-{mode}", f"{BASELINE}-{mode}"
        ours_runs, base_runs = found[receiver][ours_name], found[receiver][base_name]
        ours, base = median(ours_runs), median(base_runs)
        pass_ratios = [ratio(o, b) for o, b in zip(ours_runs, base_runs)]
        best = best_step(searches[receiver][ours_name])
        note = (f"passes: ours {_list(ours_runs)}, baseline {_list(base_runs)}, ratios "
                f"{', '.join('—' if r is None else f'{r:.1f}x' for r in pass_ratios)}; "
                + (f"at ours' best step: server CPU {best['server_cpu']:.2f} core, load generator "
                   f"{best['cpu_fraction']:.2f} core" if best else "ours held no rate"))
        capped = [name for name in (ours_name, base_name) if _never_failed(searches[receiver][name])]
        if capped:
            note += f"; {' and '.join(capped)} never failed: the search's top rate, a lower bound"
        if receiver == TARGET_RECEIVER:
            target = f"≥ {TARGET_RATIO:g}x in every pass"
            met = None if None in pass_ratios else all(r >= TARGET_RATIO for r in pass_ratios)
        else:
            target, met = "reported", None
        out.append(Row(f"2. fan-out to {plan.fanout_clients} {receiver} clients, lossless, p99 < 100 ms ({mode})",
                       "deliveries/s", ours, base, None, ratio(ours, base), "baseline", target, met, note,
                       details={"ours_runs": ours_runs, "baseline_runs": base_runs}))
    return out


def cost_ladder(searches, plan):
    """Return {system: {rate: {"us": median CPU µs per delivery, "held": passed in every pass}}}.

    Only the climb's rates (the start rate doubled), which every search tries.
    """
    ladder = {}
    for name, runs in searches.items():
        by_rate = {}
        for steps in runs:
            for result in steps:
                if _on_ladder(result["rate"], plan.fanout_start_rate) and result["cpu_us_per_delivery"]:
                    by_rate.setdefault(result["rate"], []).append(result)
        ladder[name] = {rate: {"us": median([r["cpu_us_per_delivery"] for r in results]),
                               "held": all(r["passed"] for r in results)}
                        for rate, results in sorted(by_rate.items())}
    return ladder


def _on_ladder(rate, start):
    return rate >= start and math.log2(rate / start).is_integer()


def cost_rows(ladder, plan):
    """Return figure 2b's rows: per mode, the worst ratio below HIGH_RATE and from HIGH_RATE up."""
    out = []
    for mode in plan.modes:
        ours, base = ladder.get(f"{OURS}-{mode}", {}), ladder.get(f"{BASELINE}-{mode}", {})
        common = sorted(set(ours) & set(base))
        for low, limit in zip((True, False), COST_TARGETS[mode]):
            rates = [rate for rate in common if (rate < HIGH_RATE) == low]
            if not rates:
                continue
            ratios = {rate: ours[rate]["us"] / base[rate]["us"] for rate in rates}
            worst = max(ratios, key=ratios.get)
            span = f"{rates[0]:g}–{rates[-1]:g} events/s"
            note = "; ".join(f"{rate:g}/s: {ours[rate]['us']:.1f} vs {base[rate]['us']:.1f} µs"
                             f"{'' if base[rate]['held'] else ' (baseline not holding)'}" for rate in rates)
            out.append(Row(f"2b. server CPU per delivery, {plan.fanout_clients} clients, {span}, worst ({mode})",
                           "µs", ours[worst]["us"], base[worst]["us"], None, ratios[worst], "baseline",
                           f"≤ {limit:g}x", at_most(ratios[worst], limit), note))
    return out


def _list(values):
    return ", ".join("—" if value is None else f"{value:,.0f}" for value in values)


def _never_failed(searches):
    return any(all(step["passed"] for step in steps) for steps in searches)


def best_step(searches):
    passing = [step for steps in searches for step in steps if step["passed"]]
    return max(passing, key=lambda step: step["rate"], default=None)

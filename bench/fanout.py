"""Figure 2: the highest sustained deliveries/s from one server process to many clients, nothing lost.

One Node process holds every client (socket.io-client from node_modules), so the load generator stays
cheap; its CPU is reported. A rate passes when every client gets every event with p99 under 100 ms.
The search doubles the rate until a failure, then bisects; it is repeated and the median is taken.
"""
import contextlib
import time

from bench.delivery import Delivery
from bench.figures import Row, at_least
from bench.procstat import CpuMeter
from bench.stack import BASELINE, OURS
from bench.stats import median, ratio

P99_LIMIT_MS = 100.0
TARGET_RATIO = 4.0
SETTLE_SECONDS = 2.0  # after a failed step, let the server drain its queues before the next one
# Ours records with its own script, pipelined, so the sender (about 6,000 record() calls/s at most
# here) never caps the server; the baseline's emitter is far from its limit where its server fails.
SENDER_KINDS = {OURS: "ours-pipelined", BASELINE: BASELINE}


def passes(result):
    """Tell whether a step delivered every event to every client with p99 under the limit."""
    return result["lost"] == 0 and result["p99"] is not None and result["p99"] < P99_LIMIT_MS


def step(delivery, rate, seconds):
    """Run one rate; return the receiver's result with the server's CPU use."""
    meter = CpuMeter(delivery.system.server.process.pid, time.monotonic).start()
    result = delivery.run(rate, seconds)
    result["server_cpu"] = meter.stop()
    result["passed"] = passes(result)
    if not result["passed"]:
        time.sleep(SETTLE_SECONDS)
    return result


def search(delivery, plan, log):
    """Return (highest passing rate or None, the steps tried)."""
    # A short unscored run first: the first events after clients connect pay for warm-up.
    delivery.run(plan.fanout_start_rate, min(1.0, plan.fanout_step_seconds))
    passed, failed, rate, steps = None, None, plan.fanout_start_rate, []
    for _ in range(plan.fanout_steps):
        result = step(delivery, rate, plan.fanout_step_seconds)
        steps.append(result)
        log(f"  fan-out {delivery.system.name:<18} {rate:>7.0f} ev/s x {result['clients']} clients: "
            f"{'pass' if result['passed'] else 'FAIL'}  p99 {_ms(result['p99'])}  lost {result['lost']}  "
            f"server cpu {result['server_cpu']:.2f}  load generator cpu {result['cpu_fraction']:.2f}")
        if result["passed"]:
            passed = rate
        else:
            failed = rate
        if failed is None:
            rate *= 2
        elif passed is None:
            rate /= 2
        else:
            rate = (passed + failed) / 2
    return passed, steps


def _ms(value):
    return "—" if value is None else f"{value:.1f} ms"


def run(lab, plan, log=print):
    """Measure figure 2 for ours and the baseline in each async mode; return (rows, data)."""
    found, data = {}, {}
    with contextlib.ExitStack() as stack:
        deliveries = [stack.enter_context(Delivery(lab.system(kind, mode), clients=plan.fanout_clients,
                                                   sender_kind=SENDER_KINDS[kind]))
                      for mode in plan.modes for kind in (OURS, BASELINE)]
        for _ in range(plan.repeats):
            for delivery in deliveries:
                rate, steps = search(delivery, plan, log)
                name = delivery.system.name
                found.setdefault(name, []).append(rate * plan.fanout_clients if rate else None)
                data.setdefault(name, []).append(steps)
    return rows(found, data, plan), {"searches": data, "found": found}


def rows(found, data, plan):
    """Return figure 2's rows, one per async mode."""
    out = []
    for mode in plan.modes:
        ours, base = median(found[f"{OURS}-{mode}"]), median(found[f"{BASELINE}-{mode}"])
        best = _best_step(data[f"{OURS}-{mode}"])
        note = (f"at ours' best passing step: server CPU {best['server_cpu']:.2f} core, load generator "
                f"CPU {best['cpu_fraction']:.2f} core" if best else "no rate passed")
        capped = [name for name in (f"{OURS}-{mode}", f"{BASELINE}-{mode}") if _never_failed(data[name])]
        if capped:
            note += f"; {' and '.join(capped)} never failed: the search's top rate, a lower bound"
        out.append(Row(f"2. fan-out to {plan.fanout_clients} clients, lossless, p99 < 100 ms ({mode})",
                       "deliveries/s", ours, base, None, ratio(ours, base), "baseline",
                       f"≥ {TARGET_RATIO:g}x baseline", at_least(ratio(ours, base), TARGET_RATIO), note,
                       details={"ours_runs": found[f"{OURS}-{mode}"], "baseline_runs": found[f"{BASELINE}-{mode}"]}))
    return out


def _never_failed(searches):
    return any(all(step["passed"] for step in steps) for steps in searches)


def _best_step(searches):
    passing = [step for steps in searches for step in steps if step["passed"]]
    return max(passing, key=lambda step: step["rate"], default=None)

"""Figure 1 and the plot: emit -> client latency to one client, open loop, against event rate.

Ours records through TaskProgress.record from a separate process (as the worker does); the baseline
emits through a write-only SocketIO(message_queue=...) from a separate process; the floor is a bare
PUBLISH -> SUBSCRIBE. Latency runs from each event's intended send time to its arrival.
"""
import contextlib

from bench.delivery import Delivery
from bench.figures import Row, at_most
from bench.stack import BASELINE, FLOOR, OURS
from bench.stats import median, ratio

P99_TARGET_MS = 5.0
P50_TARGET_RATIO = 3.0


def systems(plan):
    """Return (kind, mode) of every system figure 1 measures: ours and the baseline per mode, the floor."""
    return [(kind, mode) for kind in (OURS, BASELINE) for mode in plan.modes] + [(FLOOR, None)]


def sweep(lab, plan, log=print):
    """Return {system name: {rate: [result per repeat]}}, interleaving systems in every repeat."""
    rates = sorted(set(plan.sweep_rates) | {plan.target_rate})
    results = {}
    with contextlib.ExitStack() as stack:
        deliveries = [stack.enter_context(Delivery(lab.system(kind, mode))) for kind, mode in systems(plan)]
        for repeat in range(max(plan.repeats, plan.target_repeats)):
            for rate in rates if repeat < plan.repeats else [plan.target_rate]:
                for delivery in deliveries:
                    result = delivery.run(rate, plan.point_seconds)
                    results.setdefault(delivery.system.name, {}).setdefault(rate, []).append(result)
                    log(f"  emit latency {delivery.system.name:<18} {rate:>6.0f}/s  p50 {result['p50']:.2f} ms"
                        f"  p99 {result['p99']:.2f} ms  lost {result['lost']}  (run {repeat + 1})")
    return results


def medians(results):
    """Return {system: {rate: {p50, p99, lost}}}: each the median over the repeats."""
    keys = ("p50", "p90", "p99", "lost", "sender_behind_ms")
    return {name: {rate: {key: median([run[key] for run in runs]) for key in keys}
                   for rate, runs in by_rate.items()}
            for name, by_rate in results.items()}


def rows(results, plan):
    """Return figure 1's rows (p50 and p99 at the target rate, per async mode)."""
    table = medians(results)
    rate = plan.target_rate
    floor = table[FLOOR][rate]
    out = []
    for mode in plan.modes:
        ours, base = table[f"{OURS}-{mode}"][rate], table[f"{BASELINE}-{mode}"][rate]
        p50_ratio = ratio(ours["p50"], floor["p50"])
        out.append(Row(f"1. emit → client p50 @{rate:.0f}/s ({mode})", "ms", ours["p50"], base["p50"],
                       floor["p50"], p50_ratio, "floor", f"≤ {P50_TARGET_RATIO:g}x floor",
                       at_most(p50_ratio, P50_TARGET_RATIO), note=_loss_note(ours, base),
                       details={"ours": ours, "baseline": base, "floor": floor}))
        p99_runs = sorted(run["p99"] for run in results[f"{OURS}-{mode}"][rate])
        out.append(Row(f"1. emit → client p99 @{rate:.0f}/s ({mode})", "ms", ours["p99"], base["p99"],
                       floor["p99"], ratio(ours["p99"], floor["p99"]), "floor",
                       f"≤ {P99_TARGET_MS:g} ms", at_most(ours["p99"], P99_TARGET_MS),
                       note=f"ours' p99 per run: {', '.join(f'{p:.1f}' for p in p99_runs)} ms; the senders' own "
                            f"worst lag behind schedule (median): ours {ours['sender_behind_ms']:.1f} ms, "
                            f"floor {floor['sender_behind_ms']:.1f} ms"))
    return out


def _loss_note(ours, base):
    lost = [f"{name} lost {entry['lost']:.0f}" for name, entry in (("ours", ours), ("baseline", base))
            if entry["lost"]]
    return ", ".join(lost)


def run(lab, plan, log=print):
    """Measure figure 1 and the plot's sweep; return (rows, data)."""
    results = sweep(lab, plan, log)
    return rows(results, plan), {"sweep": medians(results), "runs": results}

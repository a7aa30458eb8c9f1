"""Figure 5: `run_all.py --no-desktop` start -> ready, timed by bench/startup.py (median of the runs)."""
from bench import startup
from bench.figures import Row, at_most
from bench.stats import median

TARGET_SECONDS = 2.0


def run(lab, plan, log=print):
    """Measure figure 5; return (rows, data)."""
    seconds = startup.measure(plan.startup_runs, log=lambda line: log(f"  startup {line}"))
    value = median(seconds)
    return [Row("5. run_all.py --no-desktop start → ready", "s", value, None, None, None, "",
                f"≤ {TARGET_SECONDS:g} s", at_most(value, TARGET_SECONDS),
                note=f"median of {len(seconds)} runs: " + ", ".join(f"{s:.2f}" for s in seconds))], \
        {"seconds": seconds}

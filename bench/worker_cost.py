"""Figure 3: what an emit and a task start cost the worker, against a bare redis.publish.

Timed in a separate process (bench/load/emit_cost.py) on a private Redis, once per repeat; medians.
"""
from bench.children import python_child
from bench.figures import Row, at_most
from bench.stats import median, ratio
from launcher.redis_server import RedisServer

EMIT_TARGET_RATIO = 1.5
SETUP_TARGET_RATIO = 0.05
TIMEOUT = 300


def measure(redis_url, plan):
    """Run the probe once; return its result."""
    with python_child("emit-cost", "bench.load.emit_cost", "--redis-url", redis_url, "--calls",
                      plan.cost_calls, "--tasks", plan.cost_tasks) as probe:
        return probe.result(TIMEOUT)


def run(lab, plan, log=print):
    """Measure figure 3; return (rows, data)."""
    runs = []
    with RedisServer() as redis:
        for repeat in range(plan.repeats):
            result = measure(redis.url, plan)
            runs.append(result)
            log(f"  worker cost: publish {result['publish_emit_us']:.0f} µs, ours {result['ours_emit_us']:.0f} µs,"
                f" baseline {result['baseline_emit_us']:.0f} µs per emit; task setup ours "
                f"{result['ours_task_setup_us']:.0f} µs, baseline {result['baseline_task_setup_us']:.0f} µs"
                f" (run {repeat + 1})")
    m = {key: median([run[key] for run in runs]) for key in runs[0]}
    emit_ratio = ratio(m["ours_emit_us"], m["publish_emit_us"])
    # A task start costs us nothing measurable: a negative difference is noise, shown as 0.
    ours_setup = max(0.0, m["ours_task_setup_us"])
    setup_ratio = ratio(ours_setup, m["baseline_task_setup_us"])
    rows = [
        Row("3. worker cost per emit (wall)", "µs", m["ours_emit_us"], m["baseline_emit_us"], m["publish_emit_us"],
            emit_ratio, "publish", f"≤ {EMIT_TARGET_RATIO:g}x publish", at_most(emit_ratio, EMIT_TARGET_RATIO),
            note=f"client CPU per emit: ours {m['ours_emit_cpu_us']:.0f} µs, baseline "
                 f"{m['baseline_emit_cpu_us']:.0f} µs, publish {m['publish_emit_cpu_us']:.0f} µs"),
        Row("3. worker cost per task start (setup)", "µs", ours_setup, m["baseline_task_setup_us"], None,
            setup_ratio, "baseline", f"≤ {SETUP_TARGET_RATIO:.0%} of baseline",
            at_most(setup_ratio, SETUP_TARGET_RATIO),
            note=f"setup = first emit of a new task (emitter included) less a steady emit; ours measured "
                 f"{m['ours_task_setup_us']:.0f} µs"),
    ]
    return rows, {"runs": runs}

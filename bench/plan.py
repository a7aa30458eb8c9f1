"""How big each benchmark is: the full run (about 15 minutes here), --quick, and the smoke test's."""
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Plan:
    """Sizes and repeat counts for every figure."""

    name: str
    repeats: int  # runs per figure (or per sweep point); figures are medians over them
    target_rate: float = 1000  # figure 1's rate, events/s to one client
    target_repeats: int = 5  # runs at the target rate: its p99 swings with the machine's load
    sweep_rates: tuple = (250, 1000, 2000, 4000)  # the plot's rates
    point_seconds: float = 3.0  # length of one latency run
    fanout_clients: int = 100
    fanout_step_seconds: float = 2.5
    fanout_start_rate: float = 25  # events/s the search starts from (x clients = deliveries/s)
    fanout_doublings: int = 10  # the climb's top: 25 x 2^10 = 25,600 events/s
    fanout_cost_span: int = 16  # the climb goes on past a failure to 16 x the start rate (figure 2b)
    fanout_bisections: int = 1  # steps between the highest rate held and the first failure
    fanout_receivers: tuple = ("socket.io", "lean")  # the target is about socket.io-client
    fanout_other_repeats: int = 1  # passes with the lean client
    scaling_clients: tuple = (10, 100, 1000)  # figure 2c
    cost_calls: int = 2000  # emits timed per worker-cost run
    cost_tasks: int = 50  # task starts timed per worker-cost run
    clicks: int = 40  # starts timed per click-latency run
    startup_runs: int = 5
    desktop_rate: float = 10_000
    desktop_seconds: float = 30
    desktop_repeats: int = 2  # 30 s floods: two keep the full run near 15 minutes
    idle_connections: int = 10_000  # offered to each eventlet server
    idle_hold_seconds: float = 30  # longer than the server's 25 s ping interval: heartbeats must pass
    idle_repeats: int = 2
    redis_sample_tasks: int = 2000  # tasks recorded per length for figure 8's bytes per task
    redis_day_tasks: int = 30_000  # figure 8's simulated day: 3 x TASK_RETENTION_COUNT shows the plateau
    idle_threading_steps: tuple = (2000, 4000)  # threading mode's ceiling search (idle_connections.py)
    modes: tuple = ("eventlet", "threading")  # the async modes each figure measures ours and the baseline in


FULL = Plan("full", repeats=3)
QUICK = replace(FULL, name="quick", repeats=1, target_repeats=1, sweep_rates=(1000,), point_seconds=2.0, fanout_step_seconds=2.0,
                cost_calls=1000, cost_tasks=20, clicks=20, startup_runs=3, desktop_seconds=10,
                desktop_repeats=1, idle_repeats=1, redis_day_tasks=15_000)
SMOKE = replace(FULL, name="smoke", repeats=1, target_repeats=1, target_rate=200, sweep_rates=(200,), point_seconds=0.5,
                fanout_clients=5, fanout_step_seconds=0.5, fanout_start_rate=50, fanout_doublings=1,
                fanout_cost_span=2, fanout_bisections=0, scaling_clients=(2, 5),
                cost_calls=50, cost_tasks=3, clicks=3, startup_runs=1, desktop_rate=500, desktop_seconds=2,
                desktop_repeats=1, idle_connections=10, idle_hold_seconds=1, idle_repeats=1, redis_sample_tasks=20,
                redis_day_tasks=100, idle_threading_steps=(10,), modes=("eventlet",))
PLANS = {plan.name: plan for plan in (FULL, QUICK, SMOKE)}

"""docs/latency.png: emit -> client latency percentiles against event rate, ours vs baseline vs floor."""
import matplotlib

matplotlib.use("Agg")  # no display: the file is the product
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

STYLES = {"ours-eventlet": ("tab:blue", "-"), "ours-threading": ("tab:blue", "--"),
          "baseline-eventlet": ("tab:orange", "-"), "baseline-threading": ("tab:orange", "--"),
          "floor": ("tab:gray", ":")}
PERCENTILES = ("p50", "p99")
PLAIN = FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}")  # 20, not 2 x 10^1


def latency_plot(sweep, path, title):
    """Draw p50 and p99 against rate for every system in sweep ({system: {rate: {p50, p99}}})."""
    figure, axes = plt.subplots(1, len(PERCENTILES), figsize=(11, 4.2), sharex=True)
    for axis, key in zip(axes, PERCENTILES):
        for name, by_rate in sweep.items():
            rates = sorted(by_rate, key=float)
            colour, line = STYLES.get(name, ("black", "-"))
            axis.plot([float(rate) for rate in rates], [by_rate[rate][key] for rate in rates], line,
                      color=colour, marker="o", markersize=4, label=name)
        axis.set_title(f"{key} latency, emit → client (one client)")
        axis.set_xlabel("events per second (open loop)")
        axis.set_ylabel("milliseconds from intended send time")
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize="small")
    figure.suptitle(title, fontsize="medium")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def cost_plot(ladder, growth, path, title):
    """Draw server CPU per delivery against event rate (figure 2b) and against clients (figure 2c).

    ladder: {system: {rate: {"us", "held"}}}; growth: {system: [{"clients", "cpu_us_per_delivery",
    "held_deliveries"}]}. Hollow markers: steps the system did not hold (events lost or p99 ≥ 100 ms).
    """
    panels = 3 if growth else 1
    figure, axes = plt.subplots(1, panels, figsize=(5.6 * panels, 4.2), squeeze=False)
    axis = axes[0][0]
    for name, by_rate in ladder.items():
        rates = sorted(by_rate, key=float)
        colour, line = STYLES.get(name, ("black", "-"))
        axis.plot([float(r) for r in rates], [by_rate[r]["us"] for r in rates], line, color=colour, label=name)
        for rate in rates:
            axis.plot(float(rate), by_rate[rate]["us"], "o", color=colour, markersize=5,
                      markerfacecolor=colour if by_rate[rate]["held"] else "white")
    axis.set_title("server CPU per delivery against event rate")
    axis.set_xlabel("events per second (x 100 clients = deliveries/s)")
    axis.set_ylabel("µs of server CPU per delivery")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize="small")
    if growth:
        axis = axes[0][1]
        for name, results in growth.items():
            colour, line = STYLES.get(name, ("black", "-"))
            points = [(r["clients"], r["held_deliveries"]) for r in results if r["held_deliveries"]]
            if points:
                axis.plot(*zip(*points), line, color=colour, marker="o", label=name)
        axis.set_title("fan-out held against clients (eventlet)")
        axis.set_ylabel("deliveries/s held (lossless, p99 < 100 ms)")
        cost_axis = axes[0][2]
        for name, results in growth.items():
            colour, line = STYLES.get(name, ("black", "-"))
            points = [(r["clients"], r["first_step"]["cpu_us_per_delivery"]) for r in results
                      if r.get("first_step", {}).get("cpu_us_per_delivery")]
            if points:
                cost_axis.plot(*zip(*points), line, color=colour, marker="o", label=name)
        cost_axis.set_title("CPU per delivery at 2,500 deliveries/s (eventlet)")
        cost_axis.set_ylabel("µs of server CPU per delivery")
        for axis in axes[0][1:]:
            axis.set_xlabel("clients")
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.grid(True, which="both", alpha=0.3)
            axis.legend(fontsize="small")
    for axis in axes[0]:
        for which in (axis.xaxis, axis.yaxis):
            which.set_major_formatter(PLAIN)
    figure.suptitle(title, fontsize="medium")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def memory_plot(samples, path, title, limit_mb):
    """Draw Redis's used_memory against tasks recorded, from figure 8's samples ({tasks, used_memory})."""
    figure, axis = plt.subplots(figsize=(7, 3.8))
    axis.plot([sample["tasks"] for sample in samples], [sample["used_memory"] / 2**20 for sample in samples],
              color="tab:blue", marker="o", markersize=3, label="used_memory (defaults)")
    axis.axhline(limit_mb, color="tab:red", linestyle=":", label=f"target: < {limit_mb} MB")
    axis.set_xlabel("tasks recorded (10 tasks/s: 36,000 an hour)")
    axis.set_ylabel("MB")
    axis.set_ylim(0, limit_mb * 1.1)
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize="small")
    axis.set_title(title, fontsize="medium")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)

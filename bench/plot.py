"""docs/latency.png: emit -> client latency percentiles against event rate, ours vs baseline vs floor."""
import matplotlib

matplotlib.use("Agg")  # no display: the file is the product
import matplotlib.pyplot as plt  # noqa: E402

STYLES = {"ours-eventlet": ("tab:blue", "-"), "ours-threading": ("tab:blue", "--"),
          "baseline-eventlet": ("tab:orange", "-"), "baseline-threading": ("tab:orange", "--"),
          "floor": ("tab:gray", ":")}
PERCENTILES = ("p50", "p99")


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

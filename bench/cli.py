"""The command line: run the figures, print the table, write the results and docs/PERFORMANCE.md."""
import argparse
import contextlib
import datetime
import importlib
import os
import sys
import time
import traceback

from bench import machine, report
from bench.figures import Row
from bench.plan import FULL, PLANS, QUICK
from bench.stack import Lab
from shared.config import PROJECT_ROOT as ROOT

RESULTS_DIR = os.path.join(ROOT, "bench", "results")
# Figure name -> module with run(lab, plan, log) -> (rows, data), in the table's order.
FIGURES = {"latency": "bench.emit_latency", "fanout": "bench.fanout", "scaling": "bench.scaling",
           "cost": "bench.worker_cost",
           "click": "bench.click_latency", "startup": "bench.startup", "desktop": "bench.desktop_flood",
           "idle": "bench.idle_connections", "redis": "bench.redis_memory"}


def parse_args(argv):
    """Return the command line's options."""
    parser = argparse.ArgumentParser(
        prog="./dev bench", description="Benchmark the task-progress system against the floor (bare Redis "
        "pub/sub) and the article's baseline, in the same run. See docs/PERFORMANCE.md.")
    parser.add_argument("--quick", action="store_true", help="a short run (one repeat, shorter runs)")
    parser.add_argument("--plan", choices=sorted(PLANS), help="sizes by name (full, quick, smoke)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help=f"run only these figures (repeat or comma-separate): {', '.join(FIGURES)}")
    parser.add_argument("--docs", action=argparse.BooleanOptionalAction, default=None,
                        help="write docs/PERFORMANCE.md and docs/latency.png "
                             "(default: only after a full run of every figure)")
    options = parser.parse_args(argv)
    options.only = [name for item in options.only or [] for name in item.split(",") if name]
    unknown = sorted(set(options.only) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figure {unknown[0]!r}; choose from {', '.join(FIGURES)}")
    options.plan = PLANS[options.plan] if options.plan else (QUICK if options.quick else FULL)
    return options


def run_figures(names, plan, log_dir, log=print, lab=None):
    """Run the named figures on one Lab (a new one unless given); return (rows, data).

    A figure that fails gets an error row, so the others still run.
    """
    rows, data = [], {}
    with contextlib.nullcontext(lab) if lab else Lab(log_dir) as lab:
        for name in names:
            log(f"[{name}] running ({plan.name})")
            started, load = time.monotonic(), machine.load_average()
            try:
                figure_rows, figure_data = importlib.import_module(FIGURES[name]).run(lab, plan, log)
            except Exception as exc:  # one broken figure must not cost the others
                traceback.print_exc()
                figure_rows, figure_data = [Row(f"{name}: failed", "", note=f"{type(exc).__name__}: {exc}")], {}
            data[name] = {"seconds": time.monotonic() - started, "load_average_before": load, **figure_data}
            rows += figure_rows
            log(f"[{name}] done in {time.monotonic() - started:.0f}s")
    return rows, data


def main(argv=None):
    """Run the benchmarks and report; exit 0 even when targets are missed (the table says so)."""
    options = parse_args(sys.argv[1:] if argv is None else argv)
    names = options.only or list(FIGURES)
    started, load_before = time.monotonic(), machine.load_average()
    stamp = datetime.datetime.now().astimezone()
    rows, data = run_figures(names, options.plan, os.path.join(RESULTS_DIR, "logs"))
    meta = {"date": stamp.isoformat(timespec="seconds"), "plan": options.plan.name, "figures": names,
            "wall_seconds": time.monotonic() - started, "machine": machine.describe(),
            "load_average": {"start": load_before, "end": machine.load_average()},
            "command": " ".join(["./dev bench", *(sys.argv[1:] if argv is None else argv)])}
    print()
    print(report.table(rows))
    print(f"\n{meta['date']}, plan {options.plan.name}, wall time {meta['wall_seconds']:.0f}s, "
          f"load average {load_before:.2f} -> {meta['load_average']['end']:.2f}")
    report.save_json(os.path.join(RESULTS_DIR, "latest.json"), rows, data, meta)
    write_docs = options.docs if options.docs is not None else (names == list(FIGURES)
                                                                 and options.plan is FULL)
    if write_docs:
        from bench import performance_doc

        performance_doc.write(rows, data, meta)
        print(f"wrote {performance_doc.DOC_PATH} and {performance_doc.PLOT_PATH}")
    return 0

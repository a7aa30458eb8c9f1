"""Figure 6: the desktop app (offscreen) under a flood of task events: GUI-thread gaps, memory.

Events are recorded with TaskProgress's own record script, pipelined (one process calling record()
cannot keep 10,000/s here), spread over TASKS tasks, and reach the app through our server (eventlet)
and its relay, as in real use. The app runs on a core of its own and everything else (server, Redis,
sender) on the other, as on a user's machine where the server runs elsewhere; on one shared core the
gaps measure the machine's scheduler more than the app. The app's threads' CPU is reported too: the socket threads' user CPU is
their share of the GIL, which the GUI thread has to wait for (bench/load/desktop_probe.py).
"""
import contextlib
import os

from bench.children import go_time, python_child
from bench.delivery import STARTUP_TIMEOUT, sender_for
from bench.figures import Row, at_most
from bench.procstat import pin
from bench.stack import OURS
from bench.stats import median

GAP_TARGET_MS = 16.0
GROWTH_TARGET_MIB = 20.0
SENDERS = 1
TASKS = 20
RESULT_TIMEOUT = 120


def flood(system, plan):
    """Run one flood; return the probe's result with the achieved send rate."""
    per_sender = plan.desktop_rate / SENDERS
    count = int(per_sender * plan.desktop_seconds)
    with contextlib.ExitStack() as stack:
        probe = stack.enter_context(python_child("desktop-probe", "bench.load.desktop_probe",
                                                 "--server", system.url))
        senders = [stack.enter_context(sender_for(system, TASKS // SENDERS, "ours-pipelined")) for _ in range(SENDERS)]
        for child in [probe, *senders]:
            child.wait_line("ready", STARTUP_TIMEOUT)
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > 1:
            pin(probe.process.pid, cores[-1:])
            for pid in [system.server.process.pid, system.redis.process.pid, *(s.process.pid for s in senders)]:
                pin(pid, cores[:-1])
            stack.callback(lambda: [pin(pid, cores) for pid in (system.server.process.pid,
                                                                system.redis.process.pid)])
        start = go_time(0.5)
        for sender in senders:
            sender.send(f"go {start} {count} {per_sender}")
        probe.send(f"go {start} {count * SENDERS} {plan.desktop_rate}")
        sent = [sender.result(plan.desktop_seconds + RESULT_TIMEOUT) for sender in senders]
        result = probe.result(plan.desktop_seconds + RESULT_TIMEOUT)
    result["sender_behind_ms"] = max(entry["behind_ms"] for entry in sent)
    result["achieved_rate"] = count * SENDERS / (plan.desktop_seconds + result["sender_behind_ms"] / 1000)
    return result


def run(lab, plan, log=print):
    """Measure figure 6; return (rows, data)."""
    system = lab.system(OURS, "eventlet")
    runs = []
    for repeat in range(plan.desktop_repeats):
        result = flood(system, plan)
        runs.append(result)
        log(f"  desktop flood: gap p99 {result['gap_p99_ms']:.1f} ms (max {result['gap_max_ms']:.0f} ms), "
            f"RSS growth {result['rss_growth_mib']:.1f} MiB, got {result['received']}/{result['expected']}, "
            f"drained {result['drain_seconds']:.1f}s after the flood, senders "
            f"{result['sender_behind_ms']:.0f} ms behind; {thread_note([result])} (run {repeat + 1})")
    gap = median([run["gap_p99_ms"] for run in runs])
    growth = median([run["rss_growth_mib"] for run in runs])
    note = (f"{plan.desktop_rate:,.0f} events/s for {plan.desktop_seconds:g} s over {TASKS} tasks; worst gap "
            f"{median([run['gap_max_ms'] for run in runs]):.0f} ms; received "
            f"{median([run['received'] for run in runs]):,.0f} of {runs[0]['expected']:,}; the app finished "
            f"{median([run['drain_seconds'] for run in runs]):.1f} s after the last send; {thread_note(runs)}")
    return [Row("6. desktop under flood: GUI-thread gap p99", "ms", gap, None, None, None, "",
                f"≤ {GAP_TARGET_MS:g} ms", at_most(gap, GAP_TARGET_MS), note),
            Row("6. desktop under flood: RSS growth after 5 s", "MiB", growth, None, None, None, "",
                f"< {GROWTH_TARGET_MIB:g} MiB", None if growth is None else growth < GROWTH_TARGET_MIB,
                f"RSS at start {median([run['rss_start_mib'] for run in runs]):.0f} MiB")], {"runs": runs}


def thread_note(runs):
    """Say how much of a core the app's threads used, and where the GUI thread's long gaps went (median of
    runs): the socket threads' user CPU is their share of the GIL."""
    def share(group, key):
        return median([run["cpu_share"].get(group, {}).get(key, 0.0) for run in runs])

    socket_user = median([sum(shares.get("user", 0.0) for group, shares in run["cpu_share"].items()
                              if group.startswith("socket")) for run in runs])
    def long(key):
        return median([run["long_gaps"].get(key, 0.0) for run in runs])

    return (f"socket threads' Python (user CPU, their GIL share) {socket_user:.0%} of a core "
            f"(reader {share('socket_reader', 'user'):.0%}, dispatch {share('socket_dispatch', 'user'):.0%}), "
            f"GUI thread {share('gui', 'user') + share('gui', 'system'):.0%}; gaps over {GAP_TARGET_MS:g} ms: "
            f"{long('ms'):.0f} ms in all, running {long('running'):.0%}, waiting for a core "
            f"{long('waiting_for_core'):.0%}, blocked (GIL) {long('blocked'):.0%}")

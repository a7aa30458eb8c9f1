"""Figure 7's verdicts from scripted results: connections held, memory against the baseline, the ceiling."""
import pytest

from bench import idle_connections
from bench.plan import FULL


def result(offered, heard=None, clients=None, threads=1, kib=56.0, stopped=None):
    clients = offered if clients is None else clients
    return {"offered": offered, "clients": clients, "heartbeats_passed": clients if heard is None else heard,
            "disconnects": 0, "threads": threads, "kib_per_connection": kib, "stopped": stopped,
            "rss_before_mib": 65.0, "rss_after_mib": 600.0}


@pytest.mark.parametrize("ours, base, held_met, memory_met", [
    (result(10_000, kib=56.2), result(10_000, clients=1024, kib=61.6, stopped="stalled"), True, True),
    (result(10_000, clients=1024, kib=56.2), result(10_000, clients=1024, kib=61.6, stopped="stalled"),
     False, True),
    (result(10_000, kib=68.4), result(10_000, clients=1024, kib=61.6, stopped="stalled"), True, False),
])
def test_eventlet_rows_hold_ours_to_ten_thousand_and_the_baselines_memory(ours, base, held_met, memory_met):
    held, memory = idle_connections.eventlet_rows([ours], [base], FULL)
    assert (held.met, memory.met) == (held_met, memory_met)
    assert memory.ratio == pytest.approx(ours["kib_per_connection"] / base["kib_per_connection"])


def test_the_threading_ceiling_is_the_last_step_held_in_full_and_says_why_it_stopped():
    ours = [result(2000, threads=8005, kib=116), result(4000, heard=807, clients=3680, threads=14_730,
                                                        stopped="a client was refused")]
    base = [result(2000, threads=8003, kib=115), result(4000, threads=16_003)]
    held, memory = idle_connections.ceiling_rows(ours, base, FULL)
    assert (held.ours, held.baseline) == (2000, 4000)
    assert "3,680 got in, 807 heard a heartbeat" in held.note and "4.0 threads per connection" in held.note
    assert (memory.ours, memory.baseline) == (116, 115) and "2,000" in memory.note


def test_a_threading_step_is_not_tried_when_it_would_take_half_of_the_machines_threads(monkeypatch):
    monkeypatch.setattr(idle_connections, "pid_max", lambda: 32_768)  # Linux's default before systemd's
    steps = {"ours-threading": [result(2000, threads=8005)], "baseline-threading": [result(2000, threads=8003)]}
    assert idle_connections.threads_needed(steps, 4000) == pytest.approx(4000 * 4.0025 * 2)
    assert idle_connections.threads_needed(steps, 4000) > 32_768 * idle_connections.THREAD_SHARE
    assert idle_connections.threads_needed(steps, 2000) <= 32_768 * idle_connections.THREAD_SHARE

"""CPU time and resident memory of a process (psutil)."""
import os

import psutil


def cpu_seconds(pid):
    """Return the user + system CPU seconds pid has used so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def thread_cpu_seconds(pid):
    """Return {thread id: (user, system) CPU seconds so far} for each thread of pid."""
    return {thread.id: (thread.user_time, thread.system_time) for thread in psutil.Process(pid).threads()}


def pin(pid, cores):
    """Keep every thread of pid (and those it starts later) on cores; return cores."""
    for thread in psutil.Process(pid).threads():
        try:
            os.sched_setaffinity(thread.id, cores)
        except ProcessLookupError:  # the thread ended meanwhile
            pass
    return cores


def rss_mib(pid):
    """Return pid's resident memory in MiB."""
    return psutil.Process(pid).memory_info().rss / 2**20


class CpuMeter:
    """Measure the fraction of one core a process (or several together) used between start() and stop()."""

    def __init__(self, pid, clock):
        self.pids, self._clock = pid if isinstance(pid, (list, tuple)) else [pid], clock

    def _cpu_seconds(self):
        return sum(cpu_seconds(pid) for pid in self.pids)

    def start(self):
        """Take the starting reading."""
        self._cpu, self._wall = self._cpu_seconds(), self._clock()
        return self

    def stop(self):
        """Return the fraction of one core used since start(); the CPU seconds are kept in .seconds."""
        wall = self._clock() - self._wall
        self.seconds = self._cpu_seconds() - self._cpu
        return self.seconds / wall if wall > 0 else None

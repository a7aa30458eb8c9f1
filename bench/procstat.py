"""CPU time and resident memory of a process, read from /proc (Linux), with no extra dependency."""
import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """Return the user + system CPU seconds pid has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def rss_mib(pid):
    """Return pid's resident memory in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class CpuMeter:
    """Measure the fraction of one core a process used between start() and stop()."""

    def __init__(self, pid, clock):
        self.pid, self._clock = pid, clock

    def start(self):
        """Take the starting reading."""
        self._cpu, self._wall = cpu_seconds(self.pid), self._clock()
        return self

    def stop(self):
        """Return the fraction of one core used since start()."""
        wall = self._clock() - self._wall
        return (cpu_seconds(self.pid) - self._cpu) / wall if wall > 0 else None

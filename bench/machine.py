"""Describe the machine a run happened on: CPU, cores, memory, versions, and how busy it was."""
import importlib.metadata
import os
import platform
import subprocess

from launcher.redis_server import find_redis_server

PACKAGES = ("Flask-SocketIO", "python-socketio", "python-engineio", "eventlet", "celery", "redis")


def describe():
    """Return the machine's description as an ordered dict of labels to text."""
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{_mem_total_gib():.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Redis": _version([find_redis_server(), "--version"]),
        "Node": _version(["node", "--version"]),
        "packages": ", ".join(f"{name} {_package_version(name)}" for name in PACKAGES),
    }


def load_average():
    """Return the 1-minute load average: how many others were using the cores meanwhile."""
    return os.getloadavg()[0]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib():
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        return kib / 1024 / 1024
    except (OSError, StopIteration):
        return 0.0


def _version(argv):
    try:
        text = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "not found"
    return text.splitlines()[0] if text else "unknown"


def _package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"

"""Adopt and reap the launcher's orphaned descendants, so a stopped system leaves nothing behind.

When a child dies first (a killed Celery worker), its own children are orphaned. Linux hands them
to the nearest "subreaper" instead of init; the launcher becomes one, so it can wait for them to
go and reap them at once, whatever init does (some container inits reap late or never).
"""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Ask Linux to hand orphaned descendants to this process; tell whether it agreed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(waited_for):
    """Reap exited children whose pid is not in waited_for (those have a thread waiting on them)."""
    while True:
        try:
            # WNOWAIT: look before reaping, so a child another thread waits for is left to it.
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid in waited_for:
            return
        try:
            os.waitpid(info.si_pid, os.WNOHANG)
        except ChildProcessError:
            return

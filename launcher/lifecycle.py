"""Starting and stopping child processes, the one way the project does it (launcher, tests, bench).

Every child leads a session of its own, so its process group holds it and everything it starts,
and no terminal signal meant for the parent reaches it. Stopping sends TERM (to the whole group,
or to the main process only, for a child that stops its own children cleanly, like Celery's warm
shutdown), waits a grace period, then KILLs the group.
"""
import os
import signal
import subprocess


def popen_in_session(argv, **popen_kwargs):
    """Start argv as the leader of a new session; return its Popen."""
    return subprocess.Popen(argv, start_new_session=True, **popen_kwargs)


def signal_group(pgid, sig):
    """Send sig to process group pgid; tell whether anyone was there to get it."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def signal_main(pid, sig):
    """Send sig to the one process pid; tell whether it was there to get it."""
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_alive(pgid):
    """Tell whether any process is left in process group pgid."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone's process is there, though not ours to signal
    return True


def stop(process, grace, main_first=False):
    """Stop a Popen started by popen_in_session: TERM, then KILL the group after grace seconds.

    Return the process's exit code.
    """
    if process.poll() is None:
        (signal_main if main_first else signal_group)(process.pid, signal.SIGTERM)
        try:
            return process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    kill(process)
    return process.returncode


def kill(process):
    """KILL a Popen's whole process group at once, as a crash would, and reap it."""
    signal_group(process.pid, signal.SIGKILL)
    return process.wait()

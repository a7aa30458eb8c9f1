"""How many connections one server process may hold: its open-file limit, raised at start.

Every client connection is an open file (its socket). Most systems start a process with a soft limit
of 1,024 open files and allow it to raise that to a hard limit that is far higher (systemd gives
524,288): the server raises it for itself, so a server holds thousands of idle clients without
`ulimit -n` first. Where the hard limit itself is low, raise it for the service (LimitNOFILE= in its
systemd unit, docs/DEPLOYMENT.md).
"""
import logging
import resource

log = logging.getLogger(__name__)

# Files the server keeps open besides its clients: Redis connections (up to 50), the listening socket,
# logs, the event loop's own, imports in progress.
RESERVED_FILES = 128
# Asked for where the hard limit is "unlimited": Linux's default ceiling (fs.nr_open).
UNLIMITED_TARGET = 1_048_576


def raise_limit():
    """Raise this process's soft limit on open files to its hard limit; return the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:  # e.g. macOS, whose soft limit stops at OPEN_MAX
            log.warning("cannot raise the open-file limit from %d to %d: %s", soft, target, exc)
    return soft


def connection_capacity(open_files):
    """Return how many connections a server may hold at once with open_files open files allowed."""
    return max(1, min(open_files, UNLIMITED_TARGET) - RESERVED_FILES)

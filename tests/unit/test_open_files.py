"""The server raises its own open-file limit at start, so it can hold thousands of clients."""
import resource

import pytest

from server import open_files


@pytest.fixture
def limits(monkeypatch):
    """Stand in for the process's RLIMIT_NOFILE: a dict with the (soft, hard) pair, and what was set."""
    state = {"limit": (1024, 524_288), "set": [], "refuse": None}

    def getrlimit(which):
        assert which == resource.RLIMIT_NOFILE
        return state["limit"]

    def setrlimit(which, limit):
        assert which == resource.RLIMIT_NOFILE
        if state["refuse"]:
            raise state["refuse"]
        state["set"].append(limit)
        state["limit"] = limit

    monkeypatch.setattr(open_files.resource, "getrlimit", getrlimit)
    monkeypatch.setattr(open_files.resource, "setrlimit", setrlimit)
    return state


@pytest.mark.parametrize("start, raised", [
    ((1024, 524_288), 524_288),  # systemd's default hard limit
    ((1024, 4096), 4096),
    ((1024, resource.RLIM_INFINITY), open_files.UNLIMITED_TARGET),
])
def test_the_soft_limit_is_raised_to_the_hard_limit(limits, start, raised):
    limits["limit"] = start
    assert open_files.raise_limit() == raised
    assert limits["set"] == [(raised, start[1])]


def test_a_soft_limit_already_at_the_hard_limit_is_left_alone(limits):
    limits["limit"] = (65_536, 65_536)
    assert open_files.raise_limit() == 65_536
    assert limits["set"] == []


@pytest.mark.parametrize("error", [ValueError("not allowed"), OSError(1, "Operation not permitted")])
def test_a_refused_raise_keeps_the_soft_limit_and_says_so(limits, caplog, error):
    limits["refuse"] = error
    assert open_files.raise_limit() == 1024
    assert "cannot raise the open-file limit from 1024" in caplog.text


@pytest.mark.parametrize("open_file_limit, capacity", [
    (1024, 1024 - open_files.RESERVED_FILES),
    (524_288, 524_288 - open_files.RESERVED_FILES),
    (10, 1),  # never zero: the server still serves someone
])
def test_connections_leave_room_for_the_servers_own_files(open_file_limit, capacity):
    assert open_files.connection_capacity(open_file_limit) == capacity


def test_the_real_limit_after_raising_is_the_hard_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        raised = open_files.raise_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (raised, hard)
        assert raised >= soft
        if hard != resource.RLIM_INFINITY:
            assert raised == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

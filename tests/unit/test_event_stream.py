"""The server's rule for resuming a client after a cursor (server/progress.py), and cursor order."""
import pytest

from server.progress import cursor_key, resumable


@pytest.mark.parametrize("cursor, trimmed, exists, expected", [
    ("10-0", None, True, True),  # nothing trimmed, the cursor is known
    ("10-0", "5-0", True, True),  # trimmed before the cursor: everything after it is kept
    ("10-0", "10-0", True, True),  # the cursor itself was trimmed, not what follows it
    ("10-0", "10-1", True, False),  # an event after the cursor was trimmed
    ("10-0", "11-0", True, False),
    ("10-0", None, False, False),  # a cursor Redis never had (Redis lost its data)
])
def test_a_client_resumes_only_when_nothing_after_its_cursor_is_lost(cursor, trimmed, exists, expected):
    assert resumable(cursor, trimmed, exists) is expected


@pytest.mark.parametrize("earlier, later", [("1-0", "1-1"), ("1-9", "2-0"), ("9-0", "10-0"),
                                            ("1712-5", "1712-10")])
def test_cursors_sort_as_the_stream_does(earlier, later):
    assert cursor_key(earlier) < cursor_key(later)

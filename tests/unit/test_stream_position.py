"""The desktop client's resume rule: the cursor it resumes from, and which events are news."""
import threading

import pytest

from desktop_client.payloads import TaskUpdate
from desktop_client.stream_position import StreamPosition
from shared.protocol import TaskState


def update(task, seq, cursor=None, state=TaskState.RUNNING):
    return TaskUpdate(task_id=task, state=state, percent=seq, message="", seq=seq, ts=0.0, cursor=cursor)


def test_a_fresh_position_has_no_cursor():
    assert StreamPosition().cursor is None


@pytest.mark.parametrize("seqs, news", [
    ([1, 2, 3], [1, 2, 3]),
    ([1, 1, 2], [1, 2]),  # a repeat
    ([2, 1, 3], [2, 3]),  # an older event after a newer one
    ([5], [5]),  # a gap is not this rule's business: the server replays in order
])
def test_only_events_newer_than_the_tasks_latest_seq_are_news(seqs, news):
    position = StreamPosition()
    taken = [u.seq for seq in seqs for u in position.take([update("a", seq)])]
    assert taken == news
    assert position.stale == len(seqs) - len(news)
    assert position.received == len(seqs)


def test_seqs_are_per_task():
    position = StreamPosition()
    assert len(position.take([update("a", 1), update("b", 1), update("a", 2), update("b", 1)])) == 3


@pytest.mark.parametrize("cursors, expected", [
    (["1-0", "2-0", "3-0"], "3-0"),
    (["1-0", None], "1-0"),  # an event without a cursor leaves it where it was
    ([None], None),
])
def test_the_cursor_follows_the_last_event_that_has_one(cursors, expected):
    position = StreamPosition()
    position.take([update("a", n + 1, cursor) for n, cursor in enumerate(cursors)])
    assert position.cursor == expected


def test_stale_events_still_move_the_cursor():
    position = StreamPosition()
    position.take([update("a", 2, "5-0")])
    assert position.take([update("a", 1, "6-0")]) == []
    assert position.cursor == "6-0"


def test_a_task_list_moves_the_cursor_and_events_it_already_covers_are_stale():
    position = StreamPosition()
    assert [u.seq for u in position.take_list([update("a", 3)], "9-0")] == [3]
    assert position.cursor == "9-0"
    assert position.take([update("a", 3, "8-0"), update("a", 4, "10-0")])[0].seq == 4
    assert position.received == 2  # list entries are not progress events


def test_history_is_filtered_without_moving_the_cursor():
    position = StreamPosition()
    position.take([update("a", 2, "5-0")])
    assert [u.seq for u in position.news([update("a", n) for n in (1, 2, 3)])] == [3]
    assert position.cursor == "5-0"


def test_reset_forgets_the_cursor_and_the_seqs():
    position = StreamPosition()
    position.take([update("a", 2, "5-0")])
    position.reset()
    assert position.cursor is None
    assert position.take([update("a", 1)])  # news again: another server's task


def test_the_seqs_kept_are_bounded_oldest_forgotten_first():
    position = StreamPosition(max_tasks=2)
    position.take([update("a", 1), update("b", 1), update("c", 1)])
    assert position.take([update("a", 1)])  # forgotten, so its repeat shows again
    assert not position.take([update("c", 1)])


def test_threads_taking_at_once_lose_nothing():
    position = StreamPosition()
    news = []

    def take(task):
        for seq in range(1, 501):
            news.extend(position.take([update(task, seq)]))
    threads = [threading.Thread(target=take, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(news) == 2000 and position.stale == 0

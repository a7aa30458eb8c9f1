"""The desktop client's news inbox: what the socket threads gather reaches the GUI thread whole, in order."""
import threading

import pytest

from desktop_client.news_inbox import ListedTasks, News, NewsInbox
from desktop_client.payloads import TaskUpdate
from shared.protocol import TaskState


def update(task, seq, state=TaskState.RUNNING):
    return TaskUpdate(task_id=task, state=state, percent=seq, message=f"step {seq}", seq=seq, ts=0.0)


def test_an_empty_inbox_gives_nothing():
    assert NewsInbox().take() == []


@pytest.mark.parametrize("batches", [
    [[update("a", 1)]],
    [[update("a", 1), update("a", 2)], [update("b", 1)], [update("a", 3)]],
    [[update("a", seq) for seq in range(1, 1001)]],  # one task flooding
    [[update(task, seq) for task in "abcdefghij"] for seq in range(1, 101)],  # many tasks interleaved
])
def test_every_update_arrives_once_in_order_with_each_tasks_newest(batches):
    inbox = NewsInbox()
    for batch in batches:
        inbox.put(batch)
    [news] = inbox.take()
    sent = [u for batch in batches for u in batch]
    assert news.updates == sent
    newest = {}
    for u in sent:
        newest[u.task_id] = u
    assert news.latest == newest
    assert list(news.latest) == list(dict.fromkeys(u.task_id for u in sent))  # tasks in order first seen
    assert inbox.take() == []


def test_every_final_state_is_kept_even_when_a_later_update_follows():
    inbox = NewsInbox()
    done, failed = update("a", 3, TaskState.SUCCEEDED), update("b", 2, TaskState.FAILED)
    inbox.put([update("a", 1), update("b", 1), done])
    inbox.put([failed, update("c", 1), update("a", 4)])  # e.g. a later attempt
    [news] = inbox.take()
    assert news.finals == [done, failed]
    assert news.latest["a"].seq == 4


@pytest.mark.parametrize("puts, wakes", [
    ([[update("a", 1)]], [True]),
    ([[update("a", 1)], [update("a", 2)], [update("b", 1)]], [True, False, False]),
    ([[], [update("a", 1)]], [False, True]),  # nothing new is nothing to wake for
])
def test_the_taker_is_woken_only_when_the_inbox_was_empty(puts, wakes):
    inbox = NewsInbox()
    assert [inbox.put(updates) for updates in puts] == wakes
    inbox.take()
    assert inbox.put([update("z", 1)]) is True  # empty again after a take


def test_a_task_list_keeps_its_place_among_the_updates():
    inbox = NewsInbox()
    before, after = update("a", 1), update("a", 5)
    listed = [update("a", 4), update("b", 9)]
    assert inbox.put([before]) is True
    assert inbox.put_task_list(listed, True) is False
    inbox.put([after])
    first, middle, last = inbox.take()
    assert isinstance(first, News) and first.updates == [before]
    assert middle == ListedTasks(listed, True)
    assert isinstance(last, News) and last.updates == [after]


def test_a_task_list_alone_wakes_the_taker():
    inbox = NewsInbox()
    assert inbox.put_task_list([], False) is True
    assert inbox.take() == [ListedTasks([], False)]


def test_updates_put_from_several_threads_are_all_taken_once():
    inbox = NewsInbox()
    taken = []

    def put(task):
        for seq in range(1, 2001):
            inbox.put([update(task, seq)])
            if seq % 100 == 0:
                taken.extend(inbox.take())

    threads = [threading.Thread(target=put, args=(task,)) for task in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken.extend(inbox.take())
    updates = [u for news in taken for u in news.updates]
    assert len(updates) == 4 * 2000
    for task in "abcd":
        assert [u.seq for u in updates if u.task_id == task] == list(range(1, 2001))

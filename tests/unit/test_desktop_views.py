"""The desktop app's list model and log coalesce updates: driven directly, no server, no processes."""
import pytest

from desktop_client.log_view import MAX_LINES, LineKind, LogView
from desktop_client.payloads import TaskUpdate
from desktop_client.task_list import Column, TaskListModel
from shared.protocol import TaskState


def update(task, seq, state=TaskState.RUNNING, percent=None, message=""):
    return TaskUpdate(task_id=task, state=state, percent=seq if percent is None else percent,
                      message=message, seq=seq, ts=0.0)


@pytest.fixture
def model(qapp):
    return TaskListModel()


def shown(model):
    return [(model.index(row, Column.TASK).data(), model.index(row, Column.STATE).data(),
             model.index(row, Column.PROGRESS).data()) for row in range(model.rowCount())]


def test_updates_show_at_the_next_flush_and_the_newest_wins(model):
    model.apply(update("a" * 32, 1))
    model.apply(update("a" * 32, 2, percent=50))
    assert model.rowCount() == 0
    model.flush()
    assert shown(model) == [("aaaaaaaa", "running", 50)]


def test_a_flood_costs_one_insert_and_one_change_per_flush(model, qtbot):
    inserts, changes = [], []
    model.rowsInserted.connect(lambda *args: inserts.append(args))
    model.dataChanged.connect(lambda *args: changes.append(args))
    for seq in range(1, 1001):
        model.apply(update(f"{seq % 10:032d}", seq))
    model.flush()
    assert model.rowCount() == 10 and len(inserts) == 1 and len(changes) == 1


@pytest.mark.parametrize("live, watched, announced", [
    (True, False, True),  # it ended live
    (False, True, True),  # the user saw it running, then its end came from a list or history
    (False, False, False),  # an old task the server lists: no announcement
])
def test_an_end_is_announced_only_when_someone_was_waiting_for_it(model, live, watched, announced):
    ends = []
    model.task_finished.connect(lambda *args: ends.append(args))
    task = "b" * 32
    if watched:
        model.apply(update(task, 1))
        model.flush()
    model.apply(update(task, 2, TaskState.SUCCEEDED, 100, "done"), live=live)
    model.flush()
    assert ends == ([(task, "succeeded", "done")] if announced else [])


def test_a_task_is_listed_before_its_first_event(model):
    model.add_task("c" * 32)
    assert shown(model) == [("cccccccc", "starting", 0)]


@pytest.fixture
def log(qapp):
    return LogView()


def test_log_lines_are_coalesced_into_one_flush(log):
    for n in range(100):
        log.add_line(f"line {n}", LineKind.PROGRESS if n % 2 else LineKind.INFO)
    assert log.document().isEmpty()
    assert log.text().count("line ") == 100


def test_control_characters_from_the_server_cannot_forge_log_lines(log):
    log.add_line("one\nINFO fake line")
    assert log.text().count("\n") == 0


def test_a_flood_beyond_what_the_log_keeps_says_how_much_was_skipped(log):
    for n in range(MAX_LINES + 10):
        log.add_line(f"line {n}")
    text = log.text()
    assert text.splitlines()[0].endswith("11 lines skipped: more arrived at once than the log keeps (5000)")
    assert log.document().blockCount() <= MAX_LINES + 1


def test_clearing_drops_queued_lines_too(log):
    log.add_line("queued")
    log.clear_log()
    assert log.text() == ""

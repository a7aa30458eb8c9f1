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


def recorded(task, seq, state, **record):
    from desktop_client.payloads import TaskRecord
    return TaskUpdate(task_id=task, state=state, percent=0, message="", seq=seq, ts=10.0, record=TaskRecord(**record))


def test_records_are_wanted_once_per_change_of_a_tasks_life(model):
    wanted = []
    model.records_wanted.connect(lambda ids: wanted.append(list(ids)))
    task = "d" * 32
    model.apply(update(task, 1, TaskState.QUEUED, 0))
    model.flush()
    model.apply(update(task, 2, TaskState.QUEUED, 0))
    model.flush()
    assert wanted == [[task]]  # asked once while queued
    model.apply_records([recorded(task, 2, TaskState.QUEUED, kind="demo", created=1.0)])
    model.apply(update(task, 3, TaskState.RUNNING, 10))
    model.flush()
    model.apply_records([recorded(task, 3, TaskState.RUNNING, kind="demo", created=1.0, started=2.0)])
    for seq in (4, 5):
        model.apply(update(task, seq, TaskState.RUNNING, seq * 10))
        model.flush()
    model.apply(update(task, 6, TaskState.SUCCEEDED, 100))
    model.flush()
    assert wanted == [[task], [task], [task]]  # queued, started, ended: nothing in between
    model.want_records(again=True)  # the connection came back: only what is still outdated
    assert wanted[-1] == [task]


def test_a_record_never_moves_a_rows_state(model):
    task = "e" * 32
    model.apply(update(task, 1, TaskState.RUNNING, 10))
    model.flush()
    model.apply_records([recorded(task, 9, TaskState.SUCCEEDED, kind="demo", created=1.0, started=2.0,
                                  finished=5.0, result={"n": 1})])
    row = model.task(task)
    assert (row.state, row.percent, row.kind) == (TaskState.RUNNING, 10, "demo")


def test_the_view_lists_newest_first_and_filters(qapp):
    from desktop_client.task_list import TaskListView
    model = TaskListModel()
    view = TaskListView(model)
    for n, state in enumerate([TaskState.RUNNING, TaskState.FAILED, TaskState.SUCCEEDED]):
        model.apply(update(f"{n:032d}", 1, state))
        model.flush()
    shown = lambda: [view.rows.task_at(r).task_id[-1] for r in range(view.rows.rowCount())]  # noqa: E731
    assert shown() == ["2", "1", "0"]
    view.rows.set_state("failed")
    assert shown() == ["1"]
    view.rows.set_state(None)
    view.rows.set_text("00001")
    assert shown() == ["1"]


def test_contrast_is_wcags_ratio(qapp):
    from PySide6.QtGui import QColor

    from desktop_client import colours
    assert round(colours.contrast(QColor("#000000"), QColor("#ffffff")), 1) == 21.0
    assert round(colours.contrast(QColor("#767676"), QColor("#ffffff")), 2) == 4.54  # the well-known threshold grey

"""run_all.py's manager, fed scripted message histories the way honcho tests its own: no processes.

Each history is the messages the manager's queue would carry (lines, readiness, exits, signals);
what is checked is what the user would read and the exit code.
"""
import io
import signal

import pytest
from honcho.printer import Printer

from launcher.manager import CLEAN, FAILED, Manager
from launcher.process import Process


class ScriptedProcess(Process):
    """A Process that pretends to start: the history says what it does."""

    def start(self, events):
        self.pid = 1000 + len(self.name)
        return self.pid


class ScriptedManager(Manager):
    def _await_ready(self, process):
        pass  # readiness arrives in the history instead


def run(history, processes=("redis", "worker", "server"), **options):
    """Play history [(process name, message type, data)] through a manager; return (exit code, output)."""
    output = io.StringIO()
    manager = ScriptedManager(Printer(output, colour=False))
    for name in processes:
        manager.add_process(ScriptedProcess(name, [name], {}, ".", ready=lambda: False, **options.get(name, {})))
    manager._start_next()
    for name, kind, data in history:
        process = manager._find(name) if name != "run_all" else None
        message = process.message(kind, data) if process else manager._events.get_nowait()
        manager._handle(message)
        if manager._exit_code is not None:
            break
    manager._stopping.set()
    return manager._exit_code, [line.split("| ", 1)[1] for line in output.getvalue().splitlines()]


def ready(name):
    return (name, "ready", None)


def test_each_stage_starts_once_the_one_before_is_ready_and_ready_is_announced():
    announced = []
    output = io.StringIO()
    manager = ScriptedManager(Printer(output, colour=False), on_ready=lambda: announced.append(True))
    for name in ("redis", "worker"):
        manager.add_process(ScriptedProcess(name, [name], {}, ".", ready=lambda: False))
    manager._start_next()
    assert [p.started for p in manager._processes] == [True, False]
    manager._handle(manager._find("redis").message("ready", None))
    assert [p.started for p in manager._processes] == [True, True] and not announced
    manager._handle(manager._find("worker").message("ready", None))
    assert announced == [True]
    assert "redis is ready" in output.getvalue() and "worker started (pid" in output.getvalue()


@pytest.mark.parametrize("returncode, words", [
    (-signal.SIGKILL, "worker was killed by SIGKILL: stopping everything"),
    (1, "worker exited with code 1: stopping everything"),
])
def test_a_child_that_dies_is_named_with_its_last_lines(returncode, words):
    code, lines = run([ready("redis"), ("worker", "line", b"celery ready.\n"), ("worker", "line", b"boom\n"),
                       ("worker", "stop", {"returncode": returncode})])
    assert code == FAILED
    assert words in lines
    assert lines[-3:] == ["the last lines worker wrote:", "  worker: celery ready.", "  worker: boom"]


def test_a_child_that_dies_silently_is_said_to_have_written_nothing():
    code, lines = run([ready("redis"), ("worker", "stop", {"returncode": 2})])
    assert code == FAILED and lines[-1] == "worker wrote nothing"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_everything_cleanly(signum):
    output = io.StringIO()
    manager = ScriptedManager(Printer(output, colour=False))
    manager.add_process(ScriptedProcess("redis", ["redis"], {}, ".", ready=lambda: False))
    manager._start_next()
    manager._on_signal(signum, None)
    manager._handle(manager._events.get_nowait())
    assert manager._exit_code == CLEAN
    assert f"{signal.Signals(signum).name} received: stopping everything" in output.getvalue()


def test_a_stage_that_never_gets_ready_fails_saying_what_it_waited_for():
    code, lines = run([ready("redis"), ("worker", "unready", None)],
                      worker={"ready_timeout": 60, "waiting_for": "a ping"})
    assert code == FAILED
    assert "worker did not become ready within 60 s (waited for a ping)" in lines


def test_closing_the_desktop_app_is_a_clean_stop():
    code, lines = run([ready("server"), ("desktop", "stop", {"returncode": 0})],
                      processes=("server", "desktop"), desktop={"clean_exit_stops": True})
    assert code == CLEAN and "desktop closed: stopping everything" in lines


@pytest.mark.parametrize("returncode, words", [
    (0, "worker stopped"), (-signal.SIGTERM, "worker stopped"), (128 + signal.SIGTERM, "worker stopped"),
    (-signal.SIGKILL, "worker stopped (was killed by SIGKILL)"), (3, "worker stopped (exited with code 3)"),
])
def test_exits_while_stopping_read_as_a_stop_unless_something_went_wrong(returncode, words):
    output = io.StringIO()
    manager = ScriptedManager(Printer(output, colour=False))
    worker = manager.add_process(ScriptedProcess("worker", ["worker"], {}, ".", ready=lambda: False))
    manager._start_next()
    manager._stopping.set()
    manager._handle(worker.message("stop", {"returncode": returncode}))
    assert output.getvalue().splitlines()[-1].endswith(f"| {words}")


def test_lines_are_printed_with_the_name_and_kept_as_the_tail():
    code, lines = run([("redis", "line", b"hello\r\n")])
    assert "hello" in lines

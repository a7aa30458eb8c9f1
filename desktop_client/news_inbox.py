"""Task news gathered on python-socketio's threads until the GUI thread takes it, once per frame.

Under a flood the server sends hundreds of `task progress batch` messages a second. Handing each
to the GUI thread as a queued Qt call made the GUI thread take the GIL hundreds of times a second,
each time behind the socket threads. Instead the socket thread puts each message's news here
(one lock, a few list and dict operations), and wakes the GUI thread only when the inbox was
empty; the GUI thread takes everything gathered since its last visit in one go (a News), at most
about once a frame. No Qt here: the rule is plain logic, unit-tested in tests/unit.

Nothing is dropped: a News keeps every update in stream order (history dialogs and the every-step
log want them), each task's newest update (all the task list needs) and every final state (each
gets its own log line). A `task list` waits here too, so that it keeps its place among the updates.
"""
import threading
from dataclasses import dataclass, field


@dataclass(slots=True)
class News:
    """The TaskUpdates that arrived between two visits of the GUI thread."""

    updates: list = field(default_factory=list)  # every update, in stream order
    latest: dict = field(default_factory=dict)  # task id -> its newest update, tasks in order first seen
    finals: list = field(default_factory=list)  # the updates that end a task, in stream order

    def add(self, updates):
        """Add updates (news, in stream order) to what is gathered."""
        self.updates.extend(updates)
        latest = self.latest
        for update in updates:
            latest[update.task_id] = update
            if update.state.is_final:
                self.finals.append(update)


@dataclass(slots=True)
class ListedTasks:
    """A `task list`'s news: recent tasks' latest state, and whether events were lost (see Connection)."""

    updates: list
    reset: bool


class NewsInbox:
    """Gather news on any thread; take it all at once on another. Safe to use from several threads.

    Progress updates that arrive one after another are gathered into one News; a `task list`
    between them keeps its place, so what is taken is in the order it arrived.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._items = []  # News and ListedTasks, in arrival order; a News is only ever the last one grown

    def put(self, updates):
        """Add progress updates; return True when the inbox was empty (so whoever takes must be told)."""
        if not updates:
            return False
        with self._lock:
            was_empty = not self._items
            if was_empty or not isinstance(self._items[-1], News):
                self._items.append(News())
            self._items[-1].add(updates)
        return was_empty

    def put_task_list(self, updates, reset):
        """Add a `task list`'s news after what came before it; return True when the inbox was empty."""
        with self._lock:
            was_empty = not self._items
            self._items.append(ListedTasks(updates, reset))
        return was_empty

    def take(self):
        """Return everything gathered since the last take() (News and ListedTasks, in arrival order)."""
        with self._lock:
            items, self._items = self._items, []
        return items

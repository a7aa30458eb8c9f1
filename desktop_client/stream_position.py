"""Where this client stands in the server's event stream: the cursor to resume from, and each task's
latest seq. No Qt here: the rule is plain logic, unit-tested in tests/unit.

The cursor of the last event (or `task list`) received is sent with every (re)connection attempt,
so the server replays what the link missed, in order. A `task list` can be a little ahead of its
cursor, so an event is news only if its seq is above the one held for its task; that seq lives
here and nowhere else in the app. The position belongs to one server: another address starts afresh.
"""
import collections
import threading

MAX_TASKS = 10_000  # tasks whose seq is kept; older ones are forgotten first (their repeats show again)


class StreamPosition:
    """The resume cursor and each task's latest seq; safe to use from several threads."""

    def __init__(self, max_tasks=MAX_TASKS):
        self._lock = threading.Lock()
        self._max_tasks = max_tasks
        self._cursor = None
        self._seqs = collections.OrderedDict()  # task id -> latest seq, least recently changed first
        self.received = 0  # progress events taken (counted for tests and diagnostics)
        self.stale = 0  # of which were not news: repeats or older than what was held

    @property
    def cursor(self):
        """Return the cursor the next (re)connection resumes from, or None for a fresh start."""
        with self._lock:
            return self._cursor

    def reset(self):
        """Forget everything: the next connection starts afresh (another server)."""
        with self._lock:
            self._cursor = None
            self._seqs.clear()

    def take(self, updates):
        """Move past progress updates; return those that are news, in order."""
        with self._lock:
            self.received += len(updates)
            for update in updates:
                self._cursor = update.cursor or self._cursor
            return self._news(updates)

    def take_list(self, updates, cursor):
        """Move to a `task list`'s cursor; return its entries that are news, in order."""
        with self._lock:
            self._cursor = cursor or self._cursor
            return self._news(updates)

    def news(self, updates):
        """Return the updates newer than what is held (a task's history), holding them; the cursor stays."""
        with self._lock:
            return self._news(updates)

    def _news(self, updates):
        fresh = []
        for update in updates:
            if update.seq <= self._seqs.get(update.task_id, -1):
                self.stale += 1
                continue
            self._seqs[update.task_id] = update.seq
            self._seqs.move_to_end(update.task_id)
            fresh.append(update)
        while len(self._seqs) > self._max_tasks:
            self._seqs.popitem(last=False)
        return fresh

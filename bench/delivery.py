"""A system's load pair: a sender process and a receiving process that run on one shared schedule."""
from bench.children import go_time, node_child, python_child
from bench.stack import FLOOR, OURS
from shared import protocol

STARTUP_TIMEOUT = 60


def receiver_for(system, clients=1, client="lean", urls=None):
    """Return the receiving process for system: socket.io clients in Node, or the floor's SUBSCRIBE.

    urls: the servers the clients take in turn (default: the system's one server).
    """
    if system.kind == FLOOR:
        return python_child("floor-subscriber", "bench.load.floor_subscriber", "--redis-url", system.redis_url)
    url = ",".join(urls or [system.url])
    if system.kind != OURS:
        return node_child(f"receive-{system.name}", "receive.js", "--url", url, "--clients", clients,
                          "--event", "task progress", "--ready-event", "", "--client", client)
    # Our server sends a new client the task list just before adding it to the live room; our
    # clients (the page, the desktop app) take task events in batches.
    return node_child(f"receive-{system.name}", "receive.js", "--url", url, "--clients", clients,
                      "--event", protocol.TASK_PROGRESS_BATCH, "--batched", 1,
                      "--ready-event", protocol.TASK_LIST, "--client", client)


def sender_for(system, tasks=1, kind=None):
    """Return the sending process for system (records, emits or publishes, by its kind)."""
    return python_child(f"send-{system.name}", "bench.load.senders", kind or system.kind, "--redis-url",
                        system.redis_url, "--tasks", tasks)


class Delivery:
    """Start a sender and a receiver for a system, run scheduled runs through them, stop both."""

    def __init__(self, system, clients=1, client="lean", sender_kind=None, urls=None, label=None):
        self.system = system
        self.label = label or f"{system.name} ({client})"
        self.receiver = receiver_for(system, clients, client, urls)
        self.sender = sender_for(system, kind=sender_kind)

    def __enter__(self):
        try:
            for child in (self.receiver, self.sender):
                child.start()
            for child in (self.receiver, self.sender):
                child.wait_line("ready", STARTUP_TIMEOUT)
        except BaseException:
            self.close()
            raise
        return self

    def run(self, rate, seconds):
        """Send rate events/s for seconds; return the receiver's result with the sender's figures."""
        count = max(1, int(rate * seconds))
        line = f"go {go_time()} {count} {rate}"
        self.receiver.send(line)
        self.sender.send(line)
        sent = self.sender.result(seconds + STARTUP_TIMEOUT)
        result = self.receiver.result(seconds + STARTUP_TIMEOUT)
        result.update(rate=rate, sender_behind_ms=sent["behind_ms"], sender_cpu=sent["cpu_fraction"])
        return result

    def close(self):
        """Stop both processes."""
        self.sender.stop()
        self.receiver.stop()

    def __exit__(self, *exc):
        self.close()

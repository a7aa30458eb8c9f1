"""The floor's receiver: a bare Redis SUBSCRIBE that times each message against its intended send time.

python -m bench.load.floor_subscriber --redis-url URL
Same stdin/stdout protocol as the senders: `ready`, then one `result {...}` per `go T N R` line.
"""
import argparse
import json
import sys
import time

import redis

from bench.load.senders import FLOOR_CHANNEL, parse_go
from bench.load.summary import summarize

GRACE_SECONDS = 3.0


def main(argv=None):
    """Subscribe, say ready, then receive one run per `go` line."""
    parser = argparse.ArgumentParser(prog="python -m bench.load.floor_subscriber")
    parser.add_argument("--redis-url", required=True)
    options = parser.parse_args(argv)
    pubsub = redis.Redis.from_url(options.redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(FLOOR_CHANNEL)
    pubsub.get_message(timeout=1.0)  # the subscription's confirmation: from here nothing is missed
    print("ready", flush=True)
    for line in sys.stdin:
        start, count, rate = parse_go(line)
        print("result " + json.dumps(receive(pubsub, start, count, rate)), flush=True)


def receive(pubsub, start, count, rate):
    """Receive until every message came or GRACE_SECONDS after the last was due; return the summary."""
    deadline = start + count / rate + GRACE_SECONDS
    cpu_before, wall_before = time.process_time(), time.monotonic()
    latencies, seen = [], set()
    while len(seen) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is None:
            continue
        now = time.monotonic()
        index, intended = json.loads(message["data"])["message"].split()
        if float(intended) > start - 0.001 and int(index) not in seen:  # not a straggler of an earlier run
            latencies.append((now - float(intended)) * 1000)
            seen.add(int(index))
    cpu = (time.process_time() - cpu_before) / (time.monotonic() - wall_before)
    return summarize(latencies, [len(seen)], count, cpu)


if __name__ == "__main__":
    main()

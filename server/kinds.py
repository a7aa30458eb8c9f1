"""The kinds of task the system comes with: the original demo (wait N seconds) and counting primes.

Your own kinds go in a module of your own, named in TASK_MODULES (README: Add your own task);
``primes`` below is a complete example of one.
"""
import math

from shared import protocol

from . import task_api, tasks
from .task_api import task_kind

PRIMES_LIMIT = 2_000_000_000
SEGMENT = 1 << 20  # numbers sieved at once: memory stays small whatever the limit
PRIMES_PER_SECOND = 40_000_000  # numbers sieved a second on a slow machine (5x slower than 2 cores of 2024), for the time limits

# The original task, unchanged for GET /bg, {"seconds": N} and an empty start request: its Celery task
# and arguments stay those of the original app (tasks.background_task).
DEMO = task_api.register(task_api.TaskKind(
    name=protocol.ORIGINAL_TASK_KIND,
    title="Wait (the original demo)",
    description="The original app's background task: waits the given number of seconds, reporting "
                "twice a second. Tick 'fail half-way' to see how a failed task looks.",
    schema={"type": "object", "additionalProperties": False, "properties": {
        "seconds": {"type": "number", "title": "Seconds", "minimum": 0, "maximum": protocol.MAX_TASK_SECONDS,
                    "description": "How long the task runs"},
        "fail": {"type": "boolean", "title": "Fail half-way", "default": False,
                 "description": "Raise an error half-way, on purpose"},
    }},
    settings_defaults=lambda settings: {"seconds": settings.background_task_seconds},
    celery_task=tasks.background_task,
    expected_seconds=lambda params: params["seconds"],
    arguments=lambda task_id, params: ((task_id, params["seconds"]), {"fail": True} if params.get("fail") else {}),
))


@task_kind("primes", title="Count primes",
           description="Counts the prime numbers below a limit with a segmented sieve of Eratosthenes; "
                       "the result is how many there are and the largest.",
           params={"type": "object", "additionalProperties": False, "required": ["below"], "properties": {
               "below": {"type": "integer", "title": "Below", "minimum": 2, "maximum": PRIMES_LIMIT,
                         "default": 1_000_000_000, "description": "Count the primes less than this"},
           }},
           expected_seconds=lambda params: 5 + params["below"] / PRIMES_PER_SECOND)
def count_primes(task, below):
    """Count the primes below `below`, one segment at a time, reporting after each."""
    root = math.isqrt(below - 1)
    base = _primes_up_to(root)
    count, largest = 0, None
    for low in range(0, below, SEGMENT):
        high = min(low + SEGMENT, below)
        found, top = _sieve_segment(low, high, base)
        count += found
        largest = top if top is not None else largest
        task.report(100 * high // below, f"{count:,} primes below {high:,}")
    return {"below": below, "count": count, "largest": largest}


def _primes_up_to(limit):
    """Return every prime <= limit (a plain sieve: limit is at most the square root of the whole range)."""
    sieve = bytearray([1]) * (limit + 1)
    sieve[:2] = b"\x00\x00"[:limit + 1]
    for number in range(2, math.isqrt(limit) + 1):
        if sieve[number]:
            sieve[number * number::number] = bytes(len(range(number * number, limit + 1, number)))
    return [number for number in range(limit + 1) if sieve[number]]


def _sieve_segment(low, high, base):
    """Return (how many primes lie in [low, high), the largest of them or None)."""
    sieve = bytearray([1]) * (high - low)
    for number in range(low, min(high, 2)):
        sieve[number - low] = 0  # 0 and 1 are not prime
    for prime in base:
        if prime * prime >= high:
            break
        start = max(prime * prime, (low + prime - 1) // prime * prime)
        sieve[start - low::prime] = bytes(len(range(start - low, high - low, prime)))
    top = sieve.rfind(1)
    return sieve.count(1), (low + top if top >= 0 else None)

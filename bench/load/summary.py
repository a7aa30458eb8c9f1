"""The result every receiver prints: delivery counts and latency percentiles (milliseconds)."""
from bench.stats import percentile

PERCENTILES = (50, 90, 99, 99.9)


def summarize(latencies_ms, received_per_client, expected, cpu_fraction):
    """Return the receiver's result: how many events each client missed and how late they came."""
    result = {"expected": expected, "clients": len(received_per_client),
              "received_min": min(received_per_client, default=0),
              "lost": sum(expected - received for received in received_per_client),
              "cpu_fraction": cpu_fraction}
    result.update({f"p{q:g}": percentile(latencies_ms, q) for q in PERCENTILES})
    result["max"] = max(latencies_ms, default=None)
    return result

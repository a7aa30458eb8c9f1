"""Percentiles and medians: every figure is a median over repeated runs."""
import statistics


def percentile(samples, q):
    """Return the q-th percentile (0-100) of samples, by linear interpolation; None when empty."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values):
    """Return the median of the values that are not None; None when there are none."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def ratio(numerator, denominator):
    """Return numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def median_of_runs(runs, key):
    """Return the median over runs (dicts) of run[key]."""
    return median([run.get(key) for run in runs])

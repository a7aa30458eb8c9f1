"""Percentiles and medians: every figure is a median over repeated runs."""
import statistics


def percentile(samples, q):
    """Return the q-th percentile (0-100) of samples (inclusive method); None when empty."""
    if not samples:
        return None
    if len(samples) == 1 or q <= 0:
        return min(samples)
    if q >= 100:
        return max(samples)
    cuts = statistics.quantiles(samples, n=1000, method="inclusive")
    return cuts[round(q * 10) - 1]


def median(values):
    """Return the median of the values that are not None; None when there are none."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def ratio(numerator, denominator):
    """Return numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator

"""The benchmark suite: our system against the floor (bare Redis pub/sub) and the article's baseline.

Run it with ``./dev bench`` (``--quick`` for a short run, ``--only NAME`` for one figure). Kept free of
imports on purpose: ``python -m bench.baseline`` must monkey-patch with eventlet before anything loads.
"""

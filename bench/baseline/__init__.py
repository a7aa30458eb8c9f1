"""The baseline: the original article's design, written fresh for the benchmarks.

A Flask-SocketIO server on a Redis message queue, and a Celery task that creates a new
``SocketIO(message_queue=...)`` each time it runs and emits through it. Kept empty on purpose:
``python -m bench.baseline`` monkey-patches with eventlet before Flask or redis load.
"""

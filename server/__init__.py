"""The web server and the worker's tasks.

Kept empty on purpose: `python -m server` imports this package before server/__main__.py,
and eventlet must monkey-patch before Flask, Celery or redis are imported. The app lives in app.py.
"""

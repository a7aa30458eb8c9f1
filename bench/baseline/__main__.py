"""Run the baseline server: python -m bench.baseline (REDIS_URL, SERVER_PORT, SOCKETIO_ASYNC_MODE)."""
from shared import config

settings = config.load()
if settings.async_mode == "eventlet":
    # Before Flask, Celery or redis are imported, as the article's `socketio.run` needs.
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()

from bench.baseline.app import app, socketio  # noqa: E402

if __name__ == "__main__":
    socketio.run(app, host=settings.server_host, port=settings.server_port,
                 allow_unsafe_werkzeug=True, log_output=False)

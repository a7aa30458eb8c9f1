"""The Celery worker's entry point: celery -A server.worker worker"""
from server.app import create_app

celery_app = create_app().extensions["celery"]

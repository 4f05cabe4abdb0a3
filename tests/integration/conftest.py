"""Integration tests: a real Celery worker process (see tests/worker.py)."""


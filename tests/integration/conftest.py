"""Integration tests: a real Celery worker process (see tests/worker.py)."""

from tests.worker import migrated_data, real_worker  # noqa: F401

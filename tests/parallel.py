"""Parallel test workers (pytest-xdist: `./studio test` runs one per core and one more) share nothing that collides.

Each worker is a process of its own, started with `PYTEST_XDIST_WORKER=gw0`, `gw1`, …:

- its own test database: pytest-django suffixes PostgreSQL's (`test_studio_gw0`), and
  tests/conftest.py puts SQLite's file under the worker's own pytest folder;
- its own media, scratch and C2PA folders (tests/conftest.py, under that same folder), and
  the real worker a test starts is given them (tests/worker.py);
- its own Redis databases (below): the broker of the real Celery workers its tests start, their
  cache (throttles, fal's keys, the re-verification lock) and the live channel, whose pub/sub
  channel names the database (projects/live);
- its own moto S3 server and bucket (tests/storage/conftest.py), its own ports (the live server,
  the fake providers and moto bind port 0);
- the same filesystem broker folder under DATA_DIR when there is no Redis: every test that
  starts a real worker sends its tasks to a queue of its own (tests/worker.py), and a message
  is claimed by an atomic rename (studio_site/broker.py).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

REDIS_DATABASES = 16  # redis-server's default `databases`
REDIS_URL_VARIABLES = ("CELERY_BROKER_URL", "CACHE_URL", "REDIS_URL")


def worker_index() -> int | None:
    """0 for gw0, 1 for gw1 …; None outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else None


def redis_url_for_worker(url: str, index: int) -> str:
    """The URL of the Redis database this worker uses instead of `url`'s: the next ones up."""
    from redis.connection import parse_url

    base = parse_url(url).get("db", 0)
    db = base + 1 + index
    if db >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"Redis has {REDIS_DATABASES} databases and {url} uses {base}: run at most "
            f"{REDIS_DATABASES - 1 - base} test workers (-n) against it.")
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "unix" or "db" in query:  # a socket's path is no database number
        return f"{url.partition('?')[0]}?{urlencode({**query, 'db': db})}"
    return urlunsplit(parts._replace(path=f"/{db}"))


def pytest_configure(config):
    index = worker_index()
    if index is None:
        return
    from django.conf import settings

    from studio_site.celery import app as celery_app

    # The environment first: the real workers and commands a test starts read their settings from it.
    for name in REDIS_URL_VARIABLES:
        url = os.environ.get(name, "")
        if url.startswith(("redis://", "rediss://", "unix://")):
            os.environ[name] = redis_url_for_worker(url, index)
    # Then what this process already read from it when the settings module was imported.
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        settings.CELERY_BROKER_URL = redis_url_for_worker(settings.CELERY_BROKER_URL, index)
        celery_app.conf.broker_url = settings.CELERY_BROKER_URL
    if settings.LIVE_REDIS_URL:
        settings.LIVE_REDIS_URL = redis_url_for_worker(settings.LIVE_REDIS_URL, index)
    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("RedisCache"):
        cache["LOCATION"] = redis_url_for_worker(cache["LOCATION"], index)

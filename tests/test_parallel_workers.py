"""What keeps parallel test workers apart (tests/parallel.py): each its own Redis database."""

import pytest

from tests.parallel import redis_url_for_worker


@pytest.mark.parametrize(("url", "worker", "expected"), [
    ("redis://127.0.0.1:6390/0", 0, "redis://127.0.0.1:6390/1"),
    ("redis://127.0.0.1:6390/0", 1, "redis://127.0.0.1:6390/2"),
    ("redis://127.0.0.1:6390", 0, "redis://127.0.0.1:6390/1"),
    ("rediss://:secret@cache.internal:6380/4", 2, "rediss://:secret@cache.internal:6380/7"),
    ("redis://127.0.0.1:6390?db=3", 0, "redis://127.0.0.1:6390?db=4"),
    ("unix:///run/redis.sock?db=0", 1, "unix:///run/redis.sock?db=2"),
])
def test_each_worker_uses_a_redis_database_above_the_configured_one(url, worker, expected):
    assert redis_url_for_worker(url, worker) == expected


def test_more_workers_than_redis_has_databases_is_refused_with_how_many_fit():
    with pytest.raises(pytest.UsageError, match="run at most 13 test workers"):
        redis_url_for_worker("redis://127.0.0.1:6390/2", 13)

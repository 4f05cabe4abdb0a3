"""What keeps parallel test workers apart: their own Redis databases (tests/parallel.py), and a
catalog as migrate wrote it after any other test's flush (tests/worker.py)."""

import pytest
from django.core.management import call_command

from generation.models import CatalogModel
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


@pytest.mark.django_db(transaction=True)
def test_the_flush_that_ends_a_transactional_test_leaves_the_catalog_migrate_shipped():
    # A parallel worker takes whole files in any order, so a test may follow a transactional
    # test's flush in the same process: it must find the shipped catalog as migrate wrote it.
    def catalog():  # every row as migrate wrote it, but for its id
        rows = CatalogModel.objects.values()
        return sorted(str(sorted((k, v) for k, v in row.items() if k != "id")) for row in rows)

    shipped = catalog()
    call_command("flush", verbosity=0, interactive=False)  # as TransactionTestCase ends

    assert len(shipped) > 10
    assert catalog() == shipped

"""Data built once for a whole test module: for sweeps that send hundreds of read-only requests.

`built_once` opens a transaction around the module, with the studio's test settings, and rolls it
back after the module's last test. Each test (with the `db` fixture) still runs in a savepoint of its
own inside it, so what a test writes is undone after it and the next test finds the world as built.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction
from django.test import override_settings

from studio_site.celery import app as celery_app


@contextmanager
def built_once(django_db_blocker, tmp_path_factory):
    """Use in a module-scoped fixture: build the world inside, then yield what the tests need. Yields
    the folder its files were stored in: the module's tests set MEDIA_ROOT to it (each test gets a
    fresh MEDIA_ROOT of its own otherwise, from tests/conftest.py)."""
    media = tmp_path_factory.mktemp("module-media")
    eager = celery_app.conf.task_always_eager
    # The per-test settings (tests/conftest.py) are not in force yet: files and emails made while
    # building go where the tests' would, and nothing reaches the broker.
    with django_db_blocker.unblock(), override_settings(
            MEDIA_ROOT=str(media), EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        celery_app.conf.task_always_eager = True
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield str(media)
        finally:
            celery_app.conf.task_always_eager = eager
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)

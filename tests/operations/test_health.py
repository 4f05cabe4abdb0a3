"""/healthz for a load balancer: database, broker, storage and a live worker."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from generation.health import heartbeat_record
from generation.models import WorkerHeartbeat
from generation.tasks import worker_heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


class _OwnThreadClient:
    """The test client, asking from a thread of its own. /healthz is an async view: the sync client
    reaches it through async_to_sync, which refuses a thread where an event loop is running (one
    left by whatever ran earlier in this process, e.g. Playwright's). A fresh thread has none,
    as a server's request thread has none."""

    def __init__(self, client):
        self._client = client

    def get(self, *args, **kwargs):
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(self._client.get, *args, **kwargs).result()


@pytest.fixture
def client(client):
    return _OwnThreadClient(client)


def test_it_reports_every_part_ok_when_a_worker_beat_recently(client):
    heartbeat_record(hostname="studio@box")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().splitlines() == [
        "database: ok", "broker: ok", "storage: ok", "worker: ok"]
    assert "no-cache" in response["Cache-Control"]


def test_it_is_unavailable_and_says_so_when_no_worker_has_started(client):
    response = client.get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "ok", "storage": "ok",
                               "worker": "No Celery worker has started yet"}


def test_a_worker_silent_for_longer_than_the_limit_counts_as_gone(client, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 60
    WorkerHeartbeat.objects.create(hostname="studio@box", seen_at=timezone.now() - timedelta(seconds=300))
    response = client.get("/healthz?format=json")
    assert response.status_code == 503
    assert response.json()["worker"].startswith("No Celery worker seen for 30")


def test_the_heartbeat_task_records_the_worker_that_ran_it(client):
    from celery.utils.nodenames import gethostname

    assert client.get("/healthz").status_code == 503
    worker_heartbeat.apply()  # what a worker does every 30 s (eager: this process is the worker)
    assert WorkerHeartbeat.objects.filter(hostname=gethostname()).exists()
    assert client.get("/healthz").status_code == 200


def test_an_unreachable_broker_is_named(client, settings):
    heartbeat_record(hostname="studio@box")
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz?format=json")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("Broker unreachable")
    assert response.json()["database"] == "ok"


def test_the_storage_check_leaves_nothing_behind(client, settings):
    from pathlib import Path

    heartbeat_record(hostname="studio@box")
    client.get("/healthz")
    leftovers = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert leftovers == []


def test_liveness_needs_nothing_but_the_process(client):
    response = client.get("/livez")
    assert response.status_code == 200 and response.content == b"ok\n"

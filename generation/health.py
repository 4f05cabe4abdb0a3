"""What /healthz checks: the database, the broker, media storage and a live Celery worker.

Built on django-health-check's checks (Database, Storage); the broker and the
worker are ours: the worker's liveness is its heartbeat row, which works on
every broker (the embedded filesystem one has no remote-control ping).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from health_check import Database, HealthCheck, Storage
from health_check.exceptions import ServiceUnavailable

from generation.models import WorkerHeartbeat
from studio_site.celery import app


def heartbeat_record(*, hostname: str) -> None:
    WorkerHeartbeat.objects.update_or_create(hostname=hostname[:200], defaults={"seen_at": timezone.now()})


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection."""

    timeout = datetime.timedelta(seconds=3)

    def run(self):
        try:
            with app.connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # kombu raises the transport's own errors
            raise ServiceUnavailable(f"Broker unreachable ({type(exc).__name__})") from exc


@dataclasses.dataclass
class Worker(HealthCheck):
    """A Celery worker took its heartbeat task off the broker recently."""

    def run(self):
        max_age = settings.WORKER_HEARTBEAT_MAX_AGE
        try:
            latest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
        finally:
            connections.close_all()  # this runs on an executor thread: don't leave its connection open
        if latest is None:
            raise ServiceUnavailable("No Celery worker has started yet")
        age = (timezone.now() - latest).total_seconds()
        if age > max_age:
            raise ServiceUnavailable(f"No Celery worker seen for {age:.0f} s")


def checks() -> list[HealthCheck]:
    return [Database(), Broker(), Storage(), Worker()]


NAMES = {"Database": "database", "Broker": "broker", "Storage": "storage", "Worker": "worker"}


async def health_report() -> dict[str, str]:
    """Each check's name → "ok" or what is wrong."""
    results = await asyncio.gather(*(check.get_result() for check in checks()))
    return {NAMES[type(r.check).__name__]: "ok" if r.error is None else str(r.error.message) for r in results}


async def healthz(request):
    """For a load balancer: 200 when everything answers, 503 naming what does not.

    Plain text by default (`database: ok` per line); JSON when asked for
    (`Accept: application/json` or `?format=json`).
    """
    report = await health_report()
    status = 200 if all(v == "ok" for v in report.values()) else 503
    if request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse(report, status=status)
    else:
        response = HttpResponse("".join(f"{name}: {state}\n" for name, state in report.items()),
                                status=status, content_type="text/plain; charset=utf-8")
    add_never_cache_headers(response)
    return response


def livez(request):
    """The process answers: for a liveness probe that must not depend on anything else."""
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")

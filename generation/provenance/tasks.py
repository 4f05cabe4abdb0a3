"""Provenance tasks: read an approved take's manifest once (for exports), and re-verify every kept
take when the trust configuration changed. Task names stay `generation.tasks.*`."""

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.signals import worker_ready

from generation.provenance import ingredients, reverify

log = logging.getLogger(__name__)


@shared_task(name="generation.tasks.prepare_ingredient", base=DjangoTask, acks_late=True, ignore_result=True)
def prepare_ingredient(take_id: int) -> None:
    ingredients.prepare(take_id)


# Re-reading every stored take can take a while; the lock (reverify.LOCK_SECONDS) outlasts it.
# A worker that finds another one re-verifying looks again in a minute: by then it is usually
# done (and this run is skipped), or its holder died and the lock expired (and this run does it).
@shared_task(name="generation.tasks.reverify_provenance_if_changed", bind=True, acks_late=True,
             ignore_result=True, soft_time_limit=3000, time_limit=3060, max_retries=70)
def reverify_provenance_if_changed(self) -> None:
    try:
        result = reverify.renders_reverify_provenance_once(holder=self.request.hostname or "worker")
    except reverify.ReverifyBusy as busy:
        log.info("%s; checking again in a minute", busy)
        raise self.retry(countdown=60)
    if not result.skipped:
        log.info("trust configuration changed: %s take(s) re-verified, %s verdict(s) changed",
                 result.checked, result.changed)


@worker_ready.connect
def _reverify_on_start(sender=None, **kwargs) -> None:
    # `./studio start` runs `reverify_provenance --if-changed` before its worker; a worker started
    # any other way (docker, systemd, scaled out) checks here, once, whichever worker gets it.
    reverify_provenance_if_changed.delay()

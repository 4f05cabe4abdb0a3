"""Celery tasks: small, idempotent, take ids, call services."""

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.signals import worker_ready

from generation.models import PrevizJob
from generation.previz import jobs as previz
from generation.provenance import ingredients, reverify
from generation.providers import connections
from generation.renders import pipeline, retirement
from generation.storage import scratch

log = logging.getLogger(__name__)


class RenderTask(DjangoTask):
    """A render task that crashed tells the user, instead of leaving the take spinning."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        log.error("task %s for take %s crashed: %r", self.name, args[0] if args else "?", exc)
        if args:
            pipeline.render_crashed(args[0], exc)


@shared_task(base=RenderTask, acks_late=True, ignore_result=True)
def submit_render(render_id: int) -> None:
    pipeline.render_submit(render_id)


@shared_task(bind=True, base=RenderTask, acks_late=True, ignore_result=True)
def poll_render(self, render_id: int) -> None:
    try:
        if (self.request.delivery_info or {}).get("redelivered"):
            # The worker that had this poll may have died while finishing the take: a take
            # left downloading is finished now, not when the sweeper notices it.
            pipeline.render_finish(render_id, final_attempt=False)
        pipeline.render_poll(render_id)  # finishes the take when its job just succeeded
    except pipeline.TryAgainLater as later:  # that was the first attempt at the download
        _finish_later(render_id, attempt=2, retry_after=later.retry_after)


FINISH_ATTEMPTS = 4


@shared_task(base=RenderTask, acks_late=True, ignore_result=True)
def finish_render(render_id: int, attempt: int = 1) -> None:
    try:
        pipeline.render_finish(render_id, final_attempt=attempt >= FINISH_ATTEMPTS)
    except pipeline.TryAgainLater as later:
        _finish_later(render_id, attempt=attempt + 1, retry_after=later.retry_after)


def _finish_later(render_id: int, *, attempt: int, retry_after: float | None) -> None:
    countdown = retry_after or 2 ** (attempt - 1)
    pipeline.lease_extend(render_id, seconds=countdown)  # the take is in hand until the retry
    finish_render.apply_async((render_id, attempt), countdown=countdown)


@shared_task(acks_late=True, ignore_result=True)
def cancel_at_provider(render_id: int) -> None:
    pipeline.render_cancel_at_provider(render_id)


@shared_task(acks_late=True, ignore_result=True)
def prepare_ingredient(take_id: int) -> None:
    ingredients.prepare(take_id)


@shared_task(bind=True, acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=330,
             max_retries=10)
def previz_run_job(self, job_id: str) -> None:
    if not PrevizJob.objects.filter(pk=job_id).exists():
        # Enqueued before the booking committed: look again shortly.
        raise self.retry(countdown=0.2)
    previz.previz_job_run(job_id)


# Expires: sweeps queued while no worker was up are dropped, the next one comes within SWEEP_EVERY.
@shared_task(ignore_result=True, expires=30)
def resume_stalled_renders() -> None:
    pipeline.renders_resume_stalled()


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=330)
def sweep_studio_tmp() -> None:
    """Partial downloads and builds of workers that were killed (see generation/storage/scratch.py)."""
    removed = scratch.scratch_sweep()
    if removed:
        log.info("removed %d stale scratch entries", removed)


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=330)
def warn_of_retiring_models() -> None:
    """Daily: owners hear, once per model, that a model their scenes use retires within 30 days."""
    sent = retirement.retirement_warn()
    if sent:
        log.info("sent %d retirement warnings", sent)


@shared_task(bind=True, ignore_result=True, expires=60)
def worker_heartbeat(self) -> None:
    from generation.health import heartbeat_record

    heartbeat_record(hostname=self.request.hostname or "worker")


@worker_ready.connect
def _heartbeat_on_start(sender=None, **kwargs) -> None:
    # A worker that just started is alive before the first periodic heartbeat.
    from generation.health import heartbeat_record

    heartbeat_record(hostname=getattr(sender, "hostname", None) or "worker")


# Re-reading every stored take can take a while; the lock (reverify.LOCK_SECONDS) outlasts it.
# A worker that finds another one re-verifying looks again in a minute: by then it is usually
# done (and this run is skipped), or its holder died and the lock expired (and this run does it).
@shared_task(bind=True, acks_late=True, ignore_result=True, soft_time_limit=3000, time_limit=3060,
             max_retries=70)
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


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def test_connection(connection_id: int) -> None:
    connections.connection_test(connection_id)


# --- Export ------------------------------------------------------------------------------------


class ExportTask(DjangoTask):
    """An export task that crashed outside the service's own handling still ends the export."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        log.error("export task %s for export %s crashed: %r", task_id, args[0] if args else "?", exc)
        if args:
            from generation.exports.services import export_crashed

            export_crashed(args[0], exc)


# Twenty re-encoded 720p scenes take about a minute on two cores; the limit leaves room.
@shared_task(base=ExportTask, acks_late=True, ignore_result=True, soft_time_limit=1200, time_limit=1260)
def run_export(export_id: int) -> None:
    from generation.exports.services import export_run

    export_run(export_id)

"""The takes' Celery tasks: submit, poll, finish, cancel at the provider, the stalled-take sweep and
the daily retirement warning. Small and idempotent: each takes a take id and calls the pipeline.

Task names stay `generation.tasks.*` (queued messages and the beat schedule name them); the pipeline
schedules these tasks and they run the pipeline, so the two modules import each other as modules."""

import logging
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from generation.renders import lookups, pipeline, retirement

log = logging.getLogger(__name__)


class RenderTask(DjangoTask[Any, Any]):
    """A render task that crashed tells the user, instead of leaving the take spinning."""

    def on_failure(self, exc: Exception, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                   einfo: object) -> None:
        log.error("task %s for take %s crashed: %r", self.name, args[0] if args else "?", exc)
        if args:
            pipeline.render_crashed(args[0], exc)


@shared_task(name="generation.tasks.submit_render", base=RenderTask, acks_late=True, ignore_result=True)
def submit_render(render_id: int) -> None:
    pipeline.render_submit(render_id)


@shared_task(name="generation.tasks.poll_render", bind=True, base=RenderTask, acks_late=True,
             ignore_result=True)
def poll_render(self: RenderTask, render_id: int) -> None:
    try:
        if (self.request.delivery_info or {}).get("redelivered"):
            # The worker that had this poll may have died while finishing the take: a take
            # left downloading is finished now, not when the sweeper notices it.
            pipeline.render_finish(render_id, final_attempt=False)
        pipeline.render_poll(render_id)  # finishes the take when its job just succeeded
    except pipeline.TryAgainLater as later:  # that was the first attempt at the download
        _finish_later(render_id, attempt=2, retry_after=later.retry_after)


FINISH_ATTEMPTS = 4


@shared_task(name="generation.tasks.finish_render", base=RenderTask, acks_late=True, ignore_result=True)
def finish_render(render_id: int, attempt: int = 1) -> None:
    try:
        pipeline.render_finish(render_id, final_attempt=attempt >= FINISH_ATTEMPTS)
    except pipeline.TryAgainLater as later:
        _finish_later(render_id, attempt=attempt + 1, retry_after=later.retry_after)


def _finish_later(render_id: int, *, attempt: int, retry_after: float | None) -> None:
    countdown = retry_after or 2 ** (attempt - 1)
    pipeline.lease_extend(render_id, seconds=countdown)  # the take is in hand until the retry
    finish_render.apply_async((render_id, attempt), countdown=countdown)


@shared_task(name="generation.tasks.look_up_render", base=RenderTask, acks_late=True, ignore_result=True)
def look_up_render(render_id: int, seq: int) -> None:
    """One look at the provider's list for a take whose create got an unclear answer (its number
    claimed by a conditional UPDATE: a redelivered look-up does nothing)."""
    lookups.render_look_up(render_id, seq=seq)


# Not a RenderTask: the take it watches renders on, and a failed look must never fail the take.
@shared_task(name="generation.tasks.watch_render", acks_late=True, ignore_result=True)
def watch_render(render_id: int, seq: int) -> None:
    """After a resend: one look for a second job the provider made for the take, and removing those found."""
    lookups.render_watch(render_id, seq=seq)


@shared_task(name="generation.tasks.cancel_at_provider", base=DjangoTask, acks_late=True, ignore_result=True)
def cancel_at_provider(render_id: int) -> None:
    pipeline.render_cancel_at_provider(render_id)


# Expires: sweeps queued while no worker was up are dropped, the next one comes within SWEEP_EVERY.
@shared_task(name="generation.tasks.resume_stalled_renders", ignore_result=True, expires=30)
def resume_stalled_renders() -> None:
    pipeline.renders_resume_stalled()


@shared_task(name="generation.tasks.warn_of_retiring_models", ignore_result=True, soft_time_limit=300,
             time_limit=330)
def warn_of_retiring_models() -> None:
    """Daily: owners hear, once per model, that a model their scenes use retires within 30 days."""
    sent = retirement.retirement_warn()
    if sent:
        log.info("sent %d retirement warnings", sent)

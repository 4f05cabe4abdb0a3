"""Every Celery task of the generation app, gathered where Celery's autodiscovery looks.

Each domain keeps its own tasks beside its services (renders/, provenance/, previz/, providers/,
storage/, exports/); their names stay `generation.tasks.<name>`, the names queued messages and the
beat schedule use. The worker's heartbeat lives here: it belongs to the worker, not to a domain."""

from celery import shared_task
from celery.signals import worker_ready

from generation.exports.tasks import read_cut_import, run_export
from generation.health import heartbeat_record
from generation.previz.tasks import previz_run_job
from generation.provenance.tasks import (
    _reverify_on_start,
    prepare_ingredient,
    reverify_provenance_if_changed,
)
from generation.providers.tasks import check_all_models, check_models, test_connection
from generation.renders.tasks import (
    FINISH_ATTEMPTS,
    cancel_at_provider,
    finish_render,
    look_up_render,
    poll_render,
    resume_stalled_renders,
    submit_render,
    warn_of_retiring_models,
    watch_render,
)
from generation.storage.tasks import sweep_studio_tmp

__all__ = [
    "FINISH_ATTEMPTS", "_reverify_on_start", "cancel_at_provider", "check_all_models", "check_models", "finish_render",
    "look_up_render", "poll_render",
    "prepare_ingredient", "previz_run_job", "resume_stalled_renders", "reverify_provenance_if_changed",
    "read_cut_import", "run_export", "submit_render", "sweep_studio_tmp", "test_connection", "warn_of_retiring_models",
    "watch_render", "worker_heartbeat",
]


@shared_task(bind=True, ignore_result=True, expires=60)
def worker_heartbeat(self) -> None:
    heartbeat_record(hostname=self.request.hostname or "worker")


@worker_ready.connect
def _heartbeat_on_start(sender=None, **kwargs) -> None:
    # A worker that just started is alive before the first periodic heartbeat.
    heartbeat_record(hostname=getattr(sender, "hostname", None) or "worker")

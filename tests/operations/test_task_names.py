"""Queued messages and the beat schedule name tasks by their dotted names: a worker must know every one.

Each domain keeps its tasks beside its services (generation/renders/tasks.py, …) under the names the
studio has always queued (`generation.tasks.*`, `projects.tasks.*`), so a take queued before an
upgrade is still run after it."""

from django.conf import settings

from studio_site.celery import app

QUEUED_BY_NAME = {
    "generation.tasks.submit_render", "generation.tasks.poll_render", "generation.tasks.finish_render",
    "generation.tasks.cancel_at_provider", "generation.tasks.prepare_ingredient", "generation.tasks.previz_run_job",
    "generation.tasks.resume_stalled_renders", "generation.tasks.sweep_studio_tmp",
    "generation.tasks.warn_of_retiring_models", "generation.tasks.worker_heartbeat",
    "generation.tasks.reverify_provenance_if_changed", "generation.tasks.test_connection",
    "generation.tasks.run_export", "generation.tasks.look_up_render", "generation.tasks.watch_render",
    "projects.tasks.send_notification", "projects.tasks.send_invitation", "projects.tasks.send_render_digest",
    "projects.tasks.live_presence_sweep", "projects.tasks.live_changes_prune",
    "projects.tasks.purge_trash", "projects.tasks.delete_stored_files",
}


def registered() -> set[str]:
    app.loader.import_default_modules()  # what a worker imports at start (autodiscovery)
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_a_worker_knows_every_task_the_studio_has_ever_queued_by_name():
    assert QUEUED_BY_NAME <= registered()


def test_every_scheduled_task_is_one_a_worker_runs():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled and scheduled <= registered()

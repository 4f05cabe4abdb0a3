"""The export's task: build the approved cut. Its name stays `generation.tasks.run_export`."""

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings

from generation.exports import cut_import, services

log = logging.getLogger(__name__)


class ExportTask(DjangoTask):
    """An export task that crashed outside the service's own handling still ends the export."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        log.error("export task %s for export %s crashed: %r", task_id, args[0] if args else "?", exc)
        if args:
            services.export_crashed(args[0], exc, language=args[1] if len(args) > 1 else "")


# Twenty re-encoded 720p scenes take about a minute on two cores; the limit leaves room.
@shared_task(name="generation.tasks.run_export", base=ExportTask, acks_late=True, ignore_result=True,
             soft_time_limit=1200, time_limit=1260)
def run_export(export_id: int, language: str = "") -> None:
    # `language`: the page's the export was started from, for a failure's words (older messages: the default).
    services.export_run(export_id, language=language)


# The reading itself is a child process capped at CUT_IMPORT_SECONDS; the limits leave it room to finish.
@shared_task(name="generation.tasks.read_cut_import", base=DjangoTask, acks_late=True, ignore_result=True,
             soft_time_limit=settings.CUT_IMPORT_SECONDS + 60, time_limit=settings.CUT_IMPORT_SECONDS + 90)
def read_cut_import(cut_import_id: int, language: str = "") -> None:
    # `language`: the uploader's page's, for what the worker writes (a message queued before it came: the default).
    try:
        cut_import.cut_import_read(cut_import_id, language=language)
    except Exception:
        # Whatever went wrong, the page stops waiting and says so; nothing on the board changed.
        log.exception("cut import %s crashed", cut_import_id)
        cut_import.cut_import_crashed(cut_import_id, language=language)
        raise

"""The storyboard's Celery tasks (gathered by projects/tasks.py; names stay `projects.tasks.*`)."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from projects.storyboard import trash

RETRIES = 5


@shared_task(name="projects.tasks.purge_trash", ignore_result=True, acks_late=True)
def purge_trash() -> None:
    """Daily: scenes in a trash longer than TRASH_DAYS are deleted forever (their spend is kept)."""
    trash.trash_purge_expired()


@shared_task(bind=True, name="projects.tasks.delete_stored_files", base=DjangoTask, ignore_result=True, acks_late=True)
def delete_stored_files(self, names: list[str]) -> None:
    """The files of scenes deleted forever, once that deletion has committed (a file already gone is fine).
    Files the storage refused are tried again later, a few times."""
    failed = trash.stored_files_delete(names)
    if failed and not self.request.is_eager and self.request.retries < RETRIES:
        raise self.retry(args=[failed], countdown=60 * 2 ** self.request.retries, max_retries=RETRIES)

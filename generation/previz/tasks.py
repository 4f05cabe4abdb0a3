"""The local previz provider's task: run one animatic job. Its name stays `generation.tasks.*`."""

from celery import shared_task

from generation.models import PrevizJob
from generation.previz import jobs


@shared_task(name="generation.tasks.previz_run_job", bind=True, acks_late=True, ignore_result=True,
             soft_time_limit=300, time_limit=330, max_retries=10)
def previz_run_job(self, job_id: str) -> None:
    if not PrevizJob.objects.filter(pk=job_id).exists():
        # Enqueued before the booking committed: look again shortly.
        raise self.retry(countdown=0.2)
    jobs.previz_job_run(job_id)

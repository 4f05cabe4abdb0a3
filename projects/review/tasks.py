"""Review's worker side: Play all's mix. Takes an id, loads the row, calls the service; safe to run
twice (a mix is made only while its row is still processing). Names stay `projects.tasks.*`."""

from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from projects.review import playall


@shared_task(bind=True, name="projects.tasks.play_all_mix_prepare", base=DjangoTask, acks_late=True, ignore_result=True,
             soft_time_limit=600, time_limit=660)
def play_all_mix_prepare(self: DjangoTask[Any, Any], mix_id: int) -> None:
    playall.play_all_mix_prepare(mix_id)

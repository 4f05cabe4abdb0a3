"""A connection's "Test connection" and "Check for model changes" run here, off the request. Their names stay
`generation.tasks.*`."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from generation.providers import catalog_sync, connections


@shared_task(name="generation.tasks.test_connection", base=DjangoTask, acks_late=True, ignore_result=True, soft_time_limit=60,
             time_limit=90)
def test_connection(connection_id: int) -> None:
    connections.connection_test(connection_id)


# Reads the provider's listing (several pages, a schema per model) and stores the differences: idempotent,
# so a redelivered message only checks again.
@shared_task(name="generation.tasks.check_models", base=DjangoTask, acks_late=True, ignore_result=True, soft_time_limit=120,
             time_limit=150)
def check_models(connection_id: int) -> None:
    catalog_sync.catalog_check_run(connection_id)


@shared_task(name="generation.tasks.check_all_models", acks_late=True, ignore_result=True, soft_time_limit=60,
             time_limit=90)
def check_all_models() -> None:
    """The daily beat: one check per connection whose provider publishes its models."""
    catalog_sync.catalog_check_all()

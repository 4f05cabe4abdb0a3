"""A connection's "Test connection" runs here, off the request. Its name stays `generation.tasks.*`."""

from celery import shared_task

from generation.providers import connections


@shared_task(name="generation.tasks.test_connection", acks_late=True, ignore_result=True, soft_time_limit=60,
             time_limit=90)
def test_connection(connection_id: int) -> None:
    connections.connection_test(connection_id)

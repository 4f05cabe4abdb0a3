"""The bell's email side: one email per notification, and the author's render digest.
Task names stay `projects.tasks.*` (queued messages name them)."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import OperationalError

from projects.activity import notifications


@shared_task(name="projects.tasks.send_notification", acks_late=True, ignore_result=True,
             autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification(user_id: int, subject: str, body: str) -> None:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    send_mail(subject, body, None, [user.email])


@shared_task(name="projects.tasks.send_render_digest", acks_late=True, ignore_result=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_render_digest(user_id: int) -> None:
    notifications.render_digest_send(user_id)

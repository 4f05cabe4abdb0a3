"""Celery tasks of the projects app: small, idempotent, take ids."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import OperationalError

from projects.live import changes_prune
from projects.live.presence import presence_sweep


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification(user_id: int, subject: str, body: str) -> None:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    send_mail(subject, body, None, [user.email])


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def send_render_digest(user_id: int) -> None:
    from projects.review.notifications import render_digest_send

    render_digest_send(user_id)


@shared_task(ignore_result=True, expires=30)
def live_presence_sweep() -> None:
    presence_sweep()


@shared_task(ignore_result=True)
def live_changes_prune() -> None:
    changes_prune()

"""The bell's email side: one email per notification, an invitation, and the author's render digest.
Task names stay `projects.tasks.*` (queued messages name them).

Every email the studio sends leaves from here, on a worker: a slow or broken mail server never
holds a request, never turns a saved change into a 500, and is tried again a few times."""

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import OperationalError

from projects.activity import notifications
from projects.models import Invitation

log = logging.getLogger(__name__)


def _deliver(task, *, to: str, subject: str, body: str) -> bool:
    """Send one email; on a mail server's failure try again later (with backoff, at most
    EMAIL_RETRIES times), then log it and give up. Returns whether it was sent."""
    try:
        send_mail(subject, body, None, [to])
        return True
    except OSError as exc:  # smtplib's errors are OSErrors, as are refused connections and timeouts
        tries = task.request.retries + 1
        # Run inline (CELERY_TASK_ALWAYS_EAGER), a retry would only repeat the failure at once, inside
        # whatever request queued it: there is no worker to try again later.
        if task.request.is_eager or task.request.retries >= settings.EMAIL_RETRIES:
            log.error("email %r to %s not sent after %d tries, given up: %r", subject, to, tries, exc)
            return False
        countdown = settings.EMAIL_RETRY_SECONDS * 2 ** task.request.retries
        log.warning("email %r to %s failed (try %d), retrying in %d s: %r", subject, to, tries, countdown, exc)
        raise task.retry(exc=exc, countdown=countdown, max_retries=settings.EMAIL_RETRIES)


@shared_task(bind=True, name="projects.tasks.send_notification", base=DjangoTask, acks_late=True, ignore_result=True)
def send_notification(self, user_id: int, subject: str, body: str) -> None:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    _deliver(self, to=user.email, subject=subject, body=body)


@shared_task(bind=True, name="projects.tasks.send_invitation", base=DjangoTask, acks_late=True, ignore_result=True)
def send_invitation(self, invitation_id: int, subject: str, body: str) -> None:
    """Email an invitation to its address (the invitee may have no account yet), while it can be used."""
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_usable:
        return  # cancelled, accepted or expired while the email waited: nothing to send
    _deliver(self, to=invitation.email, subject=subject, body=body)


@shared_task(name="projects.tasks.send_render_digest", base=DjangoTask, acks_late=True, ignore_result=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_render_digest(user_id: int) -> None:
    notifications.render_digest_send(user_id)

"""Email notifications, filtered by each user's preferences and sent by a Celery task."""

from __future__ import annotations

from django.conf import settings

from projects.models import NotificationPreference


def preferences_for(user) -> NotificationPreference:
    """The user's saved preferences, or the defaults (everything on) unsaved."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def wants(user, event: str) -> bool:
    if event not in NotificationPreference.EVENTS:
        raise ValueError(f"Unknown notification event {event!r}")
    if not user.email or not user.is_active:
        return False
    return getattr(preferences_for(user), event)


def notify(users, event: str, *, subject: str, body: str, path: str = "") -> int:
    """Queue one email per user who wants `event`; returns how many were queued."""
    from projects.tasks import send_notification

    link = (settings.PUBLIC_BASE_URL.rstrip("/") + path) if (path and settings.PUBLIC_BASE_URL) else path
    text = body + (f"\n\n{link}" if link else "") + "\n\nChange what you receive by email in your notification settings."
    sent = 0
    for user in {u.pk: u for u in users if u is not None}.values():
        if wants(user, event):
            send_notification.delay_on_commit(user.pk, f"[Storyboard Studio] {subject}"[:200], text)
            sent += 1
    return sent

"""Read models of the inbox: a person's notifications and the bell's count."""

from __future__ import annotations

from projects.models import Notification

INBOX_SIZE = 100


def inbox_for(*, user) -> list[Notification]:
    """The user's newest notifications (their teams' and their invitations), newest first."""
    return list(Notification.objects.visible_to(user).select_related("team", "actor")[:INBOX_SIZE])


def unread_count(*, user_id: int) -> int:
    return Notification.objects.visible_to(user_id).unread().count()

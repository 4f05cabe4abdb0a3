"""Read models of the inbox: a person's notifications and the bell's count."""

from __future__ import annotations

from dataclasses import dataclass

from projects.models import Notification

INBOX_SIZE = 100


@dataclass
class Inbox:
    """What reached a person: first what asks something of them and is still unread (a mention, a request
    for changes), so a morning of finished renders never buries it; then everything else, newest first."""

    asking: list[Notification]
    rest: list[Notification]

    def __bool__(self) -> bool:
        return bool(self.asking or self.rest)


def inbox_for(*, user) -> Inbox:
    """The user's newest notifications (their teams' and their invitations)."""
    mine = Notification.objects.visible_to(user).select_related("team", "actor")
    asking = list(mine.asking().unread()[:INBOX_SIZE])
    rest = list(mine.exclude(pk__in=[n.pk for n in asking])[:INBOX_SIZE - len(asking)])
    return Inbox(asking=asking, rest=rest)


def unread_count(*, user_id: int) -> int:
    return Notification.objects.visible_to(user_id).unread().count()

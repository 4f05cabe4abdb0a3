"""In-app notifications: one row per recipient, the same moment their email is queued."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from projects.models.teams import Membership


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mention")
    REPLY = "reply", _("Reply")
    DECISION = "decision", _("Decision")
    CHANGES = "changes", _("Request for changes")  # a decision that asks something of its reader
    RENDER = "render", _("Render")
    INVITATION = "invitation", _("Invitation")
    BUDGET = "budget", _("Budget")
    MODEL_RETIRING = "model_retiring", _("Model retiring")
    SECURITY = "security", _("Security")
    CONSENT = "consent", _("Consent")


ASKING = (NotificationKind.MENTION, NotificationKind.CHANGES)


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The user's own notifications, from teams they are still in (an invitation
        reaches them before they join)."""
        teams = Membership.objects.filter(user=user).values("team_id")
        return self.filter(recipient=user).filter(
            models.Q(team_id__in=teams) | models.Q(kind=NotificationKind.INVITATION))

    def unread(self):
        return self.filter(read_at__isnull=True)

    def asking(self):
        """What asks something of its reader: a mention, a request for changes."""
        return self.filter(kind__in=ASKING)


class Notification(models.Model):
    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    text = models.CharField(max_length=300)
    path = models.CharField(max_length=500, help_text="Where it leads in the studio (path, query and anchor)")
    base_url = models.CharField(max_length=200, blank=True,
                                help_text="The studio's address when it happened: the email's links start here")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return f"{self.recipient_id}: {self.text[:40]}"

    @property
    def url(self) -> str:
        """The absolute link the email carries."""
        return self.base_url.rstrip("/") + self.path

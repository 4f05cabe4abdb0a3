"""Teams, their members and roles, and invitations."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    VIEWER = "viewer", "Viewer"


class Team(models.Model):
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    # On by default: takes carry likenesses of real people, and refusing AI training is the
    # choice that can be relaxed later without having leaked anything meanwhile.
    do_not_train = models.BooleanField(
        default=True, help_text="Sign every kept take with a C2PA assertion refusing AI training and data mining")

    def __str__(self):
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]
        ordering = ["team__name"]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    # What each role may do. Viewers only read.
    @property
    def can_edit(self) -> bool:
        return self.role in {Role.OWNER, Role.EDITOR}

    @property
    def can_review(self) -> bool:
        return self.role in {Role.OWNER, Role.REVIEWER}

    @property
    def can_manage(self) -> bool:
        return self.role == Role.OWNER


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


INVITATION_LIFETIME = timedelta(days=7)


class Invitation(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def save(self, *args, **kwargs):
        if not self.expires_at:
            self.expires_at = timezone.now() + INVITATION_LIFETIME
        super().save(*args, **kwargs)

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class BoardView(models.TextChoices):
    GRID = "grid", "Grid"
    LIST = "list", "List"


class UserPreference(models.Model):
    """Small per-user choices the studio remembers (how the board is laid out)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_preference")
    board_view = models.CharField(max_length=8, choices=BoardView.choices, default=BoardView.GRID)

    def __str__(self):
        return f"{self.user}: {self.board_view}"

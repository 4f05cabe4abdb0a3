"""Teams, their members and roles, and invitations."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    REVIEWER = "reviewer", _("Reviewer")
    VIEWER = "viewer", _("Viewer")


# What each role may do: the one home of role abilities. Views ask through access.require (or
# Membership.can_*), templates read membership.can_*, services filter memberships with
# Membership.roles_that_can(...). Viewers only read.
ABILITIES: dict[str, frozenset[str]] = {
    "edit": frozenset({Role.OWNER, Role.EDITOR}),
    "review": frozenset({Role.OWNER, Role.REVIEWER}),
    # Writing, resolving and answering comments: whoever edits or reviews.
    "comment": frozenset({Role.OWNER, Role.EDITOR, Role.REVIEWER}),
    # Reviewers and up start exports (they sign off the cut); viewers only download.
    "start_export": frozenset({Role.OWNER, Role.EDITOR, Role.REVIEWER}),
    "manage": frozenset({Role.OWNER}),
}


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
    monthly_budget = models.DecimalField(
        "Team monthly budget (US$)", max_digits=10, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text="What all the team's takes booked in one calendar month (UTC) may cost together; empty: no cap")

    def __str__(self):
        return self.name


class Membership(models.Model):
    # This month's spend, set for the team page by projects/selectors/teams.py.
    month_spend: Decimal

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    joined_at = models.DateTimeField(auto_now_add=True)
    monthly_budget = models.DecimalField(
        "Monthly cap (US$)", max_digits=10, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text="What this member's takes booked in one calendar month (UTC) may cost; empty: no cap")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]
        ordering = ["team__name"]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    @staticmethod
    def roles_that_can(ability: str) -> frozenset[str]:
        """The roles granted `ability` (a key of ABILITIES), e.g. to filter memberships in a query."""
        return ABILITIES[ability]

    def can(self, ability: str) -> bool:
        return self.role in ABILITIES[ability]

    @property
    def can_edit(self) -> bool:
        return self.can("edit")

    @property
    def can_review(self) -> bool:
        return self.can("review")

    @property
    def can_comment(self) -> bool:
        return self.can("comment")

    @property
    def can_start_export(self) -> bool:
        return self.can("start_export")

    @property
    def can_manage(self) -> bool:
        return self.can("manage")


class BudgetScope(models.TextChoices):
    TEAM = "team", _("Team monthly budget")
    MEMBER = "member", _("Member monthly cap")
    PROJECT = "project", _("Project render budget")


class BudgetAlert(models.Model):
    """Owners were told that a budget reached `level` % in `month`: each cap warns once per level
    per month. `subject_id` is the team's, the membership's or the project's pk, as `scope` says."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="budget_alerts")
    scope = models.CharField(max_length=16, choices=BudgetScope.choices)
    subject_id = models.PositiveIntegerField()
    month = models.DateField(help_text="The first day of the calendar month (UTC)")
    level = models.PositiveSmallIntegerField(help_text="80 or 100 (% of the cap)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "subject_id", "month", "level"], name="one_budget_alert_per_level")
        ]

    def __str__(self):
        return f"{self.scope} {self.subject_id} {self.month:%Y-%m} {self.level}%"


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

    def is_for(self, user) -> bool:
        """An invitation is for its address: only an account with that email (in any case) may use
        it, not whoever else the link reached (forwarded, leaked, or a member of another team)."""
        email = (getattr(user, "email", "") or "").strip().lower()
        return bool(email) and email == self.email.strip().lower()


class BoardView(models.TextChoices):
    GRID = "grid", _("Grid")
    LIST = "list", _("List")


class UserPreference(models.Model):
    """Small per-user choices the studio remembers (how the board is laid out)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_preference")
    board_view = models.CharField(max_length=8, choices=BoardView.choices, default=BoardView.GRID)
    # "" follows the browser (Accept-Language); a code from settings.LANGUAGES wins over it.
    language = models.CharField(_("Language"), max_length=8, blank=True, default="",
                                choices=[("", _("As my browser says")), *settings.LANGUAGES])

    def __str__(self):
        return f"{self.user}: {self.board_view}"

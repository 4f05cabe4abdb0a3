"""Actions on a team: the team itself, its members and invitations, and the budgets it sets (the team's,
a member's, a project's). Keyword-only, named <entity>_<action>; each change an owner makes is audited."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from generation.catalog import connection_ensure_local
from projects.activity.notifications import invitation_notify
from projects.audit import audit_record
from projects.models import AuditAction, Invitation, Membership, Project, Role, Team

_Value = TypeVar("_Value", bool, Decimal | None)


def team_create(*, name: str, owner: User) -> Team:
    with transaction.atomic():
        team = Team.objects.create(name=name)
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
        connection_ensure_local(team)
    return team


def team_set_do_not_train(*, team: Team, user: User, do_not_train: bool) -> Team:
    """Takes signed from now on carry (or drop) the do-not-train assertion; signed ones keep theirs."""
    with transaction.atomic():
        before = _set_and_return_before(Team, team.pk, "do_not_train", do_not_train)
        if before != do_not_train:
            audit_record(team=team, actor=user, action=AuditAction.TRAINING_SET, target=team,
                         details={"changes": {"do_not_train": [before, do_not_train]}})
    team.do_not_train = do_not_train
    return team


def team_budget_set(*, team: Team, user: User, amount: Decimal | None) -> Team:
    """What all the team's takes booked in a calendar month may cost together (None: no cap).
    Lowering it below this month's spend refuses new paid takes; booked ones keep rendering."""
    with transaction.atomic():
        before = _set_and_return_before(Team, team.pk, "monthly_budget", amount)
        _audit_amount(team, user, AuditAction.TEAM_BUDGET_SET, team, "monthly_budget", before, amount)
    team.monthly_budget = amount
    return team


def member_cap_set(*, membership: Membership, user: User, amount: Decimal | None) -> Membership:
    """What one member's takes booked in a calendar month may cost (None: no cap of their own)."""
    with transaction.atomic():
        before = _set_and_return_before(Membership, membership.pk, "monthly_budget", amount)
        _audit_amount(membership.team_id, user, AuditAction.MEMBER_CAP_SET, membership, "monthly_cap", before,
                      amount, label=membership.user.get_username())
    membership.monthly_budget = amount
    return membership


def project_budget_set(*, project: Project, user: User, amount: Decimal | None) -> Project:
    """What the project's takes may cost in all (None: no limit). Lowering it below what is committed
    refuses new paid takes; booked ones keep rendering."""
    with transaction.atomic():
        before = _set_and_return_before(Project, project.pk, "budget", amount)
        _audit_amount(project.team_id, user, AuditAction.PROJECT_BUDGET_SET, project, "budget", before, amount)
    project.budget = amount
    return project


def _set_and_return_before(model: type[Team] | type[Membership] | type[Project], pk: int, field: str,
                           value: _Value) -> _Value:
    """Set one column of one row, returning what it held (read under the row's lock, so two owners
    saving at once each record what they really replaced)."""
    before: _Value = model.objects.select_for_update(no_key=True).filter(pk=pk).values_list(field, flat=True).get()
    model.objects.filter(pk=pk).update(**{field: value})
    return before


def _audit_amount(team: Team | int, user: User, action: str, target: Team | Membership | Project, field: str,
                  before: Decimal | None, after: Decimal | None, label: str = "") -> None:
    if before == after:
        return  # saved as it was: nothing changed, nothing to record
    money = [None if v is None else f"{Decimal(v):.2f}" for v in (before, after)]
    audit_record(team=team, actor=user, action=action, target=target, target_label=label,
                 details={"changes": {field: money}})


def invitation_create(*, team: Team, email: str, role: str, invited_by: User) -> Invitation:
    email = email.strip().lower()
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise ValidationError(gettext("%(email)s is already a member of %(team)s.") % {"email": email, "team": team.name})
    with transaction.atomic():
        invitation = Invitation.objects.create(team=team, email=email, role=role, invited_by=invited_by)
        audit_record(team=team, actor=invited_by, action=AuditAction.INVITATION_SENT, target=invitation,
                     target_label=email, details={"role": role})
    invitation_notify(invitation, invited_by=invited_by)
    return invitation


def invitation_account_exists(*, invitation: Invitation) -> bool:
    """Whether an account already has the invited address (the invitee then logs in rather than signs up)."""
    return get_user_model().objects.filter(email__iexact=invitation.email.strip()).exists()


def invitation_accept(*, invitation: Invitation, user: User | None = None, username: str = "", password: str = "") -> Membership:
    """Join the team. A new invitee gets an account; a logged-in user with the invited address just joins."""
    if user is not None and not invitation.is_for(user):
        raise ValidationError(gettext("This invitation is for %(email)s, not for %(username)s.")
                              % {"email": invitation.email, "username": user.get_username()})
    if user is None and invitation_account_exists(invitation=invitation):
        # A second account with the same address would also pass is_for() on every later invitation.
        raise ValidationError(gettext("An account already uses %(email)s: log in as it to join.")
                              % {"email": invitation.email})
    with transaction.atomic():
        # Single use, even with two tabs racing on the same link.
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).update(accepted_at=timezone.now())
        if not claimed:
            raise ValidationError(gettext("This invitation has expired or was already used."))
        if user is None:
            user = get_user_model().objects.create_user(
                username=username, email=invitation.email, password=password
            )
        Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
        membership, created = Membership.objects.get_or_create(
            team=invitation.team, user=user, defaults={"role": invitation.role}
        )
        details: dict[str, object] = {"role": membership.role, "invited_by": _username(invitation.invited_by)}
        if not created:
            details["already_a_member"] = True
        audit_record(team=invitation.team, actor=user, action=AuditAction.INVITATION_ACCEPTED, target=invitation,
                     target_label=invitation.email, details=details)
    return membership


def membership_set_role(*, membership: Membership, user: User, role: str) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER:
        _keep_an_owner(membership.team, leaving=membership)
    before = membership.role
    with transaction.atomic():
        membership.role = role
        membership.save(update_fields=["role"])
        if before != role:
            audit_record(team=membership.team_id, actor=user, action=AuditAction.ROLE_CHANGED, target=membership,
                         target_label=membership.user.get_username(), details={"changes": {"role": [before, role]}})
    return membership


def membership_remove(*, membership: Membership, user: User) -> None:
    if membership.role == Role.OWNER:
        _keep_an_owner(membership.team, leaving=membership)
    with transaction.atomic():
        audit_record(team=membership.team_id, actor=user, action=AuditAction.MEMBER_REMOVED, target=membership,
                     target_label=membership.user.get_username(), details={"role": membership.role})
        membership.delete()


def _username(user: User | None) -> str:
    return user.get_username() if user is not None else ""


def _keep_an_owner(team: Team, *, leaving: Membership) -> None:
    if not team.memberships.filter(role=Role.OWNER).exclude(pk=leaving.pk).exists():
        raise ValidationError(gettext("A team needs at least one owner."))

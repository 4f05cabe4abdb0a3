"""Read models of a team: its members with what each spent this month, open invitations, and the names a
comment may @mention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from generation.spend.budget import member_month_spends, month_start
from projects.models import Invitation, Membership, Team


@dataclass
class TeamMembers:
    members: list[Membership]  # each with `month_spend`, this calendar month (UTC)
    invitations: QuerySet[Invitation]  # not yet accepted
    month: datetime
    team_spend: Decimal


def team_members_for(*, team: Team) -> TeamMembers:
    members = list(team.memberships.select_related("user").order_by("user__username"))
    spends = member_month_spends(team.pk)
    for member in members:
        member.month_spend = spends.get(member.user_id, Decimal(0))
    return TeamMembers(members=members, invitations=team.invitations.filter(accepted_at__isnull=True),
                       month=month_start(), team_spend=sum(spends.values(), Decimal(0)))


def mention_members_for(*, team: Team, user) -> list[dict]:
    """The teammates `user` may @mention in a comment (everyone in the team but themselves), for suggestions as
    they type: {"u": username, "n": full name or ""}, by username. The team's people only, and only to its members."""
    members = (Membership.objects.filter(team=team).exclude(user=user).select_related("user")
               .order_by("user__username"))
    return [{"u": m.user.get_username(), "n": m.user.get_full_name()} for m in members]


"""One place that scopes every lookup to the requesting user's teams.

Another team's object is indistinguishable from a missing one: 404.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from projects.models import Membership, Project, Scene


def membership_for(user, team_id) -> Membership:
    return get_object_or_404(Membership.objects.select_related("team"), user=user, team_id=team_id)


def get_project_for(user, pk) -> tuple[Project, Membership]:
    project = get_object_or_404(
        Project.objects.select_related("team"), pk=pk, team__memberships__user=user
    )
    return project, membership_for(user, project.team_id)


def get_scene_for(user, pk) -> tuple[Scene, Membership]:
    scene = get_object_or_404(
        Scene.objects.select_related("project__team"),
        pk=pk,
        project__team__memberships__user=user,
    )
    return scene, membership_for(user, scene.project.team_id)


def require(membership: Membership, ability: str) -> None:
    """Raise 403 unless the member's role grants `ability` (a key of projects.models.teams.ABILITIES)."""
    if not membership.can(ability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot {ability}.")

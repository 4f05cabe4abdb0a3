"""One place that scopes every lookup to the requesting user's teams.

Another team's object is indistinguishable from a missing one: 404. Each `get_<thing>_for`
returns the object and the user's membership of its team, so a view can go on with
`require(membership, ability)`; views do not write these lookups themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from generation.models import (
    ComfyWorkflow,
    ConnectionKind,
    Export,
    ProviderConnection,
    ReconciliationRun,
    Render,
)
from projects.models import (
    Character,
    Comment,
    DialogueLine,
    Invitation,
    Membership,
    Notification,
    Project,
    ReviewRoom,
    Scene,
    Team,
)


class AuthedRequest(HttpRequest):
    """A request to a view behind `login_required`: its user has signed in. (For the type checker,
    which otherwise sees an anonymous user possible on every request.)"""

    user: User


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


def get_line_for(user, scene_pk, pk) -> tuple[Scene, DialogueLine | None, Membership]:
    """A scene of one of the user's teams and one of its lines, None when that line is gone (a teammate
    deleted it: the page says so, and keeps what was typed)."""
    scene, membership = get_scene_for(user, scene_pk)
    line = DialogueLine.objects.select_related("character", "updated_by").filter(scene=scene, pk=pk).first()
    if line is not None:
        line.scene = scene
    return scene, line, membership


def get_take_for(user, pk) -> tuple[Render, Membership]:
    take = get_object_or_404(
        Render.objects.on_board().select_related("scene__project__team", "created_by", "connection"),
        pk=pk, scene__project__team__memberships__user=user,
    )
    return take, membership_for(user, take.scene.project.team_id)


def trashed_take_for(user, pk) -> Render | None:
    """A take of one of the user's teams whose scene waits in the project's trash (None otherwise): a link to it
    (an inbox entry, an email) can then say where it went instead of a bare 404. Another team's take stays
    indistinguishable from a missing one."""
    return (Render.objects.filter(pk=pk, scene__trashed_at__isnull=False,
                                  scene__project__team__memberships__user=user)
            .select_related("scene__project").first())


def get_comment_for(user, pk) -> tuple[Comment, Membership]:
    comment = get_object_or_404(
        Comment.objects.select_related("take__scene__project", "author"),
        pk=pk, take__scene__project__team__memberships__user=user, take__scene__trashed_at__isnull=True,
    )
    return comment, membership_for(user, comment.take.scene.project.team_id)


def get_room_for(user, pk) -> tuple[ReviewRoom, Membership]:
    """A review room of the user's team, on takes still on the board and not withheld from them (a room on Play all
    watches no one take: the page shows what Play all shows the user)."""
    room = get_object_or_404(
        ReviewRoom.objects.select_related("project__team", "take__scene__project", "take__created_by", "presenter",
                                          "other_take__scene"),
        Q(take__isnull=True, kind=ReviewRoom.Kind.PLAY_ALL) | Q(take__scene__trashed_at__isnull=True),
        pk=pk, project__team__memberships__user=user,
    )
    if any(take is not None and take.is_withheld_from(user) for take in (room.take, room.other_take)):
        raise Http404("This take is withheld.")
    return room, membership_for(user, room.project.team_id)


def get_export_for(user, pk) -> tuple[Export, Membership]:
    export = get_object_or_404(
        Export.objects.select_related("project__team", "created_by"),
        pk=pk, project__team__memberships__user=user,
    )
    return export, membership_for(user, export.project.team_id)


def get_connection_for(user, team_pk, pk, *, kind: str | None = None) -> tuple[ProviderConnection, Membership]:
    """A provider connection of a team the user belongs to (of `kind`, when given)."""
    membership = membership_for(user, team_pk)
    lookup = {"kind": kind} if kind else {}
    return get_object_or_404(ProviderConnection, pk=pk, team_id=team_pk, **lookup), membership


def get_comfy_connection_for(user, team_pk, pk) -> tuple[ProviderConnection, Membership]:
    """The team's ComfyUI connection, for its owners: 404 for other teams, 403 for other roles."""
    connection, membership = get_connection_for(user, team_pk, pk, kind=ConnectionKind.COMFYUI)
    require(membership, "manage")
    return connection, membership


def get_character_for(user, pk, *, queryset=None) -> tuple[Character, Membership | None]:
    """A character of one of the user's teams, or one depicting the user (even after they left:
    the person may always open it and revoke). The membership is None for such a former member."""
    member_teams = Team.objects.filter(memberships__user=user)
    character = get_object_or_404(
        Character.objects if queryset is None else queryset, Q(team__in=member_teams) | Q(person=user), pk=pk,
    )
    membership = Membership.objects.filter(team=character.team_id, user=user).select_related("team").first()
    return character, membership


def get_member_for(membership: Membership, pk) -> Membership:
    """Another member of `membership`'s team (an owner setting their cap)."""
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, team_id=membership.team_id)


def get_workflow_for(connection: ProviderConnection, pk) -> ComfyWorkflow:
    """A ComfyUI workflow uploaded to this connection (which get_comfy_connection_for scoped)."""
    return get_object_or_404(ComfyWorkflow.objects.select_related("catalog_model"), pk=pk,
                             connection=connection, team_id=connection.team_id)


def get_reconciliation_for(membership: Membership, pk) -> ReconciliationRun:
    return get_object_or_404(ReconciliationRun.objects.select_related("created_by"), pk=pk,
                             team_id=membership.team_id)


def get_notification_for(user, pk) -> Notification:
    """The user's own notification: someone else's is not found, like anything not theirs."""
    return get_object_or_404(Notification.objects.visible_to(user).select_related("team", "actor"), pk=pk)


def get_invitation(token) -> Invitation:
    """An invitation by its token: the token is the capability (the invitee is not a member yet)."""
    return get_object_or_404(Invitation.objects.select_related("team"), token=token)


def can_create_team(user) -> bool:
    """Whether `user` may start a team (and so own its provider connections): TEAM_CREATION decides."""
    return settings.TEAM_CREATION == "anyone" or bool(user.is_staff)


def require_team_creation(user) -> None:
    """Raise 403, in words, when the operator keeps creating teams to the studio's staff."""
    if not can_create_team(user):
        raise PermissionDenied(_("On this studio only its staff create teams. Ask a team owner to invite you."))


# What the 403 page says to a role without the ability: a whole sentence per ability of ABILITIES.
REFUSED = {
    "edit": gettext_lazy("Your role (%(role)s) cannot edit."),
    "review": gettext_lazy("Your role (%(role)s) cannot review."),
    "comment": gettext_lazy("Your role (%(role)s) cannot comment."),
    "start_export": gettext_lazy("Your role (%(role)s) cannot start exports."),
    "manage": gettext_lazy("Your role (%(role)s) cannot manage the team."),
}


def require(membership: Membership, ability: str) -> None:
    """Raise 403 unless the member's role grants `ability` (a key of projects.models.teams.ABILITIES)."""
    if not membership.can(ability):
        raise PermissionDenied(str(REFUSED[ability] % {"role": membership.get_role_display()}))

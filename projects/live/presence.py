"""Who has a project open, and which scene each of them is editing.

A row per open page, written when its live stream opens, refreshed by the
stream's keep-alive and deleted when it closes; a row whose stream died with
its process fades after LIVE_PRESENCE_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from projects.live import ChangeKind, live_publish
from projects.models import Membership, Presence, Project, Scene

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from projects.models import Project



@dataclass(frozen=True)
class Present:
    user_id: int
    name: str
    initials: str
    editing: tuple[int, ...]  # scene ids


def presence_join(*, project_id: int, user_id: int, client: str, stream: str = "") -> None:
    """The page's stream opened. A reconnect keeps what the page said it is editing."""
    Presence.objects.update_or_create(project_id=project_id, client=client, user_id=user_id,
                                      defaults={"stream": stream, "seen_at": timezone.now()})
    _presence_changed(project_id, user_id)


def presence_beat(*, project_id: int, user_id: int, client: str, stream: str = "") -> bool:
    """Keep the page present; False when the user may no longer see the project (ends the stream)."""
    if not Membership.objects.filter(user_id=user_id, team__projects=project_id).exists():
        return False
    # An upsert: a sweep may have dropped the row while this page was busy but alive.
    _, created = Presence.objects.update_or_create(project_id=project_id, client=client, user_id=user_id,
                                                   defaults={"stream": stream, "seen_at": timezone.now()})
    if created:
        _presence_changed(project_id, user_id)
    return True


def presence_leave(*, project_id: int, user_id: int, client: str, stream: str = "") -> None:
    """The stream ended. Only its own row goes: the page's next stream may already have joined."""
    if Presence.objects.filter(project_id=project_id, client=client, stream=stream).delete()[0]:
        _presence_changed(project_id, user_id)


def _presence_changed(project_id: int, user_id: int) -> None:
    project = Project.objects.filter(pk=project_id).only("pk", "team_id").first()
    if project is not None:
        live_publish(kind=ChangeKind.PRESENCE, project=project, data={"user": user_id})


def team_beat(*, team_id: int, user_id: int) -> bool:
    return Membership.objects.filter(user_id=user_id, team_id=team_id).exists()


@dataclass(frozen=True)
class OpenPage:
    """What the keep-alive needs of an open page: what it watches, as whom, and its presence row."""

    channel: tuple[str, int]  # ("project", id) or ("team", id)
    user_id: int
    role: str
    client: str = ""
    stream: str = ""


def presence_beat_all(*, pages: list[OpenPage]) -> set[OpenPage]:
    """The keep-alive of every open page of a web process at once, in a few queries however many:
    the pages whose person may still watch their channel in the role they opened it with (the
    others end, and reconnect as they now may), each such project page marked present again (its
    row made anew if a sweep dropped it while the page was busy but alive)."""
    if not pages:
        return set()
    roles: dict[tuple[int, int | None], str] = {(user, team): role for user, team, role in Membership.objects.filter(
        user_id__in={page.user_id for page in pages}).values_list("user_id", "team_id", "role")}
    team_of = dict(Project.objects.filter(pk__in={page.channel[1] for page in pages if page.channel[0] == "project"})
                   .values_list("pk", "team_id"))

    def team(page: OpenPage) -> int | None:
        kind, key = page.channel
        return team_of.get(key) if kind == "project" else key

    still = {page for page in pages if roles.get((page.user_id, team(page))) == page.role}
    present = [page for page in still if page.channel[0] == "project" and page.stream]
    now, found = timezone.now(), set[str]()
    for start in range(0, len(present), 500):
        streams = [page.stream for page in present[start:start + 500]]
        if Presence.objects.filter(stream__in=streams).update(seen_at=now) < len(streams):
            found.update(Presence.objects.filter(stream__in=streams).values_list("stream", flat=True))
        else:
            found.update(streams)
    for page in present:
        if page.stream not in found:
            presence_beat(project_id=page.channel[1], user_id=page.user_id, client=page.client, stream=page.stream)
    return still



def presence_editing(*, project: Project, user: User, client: str, scene_id: int | None) -> None:
    """A page says which scene its user is editing (or none). A scene of another project counts as none.
    An upsert: the page may say this before its stream's first join, or between two streams."""
    if scene_id and not Scene.objects.filter(pk=scene_id, project=project).exists():
        scene_id = None
    row, created = Presence.objects.get_or_create(project=project, client=client, user=user,
                                                  defaults={"editing_scene_id": scene_id, "seen_at": timezone.now()})
    changed = created or row.editing_scene_id != scene_id
    if not created and changed:
        Presence.objects.filter(pk=row.pk).update(editing_scene_id=scene_id, seen_at=timezone.now())
    if changed:
        live_publish(kind=ChangeKind.PRESENCE, project=project, actor=user, data={"user": user.pk})


def presence_for(*, project_id: int) -> list[Present]:
    """Everyone with the project open now, once each, with the scenes they are editing."""
    fresh = timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_SECONDS)
    rows = Presence.objects.filter(project_id=project_id, seen_at__gte=fresh).select_related("user").order_by(
        "user__username", "pk")
    people: dict[int, Present] = {}
    for row in rows:
        user = row.user
        known = people.get(user.pk)
        editing = (known.editing if known else ()) + ((row.editing_scene_id,) if row.editing_scene_id else ())
        name = user.get_full_name() or user.get_username()
        initials = "".join(part[0] for part in name.split()[:2]).upper() or "?"
        people[user.pk] = Present(user_id=user.pk, name=name, initials=initials, editing=editing)
    return list(people.values())


def editing_map(present: list[Present]) -> dict[int, list[dict[str, Any]]]:
    """scene id → who is editing it ({"id": user id, "name": name}). One list goes to every page of the
    project: each page leaves out its own user (static/studio/live.js), nobody is told they edit."""
    result: dict[int, list[dict[str, Any]]] = {}
    for person in present:
        for scene_id in person.editing:
            result.setdefault(scene_id, []).append({"id": person.user_id, "name": person.name})
    return result


def presence_sweep() -> int:
    """Forget pages whose stream died without saying goodbye (a web process restarted); tell their boards."""
    stale = Presence.objects.filter(seen_at__lt=timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_SECONDS))
    projects = set(stale.values_list("project_id", flat=True))
    count = stale.delete()[0]
    for project in Project.objects.filter(pk__in=projects).only("pk", "team_id"):
        live_publish(kind=ChangeKind.PRESENCE, project=project)
    return count

"""The live channel: what changed on a project reaches every page that has it open.

`live_publish` records a change (in the caller's transaction) and, once it is
committed, wakes the web processes: over Redis pub/sub when Redis is
configured, else they notice the new row on their next read of the table. Each
web process runs one reader for all its open pages (`hub`), which draws each
change once per audience (a role, everyone, one person) and hands every page of
that audience the same bytes to write as Server-Sent Events (`stream`, `views`).

Any layer may publish (a worker finishing a take, a view saving a scene); only
the web layer renders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from projects.models import ChangeEvent, ChangeKind, Project, Scene

if TYPE_CHECKING:
    from typing import Any

    from django.contrib.auth.models import User

    from projects.models import Project


log = logging.getLogger(__name__)
_redis = None


def redis_channel(url: str) -> str:
    """The pub/sub channel of the studio whose Redis is `url`.

    Pub/sub is server-wide: it ignores the database number in the URL. The channel names the
    database, so studios sharing one Redis server on separate databases (staging beside
    production, parallel test workers) wake only their own readers."""
    from redis.connection import parse_url

    return f"studio:live:{parse_url(url).get('db', 0)}"  # type: ignore[no-untyped-call]  # redis-py leaves it bare


def live_publish(*, kind: str, project: Project | None = None, team_id: int | None = None, scene_id: int | None = None,
                 take_id: int | None = None, object_id: int | None = None, actor: User | None = None,
                 data: dict[str, Any] | None = None, recipient_id: int | None = None) -> ChangeEvent:
    """Record one change of `project` (or of a team, with team_id) and wake the readers after commit.

    `recipient_id`: a change for that person alone (their bell), delivered to their pages only."""
    if project is not None:
        team_id = project.team_id
    if team_id is None:
        raise ValueError("A change belongs to a project or a team: give one.")
    event = ChangeEvent.objects.create(
        team_id=team_id, project=project, kind=kind, scene_id=scene_id, take_id=take_id, object_id=object_id,
        actor=actor if getattr(actor, "pk", None) else None, data=data or {}, recipient_id=recipient_id,
    )
    transaction.on_commit(lambda: wake(event.pk))
    return event


def live_publish_many(changes: list[dict[str, Any]]) -> None:
    """Several changes in one INSERT (a batch of takes booked together); each dict as live_publish's arguments."""
    events = []
    for change in changes:
        project = change.pop("project")
        actor = change.pop("actor", None)
        events.append(ChangeEvent(team_id=project.team_id, project=project,
                                  actor=actor if getattr(actor, "pk", None) else None, **change))
    if events:
        created = ChangeEvent.objects.bulk_create(events)
        newest = max((e.pk or 0) for e in created)
        transaction.on_commit(lambda: wake(newest))


def live_publish_for_scene(*, kind: str, scene_id: int, **fields: Any) -> ChangeEvent | None:
    """Like live_publish, for callers that hold only a scene id (a worker moving a take)."""
    row = Scene.objects.filter(pk=scene_id).values_list("project_id", "project__team_id").first()
    if row is None:
        return None  # the scene was deleted meanwhile: its frame is gone from every board
    project_id, team_id = row
    event = ChangeEvent.objects.create(team_id=team_id, project_id=project_id, kind=kind, scene_id=scene_id,
                                       **fields)
    transaction.on_commit(lambda: wake(event.pk))
    return event


def live_publish_for_project(*, kind: str, project_id: int, **fields: Any) -> ChangeEvent | None:
    """Like live_publish, for callers that hold only a project id (a worker running an export)."""
    team_id = Project.objects.filter(pk=project_id).values_list("team_id", flat=True).first()
    if team_id is None:
        return None
    event = ChangeEvent.objects.create(team_id=team_id, project_id=project_id, kind=kind, **fields)
    transaction.on_commit(lambda: wake(event.pk))
    return event


def changes_prune(*, older_than_hours: float = 24) -> int:
    """Drop changes older than a day: a page away longer than that reloads instead of replaying."""
    from datetime import timedelta

    from django.utils import timezone

    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    newest_old = ChangeEvent.objects.filter(at__lt=cutoff).order_by("-id").values_list("id", flat=True).first()
    return ChangeEvent.objects.filter(id__lte=newest_old).delete()[0] if newest_old else 0


# This process's reader (the hub, once it runs): a change made here wakes it at once, whichever way the others
# are woken. Without Redis, the pages this process serves then get a change in the time it takes to draw it,
# not at its next read of the table (a review room's followers are told where the presenter is within 250 ms).
_local_readers: list[Callable[[], object]] = []


def live_reader_add(nudge: Callable[[], object]) -> None:
    """`nudge()` is called on every change this process makes (after its commit)."""
    _local_readers.append(nudge)


def wake(event_id: int) -> None:
    """Tell every web process's reader that there is something new to read."""
    global _redis
    for nudge in _local_readers:
        nudge()
    url = settings.LIVE_REDIS_URL
    if not url:
        return  # the embedded default: readers poll the table
    try:
        if _redis is None:
            import redis

            _redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        _redis.publish(redis_channel(url), str(event_id))
    except Exception as exc:  # the change is saved; readers find it on their next safety read
        log.warning("live: could not publish event %s: %s", event_id, exc)


__all__ = ["ChangeKind", "live_publish", "live_publish_for_project", "live_publish_for_scene",
           "live_publish_many"]

"""The project's activity feed: one line per thing that happened, for the feed page, the render
digest and the audit trail. Writers in every domain call `record`; takes are entered here as they
are booked (`on_renders_started`) and when they settle (`on_take_settled`, the receiver of
`generation.models.take_settled`)."""

from __future__ import annotations

from generation.models import Status
from projects.activity import notifications
from projects.live import ChangeKind, live_publish_many
from projects.models import Activity, ActivityKind, Scene


def record(*, project, kind: str, text: str, actor=None, actor_name: str = "", scene=None, take=None) -> Activity:
    return Activity.objects.create(
        project=project, kind=kind, text=text[:500], actor=actor, actor_name=actor_name[:120],
        scene=scene, take=take,
    )


# --- Renders, as the feed and their authors see them ------------------------------------------


def on_render_started(take) -> None:
    on_renders_started([take])


def on_renders_started(takes) -> None:
    """Feed entries for takes booked together (one INSERT), and each one's frame on the live boards."""
    for user_id in {take.created_by_id for take in takes if take.created_by_id}:
        notifications.address_remember(user_id=user_id)
    Activity.objects.bulk_create([
        Activity(project=take.scene.project, kind=ActivityKind.RENDER_STARTED, actor=take.created_by,
                 scene=take.scene, take=take, text=f"started take {take.number} of {take.scene.title} on {take.model}"[:500])
        for take in takes
    ])
    live_publish_many([
        dict(kind=ChangeKind.TAKE_QUEUED, project=take.scene.project, scene_id=take.scene_id, take_id=take.pk,
             actor=take.created_by)
        for take in takes
    ])


def on_take_settled(sender, render, **kwargs) -> None:
    if render.status not in {Status.SUCCEEDED, Status.FAILED}:
        return
    # The worker that settled the take has usually loaded its scene and project already.
    scene = render.scene if type(render).scene.is_cached(render) else \
        Scene.all_objects.select_related("project").get(pk=render.scene_id)  # in the trash, too
    if render.status == Status.SUCCEEDED:
        kind, what = ActivityKind.RENDER_FINISHED, "finished"
    else:
        kind, what = ActivityKind.RENDER_FAILED, "failed"
    detail = f": {render.error_message[:200]}" if render.status == Status.FAILED and render.error_message else ""
    if render.billing_unconfirmed:  # not plainly "failed": the provider may have made and billed it
        what, detail = "is unconfirmed", f": {render.error_message[:400]}"
    record(project=scene.project, kind=kind, scene=scene, take=render,
           text=f"take {render.number} of {scene.title} {what}{detail}")
    notifications.render_settled(render)  # the author's digest, from the feed entries

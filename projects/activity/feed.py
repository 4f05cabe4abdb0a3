"""The project's activity feed: one line per thing that happened, for the feed page, the render
digest and the audit trail. Writers in every domain call `record`; takes are entered here as they
are booked (`on_renders_started`) and when they settle (`on_take_settled`, the receiver of
`generation.models.take_settled`)."""

from __future__ import annotations

from generation.models import Status
from generation.words import Said, english, said, stored
from projects.activity import notifications
from projects.live import ChangeKind, live_publish_many
from projects.models import Activity, ActivityKind, Scene


def record(*, project, kind: str, text: str | Said, actor=None, actor_name: str = "", scene=None,
           take=None) -> Activity:
    """A line of the feed. Given as `Said` (generation.words), each reader reads it in their own language
    (Activity.said); the English is kept as its text either way."""
    return Activity.objects.create(
        project=project, kind=kind, actor=actor, actor_name=actor_name[:120], scene=scene, take=take,
        **_line(text))


def _line(text: str | Said) -> dict:
    if isinstance(text, Said):
        return {"text": english(text)[:500], "words": stored(text)}
    return {"text": text[:500]}


# --- Renders, as the feed and their authors see them ------------------------------------------


def on_render_started(take) -> None:
    on_renders_started([take])


def on_renders_started(takes) -> None:
    """Feed entries for takes booked together (one INSERT), and each one's frame on the live boards."""
    for user_id in {take.created_by_id for take in takes if take.created_by_id}:
        notifications.address_remember(user_id=user_id)
    Activity.objects.bulk_create([
        Activity(project=take.scene.project, kind=ActivityKind.RENDER_STARTED, actor=take.created_by,
                 scene=take.scene, take=take,
                 **_line(said("feed.render_started", number=take.number, scene=take.scene.title, model=take.model)))
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
    words = {"number": render.number, "scene": scene.title}
    # Why it failed, as the take keeps it: its code (said in the reader's language) or its stored sentence.
    why: str | Said = (Said.load(render.error_words[0]) if len(render.error_words or []) == 1
                       else render.error_message[:400])
    if render.status == Status.SUCCEEDED:
        kind, line = ActivityKind.RENDER_FINISHED, said("feed.render_finished", **words)
    elif render.billing_unconfirmed:  # not plainly "failed": the provider may have made and billed it
        kind, line = ActivityKind.RENDER_FAILED, said("feed.render_unconfirmed", **words, why=why)
    elif render.error_message:
        kind, line = ActivityKind.RENDER_FAILED, said("feed.render_failed_why", **words, why=why)
    else:
        kind, line = ActivityKind.RENDER_FAILED, said("feed.render_failed", **words)
    record(project=scene.project, kind=kind, scene=scene, take=render, text=line)
    notifications.render_settled(render)  # the author's digest, from the feed entries

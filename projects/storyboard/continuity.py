"""Continuity settings of a scene: what its takes start from and end on.

A scene starts from its own reference image, or from a frame of the scene before it (the last frame
of that scene's followed take, or a take and frame chosen in the player); it ends wherever the model
takes it, on an uploaded image, or on the first frame of the scene after it. Turning these into frames
is the takes' business (generation/renders/continuity.py); here they are only chosen and recorded.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from generation.models import Render
from generation.storage.reference import ReferenceError, verified_name
from generation.words import listed, said
from projects.live import ChangeKind, live_publish
from projects.models import EndOn, Scene, StartFrom
from projects.storyboard.services import _feed, _stale_after


def scene_set_continuity(*, scene: Scene, user, start_from: str, end_on: str, end_image=None,
                         follow: bool = False) -> Scene:
    """Choose what the scene's takes start from and end on. `follow`: forget a take chosen in the player
    and start from the previous scene's followed take again. An end image is verified like a reference
    image and kept under the name Pillow's detection gives it."""
    if start_from not in StartFrom.values:
        raise ValidationError(gettext("Choose what the scene starts from."))
    if end_on not in EndOn.values:
        raise ValidationError(gettext("Choose what the scene ends on."))
    if end_image is not None:
        try:
            name = verified_name(end_image, stem="end")
        except ReferenceError as exc:
            raise ValidationError(str(exc))
        scene.end_image.save(name, end_image, save=False)
    if end_on == EndOn.IMAGE and not scene.end_image:
        raise ValidationError(gettext("Upload the image scene %(scene)d ends on.") % {"scene": scene.number})
    before = (scene.start_from, scene.start_take_id, scene.start_frame)
    if start_from != StartFrom.PREVIOUS or follow:
        scene.start_take, scene.start_frame = None, None
    changed = []
    if (start_from, scene.start_take_id, scene.start_frame) != before:
        changed.append("start_frame")
    if end_on != scene.end_on or end_image is not None:
        changed.append("end_frame")
    return _save(scene, user, changed, start_from=start_from, end_on=end_on)


def scene_start_from_frame(*, take: Render, frame: int | None, user) -> Scene:
    """ "Use this frame as the start of scene N+1": the scene after the take's starts from frame `frame`
    of it (None: its last frame). Returns that scene."""
    scene = take.scene
    if not take.is_watchable or not take.video:
        raise ValidationError(gettext("Only a finished take that is not withheld can give a scene its start frame."))
    following = (Scene.objects.filter(project_id=scene.project_id, position__gt=scene.position)
                 .order_by("position", "pk").first())
    if following is None:
        raise ValidationError(gettext("Scene %(scene)d is the last scene: there is no scene after it to start from "
                                      "this frame. Add a scene first.") % {"scene": scene.number})
    count = _frame_count(take)
    if frame is not None and count and frame >= count:
        raise ValidationError(gettext("Take %(take)d has %(count)d frames (0 to %(last)d): frame %(frame)d is past "
                                      "its end.") % {"take": take.number, "count": count, "last": count - 1,
                                                     "frame": frame})
    following.start_take, following.start_frame = take, frame
    return _save(following, user, ["start_frame"], start_from=StartFrom.PREVIOUS, end_on=following.end_on)


def _frame_count(take: Render) -> int:
    """How many frames the take has, from its probed length and rate (0 when unknown)."""
    return int(round((take.duration_seconds or 0) * take.frame_rate)) if take.duration_seconds else 0


def _save(scene: Scene, user, changed: list[str], *, start_from: str, end_on: str) -> Scene:
    with transaction.atomic():
        Scene.objects.filter(pk=scene.pk).update(
            start_from=start_from, start_take=scene.start_take_id, start_frame=scene.start_frame, end_on=end_on,
            end_image=scene.end_image.name or "", version=F("version") + 1, updated_by=user,
            updated_at=timezone.now(), approval_stale_fields=_stale_after(scene, changed))
        scene.refresh_from_db()
        if changed:
            words = listed([said("field.start_frame" if c == "start_frame" else "field.end_frame") for c in changed],
                           last="list.and")
            _feed(scene.project, "scene_edited", user, said("feed.edited", scene=scene.title, what=words), scene=scene)
        live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk, actor=user,
                     data={"fields": changed, "version": scene.version})
    return scene

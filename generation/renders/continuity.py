"""Continuity between shots: which frame a take starts from and ends on, taken from its neighbours.

A scene starts from its own reference image (image-to-video, as before), or from a frame of the
scene before it: the last frame of that scene's followed take (its approved take, else its newest
finished one), or a take and frame chosen in the player. It can end on an uploaded image, or on
the first frame of the next scene's followed take, where the model takes an end frame.

Frames are decoded exactly (generation/storage/frames.py), kept once per take and frame, fitted
to the take's size with the reference image's crop/pad rule when the take is sent, and named in
the take's recipe; the studio's manifest lists each as an ingredient. Whoever a frame's take
shows travels with it: the new take casts them too, so consent is checked for them at booking
and at submit, and revoking withholds both takes.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext, gettext_lazy

from generation.models import Render, Status
from generation.storage import frames, reference
from projects.models import Character, EndOn, Scene, StartFrom

log = logging.getLogger(__name__)


def followed_take_id(approved_take_id: int | None, takes: list[tuple[int, bool]]) -> int | None:
    """The take a neighbour's frame comes from: the approved one when it may be watched, else the newest
    that may. `takes`: (id, watchable) pairs, newest first. One rule for booking and for the board."""
    watchable = [pk for pk, ok in takes if ok]
    if approved_take_id in watchable:
        return approved_take_id
    return watchable[0] if watchable else None


def source_key(take_id: int, frame: int | None, *, role: str = "start") -> str:
    """What a take recorded it started from (or ended on): a change of it flags the scene."""
    which = frame if frame is not None else ("last" if role == "start" else 0)
    return f"{take_id}/{which}"


@dataclass(frozen=True)
class Source:
    """A frame a take starts from or ends on: of a take (frame None: its last), or an uploaded image."""

    role: str  # "start" | "end"
    kind: str  # "take" | "image"
    take: Render | None = None
    frame: int | None = None
    chosen: bool = False  # a take and frame chosen in the player
    image: str = ""

    @property
    def of_take(self) -> Render:
        """The take a "take" source is a frame of."""
        if self.take is None:
            raise ValueError(f"a {self.kind} source has no take")
        return self.take

    @property
    def key(self) -> str:
        if self.kind == "image":
            return f"image:{self.image}"
        return source_key(self.of_take.pk, self.frame, role=self.role)

    @property
    def words(self) -> str:
        if self.kind == "image":
            return gettext("an image")
        take = self.of_take
        names = {"scene": take.scene.number, "take": take.number, "frame": self.frame}
        if self.frame is None:
            return gettext("the last frame of scene %(scene)d, take %(take)d") % names
        if self.frame == 0 and self.role == "end":
            return gettext("the first frame of scene %(scene)d, take %(take)d") % names
        return gettext("frame %(frame)d of scene %(scene)d, take %(take)d") % names


def _followed_take(scene: Scene) -> Render | None:
    rows = (Render.objects.filter(scene=scene).order_by("-created_at", "-pk")
            .values_list("pk", "status", "quarantined_at", "video"))
    pk = followed_take_id(scene.approved_take_id,
                          [(p, status == Status.SUCCEEDED and quarantined is None and bool(video))
                           for p, status, quarantined, video in rows])
    return Render.objects.select_related("scene").get(pk=pk) if pk else None


def _neighbour(scene: Scene, *, after: bool) -> Scene | None:
    scenes = Scene.objects.filter(project_id=scene.project_id)
    if after:
        return scenes.filter(position__gt=scene.position).order_by("position", "pk").first()
    return scenes.filter(position__lt=scene.position).order_by("-position", "-pk").first()


def _usable(take: Render, *, scene: Scene) -> None:
    """A frame is taken only from a finished take of the same project that anyone on the team may watch."""
    names = {"take": take.number, "scene": take.scene.number, "this": scene.number}
    if take.scene.project_id != scene.project_id:
        raise ValidationError(gettext("That take belongs to another project."))
    if take.quarantined_at is not None:
        raise ValidationError(gettext(
            "Scene %(this)d would start from take %(take)d of scene %(scene)d, which is withheld (%(reason)s): "
            "its frames cannot be used. Choose another take in the player, or start the scene from its own "
            "reference image.") % {**names, "reason": take.quarantine_reason or gettext("consent revoked")})
    if take.status != Status.SUCCEEDED or not take.video:
        raise ValidationError(gettext(
            "Take %(take)d of scene %(scene)d has not finished: a frame is taken only from a finished take.")
            % names)


def start_source(scene: Scene, *, previous: bool = False) -> Source | None:
    """The frame a take of `scene` starts from, when it starts from another take (None: its own reference
    image, or words only). ValidationError, in words, when that frame cannot be had. `previous`: from the last
    frame of the scene before, whatever the scene says (a scene of a multi-shot take rendered on its own)."""
    if scene.start_from != StartFrom.PREVIOUS and not previous:
        return None
    if scene.start_take_id and not previous:
        take = Render.objects.select_related("scene").filter(pk=scene.start_take_id).first()
        if take is None:
            raise ValidationError(gettext("The take chosen to start scene %(scene)d from was deleted: choose "
                                          "another frame in the player.") % {"scene": scene.number})
        _usable(take, scene=scene)
        return Source("start", "take", take, frame=scene.start_frame, chosen=True)
    before = _neighbour(scene, after=False)
    if before is None:
        raise ValidationError(gettext("Scene %(scene)d is the first scene: there is no scene before it to start "
                                      "from. Start it from its own reference image.") % {"scene": scene.number})
    take = _followed_take(before)
    if take is None:
        raise ValidationError(gettext(
            "Scene %(previous)d has no finished take to start from yet: render one (and approve it), or start "
            "scene %(scene)d from its own reference image.") % {"previous": before.number, "scene": scene.number})
    return Source("start", "take", take)


def end_source(scene: Scene) -> Source | None:
    """The frame a take of `scene` ends on (None: wherever the model takes it)."""
    if scene.end_on == EndOn.IMAGE:
        if not scene.end_image:
            raise ValidationError(gettext("Scene %(scene)d ends on an image, but none was uploaded: upload one, or "
                                          "choose what it ends on.") % {"scene": scene.number})
        return Source("end", "image", image=scene.end_image.name or "")
    if scene.end_on != EndOn.NEXT:
        return None
    following = _neighbour(scene, after=True)
    if following is None:
        raise ValidationError(gettext("Scene %(scene)d is the last scene: there is no scene after it to end on.")
                              % {"scene": scene.number})
    take = _followed_take(following)
    if take is None:
        raise ValidationError(gettext(
            "Scene %(next)d has no finished take to end on yet: render one (and approve it), or end scene "
            "%(scene)d otherwise.") % {"next": following.number, "scene": scene.number})
    return Source("end", "take", take, frame=0)


@dataclass(frozen=True)
class StoredFrame:
    name: str
    index: int


def stored_frame(take: Render, frame: int | None) -> StoredFrame:
    """The take's frame `frame` (None: its last), decoded once and kept; ValueError when it cannot be."""
    project = take.scene.project
    name = frames.stored_name(team_id=project.team_id, project_id=project.pk, take_id=take.pk, index=frame)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as kept:
            index = frames.index_of(kept.read())
        if index is not None:
            return StoredFrame(name, index)
    with take.video.open("rb") as video:
        extracted = frames.extract(video, index=frame)
    saved = default_storage.save(name, ContentFile(extracted.png))
    if saved != name:  # another request kept the same frame meanwhile: the bytes are the same
        default_storage.delete(saved)
    return StoredFrame(name, extracted.index)


def fitted(name: str, *, size: str, fit: str) -> bytes:
    """A kept frame or image fitted to `size` as every provider gets it (the reference image's rule)."""
    with default_storage.open(name, "rb") as original:
        return reference.fit(original, size=size, mode=fit)


@dataclass
class Frames:
    """What a take of a scene starts from and ends on, for its recipe; and whom those frames show."""

    entries: dict[str, Any] = field(default_factory=dict)  # "start_frame" / "end_frame" → recipe entry
    sources: dict[str, Any] = field(default_factory=dict)  # "start" / "end" → Source
    carried: list[Any] = field(default_factory=list)  # Characters the frames' takes cast
    problems: list[Any] = field(default_factory=list)


def recipe_frames(scene: Scene, *, roles: tuple[str, ...] = ("start", "end"), start_previous: bool = False) -> Frames:
    """Resolve, decode and describe the scene's start and end frames (those of `roles`); every reason they
    cannot be had is a problem in words (nothing is booked with a frame it could not show). `start_previous`:
    start from the last frame of the scene before, whatever the scene says."""
    result = Frames()
    for role, resolve in (("start", lambda s: start_source(s, previous=start_previous)), ("end", end_source)):
        if role not in roles:
            continue
        try:
            source = resolve(scene)
        except ValidationError as exc:
            result.problems += exc.messages
            continue
        if source is None:
            continue
        try:
            entry = _entry(source, scene)
        except (ValueError, OSError) as exc:
            log.warning("scene %s: the %s frame could not be read: %s", scene.pk, role, exc)
            result.problems.append(gettext("The %(role)s frame (%(words)s) could not be read: re-render that take, "
                                           "or choose another frame.") % {"role": gettext(role), "words": source.words})
            continue
        result.entries[f"{role}_frame"] = entry
        result.sources[role] = source
        if source.take is not None:
            result.carried += [c for c in source.take.characters.all() if c not in result.carried]
    return result


def _entry(source: Source, scene: Scene) -> dict[str, Any]:
    if source.kind == "image":
        with default_storage.open(source.image, "rb") as image:
            digest = hashlib.sha256(image.read()).hexdigest()
        return {"source": "image", "key": source.key, "original": source.image, "fit": scene.reference_fit,
                "sha256": digest}
    take = source.of_take
    kept = stored_frame(take, source.frame)
    with default_storage.open(kept.name, "rb") as png:
        digest = hashlib.sha256(png.read()).hexdigest()
    return {
        "source": "take", "key": source.key,
        "scene": {"id": take.scene_id, "number": take.scene.number, "title": take.scene.title},
        "take": {"id": take.pk, "number": take.number},
        "frame": kept.index, "last": source.frame is None, "chosen": source.chosen,
        "original": kept.name, "fit": scene.reference_fit, "sha256": digest,
        "cast": sorted(take.characters.values_list("pk", flat=True)),
    }


def carried_cast(recipe: dict[str, Any]) -> list[int]:
    """Ids of the people the recipe's frames show (their takes' cast), and those of the take it extends (its
    clip is the extension's first part), in order, each once."""
    ids = []
    for role in ("start_frame", "end_frame", "extend_of"):
        ids += [pk for pk in (recipe.get(role) or {}).get("cast", []) if pk not in ids]
    return ids


def carried_refusal(character: Character, recipe: dict[str, Any], problem: str) -> str:
    """ "The start frame (scene 1, take 2) shows Anna: Anna has revoked consent." — a whole sentence for each
    way a take carries someone in."""
    words = {"name": character.name, "problem": problem}
    for role, sentence in (
            ("start_frame", gettext_lazy("The start frame (scene %(scene)s, take %(take)s) shows %(name)s: "
                                         "%(problem)s")),
            ("end_frame", gettext_lazy("The end frame (scene %(scene)s, take %(take)s) shows %(name)s: %(problem)s")),
            ("extend_of", gettext_lazy("The extended take (scene %(scene)s, take %(take)s) shows %(name)s: "
                                       "%(problem)s"))):
        entry = recipe.get(role) or {}
        if character.pk in entry.get("cast", []):
            return str(sentence % {**words, "scene": entry["scene"]["number"], "take": entry["take"]["number"]})
    return gettext("%(name)s: %(problem)s") % words

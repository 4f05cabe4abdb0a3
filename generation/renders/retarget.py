"""Moving scenes to another model: first what would change per scene, then one click saves it.

A scene "uses" the model chosen for it (Scene.target_*), else the model of its latest take. The
plan maps each scene's size and length to the nearest the new model renders (same shape first,
then the closest area; the closest length, the longer one on a tie), says when the reference
image will be re-fitted to a new size (takes fit the kept original to their size, see
generation.storage.reference.fit), and prices each scene on both models. Applying books nothing: it saves
the model, size and length on the scenes, refusing if any scene changed since the plan was shown.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from generation import catalog
from generation.models import CatalogModel, ProviderConnection, Render
from generation.words import said
from projects.activity.feed import record
from projects.inputs import parse_id
from projects.live import ChangeKind, live_publish
from projects.models import RevisionKind, Scene
from projects.models.storyboard import (
    MAX_SCENE_SECONDS,
    MIN_SCENE_SECONDS,
    RECIPE_FIELDS,
    SIZE_CHOICES,
)
from projects.storyboard.revisions import board_revision

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from projects.models import Project, Scene, Team


STUDIO_SIZES = [size for size, _ in SIZE_CHOICES]
CHANGED = gettext_lazy("Nothing was moved: scene %(number)s (%(title)s) changed since the plan was shown. Check "
                       "the plan again.")
CHANGED_ONE = gettext_lazy("Nothing was moved: a scene changed since the plan was shown. Check the plan again.")


def _shape(size: str) -> tuple[float, int]:
    width, height = (int(v) for v in size.split("x"))
    return width / height, width * height


def nearest_size(size: str, allowed: Collection[str]) -> str | None:
    """The size of `allowed` (and of the studio's sizes) closest to `size`: same shape first, then area."""
    candidates = [s for s in STUDIO_SIZES if s in allowed]
    if size in candidates or not candidates:
        return size if size in candidates else None
    ratio, area = _shape(size)
    return min(candidates, key=lambda s: (abs(math.log(_shape(s)[0] / ratio)), abs(math.log(_shape(s)[1] / area))))


def nearest_duration(seconds: int, allowed: Iterable[int]) -> int | None:
    """The length of `allowed` closest to `seconds`; on a tie the longer, so nothing is cut."""
    candidates = [d for d in allowed if MIN_SCENE_SECONDS <= d <= MAX_SCENE_SECONDS]
    return min(candidates, key=lambda d: (abs(d - seconds), -d)) if candidates else None


def with_used_model(scenes: QuerySet[Scene]) -> QuerySet[Scene]:
    """Scenes annotated with the connection and model of their latest take (two subqueries)."""
    latest = Render.objects.filter(scene=OuterRef("pk")).order_by("-created_at", "-pk")
    return scenes.annotate(last_connection_id=Subquery(latest.values("connection_id")[:1]),
                           last_model=Subquery(latest.values("model")[:1]))


def used_value(scene: Scene) -> str:
    """ "connection:model" the scene renders with now, or "" if it has none yet."""
    if scene.target_value:
        return scene.target_value
    last_connection = getattr(scene, "last_connection_id", None)  # annotated by with_used_model
    if last_connection:
        return f"{last_connection}:{getattr(scene, 'last_model', '')}"
    return ""


def describe(team: Team, values: Iterable[str]) -> dict[str, CatalogModel | None]:
    """Each "connection:model" value → its catalog entry (None if unknown), reading each model once."""
    connections = {c.pk: c for c in ProviderConnection.objects.filter(team=team)}
    described: dict[str, CatalogModel | None] = {}
    for value in set(values) - {""}:
        connection_pk, _, model_id = value.partition(":")
        pk = parse_id(connection_pk)
        connection = connections.get(pk) if pk is not None else None
        described[value] = catalog.resolve(connection, model_id) if connection else None
    return described


@dataclass
class Move:
    scene: Scene
    used: str  # "connection:model" now, "" for none
    used_name: str
    size: str | None  # after the move
    duration: int | None
    cost_before: Decimal | None  # None: the scene has no model yet, or an unknown one
    cost_after: Decimal = Decimal(0)
    problems: list[str] = field(default_factory=list)

    @property
    def size_changed(self) -> bool:
        return self.size != self.scene.size

    @property
    def duration_changed(self) -> bool:
        return self.duration != self.scene.duration

    @property
    def refits_reference(self) -> bool:
        return bool(self.scene.reference_image) and self.size_changed

    @property
    def difference(self) -> Decimal:
        return self.cost_after - (self.cost_before or Decimal(0))


@dataclass
class RetargetPlan:
    target: catalog.Target
    moves: list[Move] = field(default_factory=list)  # will move
    skipped: list[Move] = field(default_factory=list)  # each with its problems

    @property
    def total_before(self) -> Decimal:
        return sum((m.cost_before or Decimal(0) for m in self.moves), Decimal(0))

    @property
    def total_after(self) -> Decimal:
        return sum((m.cost_after for m in self.moves), Decimal(0))

    @property
    def difference(self) -> Decimal:
        return self.total_after - self.total_before

    @property
    def shown(self) -> str:
        """What Apply is allowed to change: each scene at the version the plan was made from."""
        return ",".join(f"{m.scene.pk}:{m.scene.version}" for m in self.moves)


def retarget_plan(*, team: Team, target: catalog.Target, scenes: Iterable[Scene]) -> RetargetPlan:
    """Per scene: the size and length it would get on `target`, what each costs, or why it can't move."""
    scenes = list(scenes)
    models = describe(team, [used_value(s) for s in scenes])
    plan, model = RetargetPlan(target=target), target.model
    for scene in scenes:
        used = used_value(scene)
        before = models.get(used)
        move = Move(scene=scene, used=used, size=nearest_size(scene.size, model.sizes),
                    duration=nearest_duration(scene.duration, model.durations),
                    used_name=before.display_name if before else ("an unknown model" if used else "no model yet"),
                    cost_before=catalog.cost_of(before, size=scene.size, seconds=scene.duration)
                    if before else None)
        if move.size is None:
            move.problems.append(gettext("%(model)s renders none of the studio's sizes.") % {
                "model": model.display_name})
        if move.duration is None:
            move.problems.append(gettext("%(model)s renders no length between %(shortest)s and %(longest)s "
                                         "seconds.") % {"model": model.display_name, "shortest": MIN_SCENE_SECONDS,
                                                        "longest": MAX_SCENE_SECONDS})
        move.problems += catalog.input_problems(model, scene)
        if used == target.value and not move.problems and not (move.size_changed or move.duration_changed):
            move.problems.append(gettext("Already on %(model)s.") % {"model": model.display_name})
        if move.size is not None and move.duration is not None and not move.problems:
            move.cost_after = catalog.cost_of(model, size=move.size, seconds=move.duration)
        (plan.skipped if move.problems else plan.moves).append(move)
    return plan


def parse_shown(value: str) -> list[tuple[int, int]]:
    """ "12:3,14:1" → [(12, 3), (14, 1)]; ValidationError for anything the plan could not have drawn."""
    pairs = []
    for part in (value or "").split(","):
        scene, _, version = part.strip().partition(":")
        scene_id, version_number = parse_id(scene), parse_id(version)
        if scene_id is None or version_number is None or version_number >= 2**31:  # a version is an integer column
            raise ValidationError(gettext("This form is out of date; reload the page and try again."))
        pairs.append((scene_id, version_number))
    return pairs


def scene_retarget(*, project: Project, user: User, target: catalog.Target, shown: list[tuple[int, int]]) -> list[Scene]:
    """Move the scenes the plan showed (each at the version it showed) to `target`. Books nothing.

    All or none: a scene edited, deleted or no longer movable since the plan moves nothing.
    """
    if target.connection.team_id != project.team_id:
        raise ValidationError(gettext("That provider connection belongs to another team."))
    versions = dict(shown)
    if not versions:
        raise ValidationError(gettext("No scene can move to this model: nothing was changed."))
    scenes = list(with_used_model(project.scenes.filter(pk__in=versions)).order_by("position", "pk"))
    if len(scenes) != len(versions):
        raise ValidationError(str(CHANGED_ONE))
    for scene in scenes:
        if scene.version != versions[scene.pk]:
            raise ValidationError(str(CHANGED % {"number": scene.number, "title": scene.title}))
    plan = retarget_plan(team=project.team, target=target, scenes=scenes)
    if plan.skipped:
        raise ValidationError([gettext("Nothing was moved: these scenes can no longer move to this model.")] + [
            gettext("Scene %(number)s (%(title)s): %(problems)s") % {
                "number": m.scene.number, "title": m.scene.title, "problems": " ".join(m.problems)}
            for m in plan.skipped])
    with board_revision(project=project, user=user, kind=RevisionKind.RETARGET) as revision:
        for move in plan.moves:
            _save_move(move, project=project, user=user, target=target)
        revision.summary = said("revision.retargeted", count=len(plan.moves), model=target.model.display_name)
    return [m.scene for m in plan.moves]


def _save_move(move: Move, *, project: Project, user: User, target: catalog.Target) -> None:

    scene = move.scene
    changed = [name for name in ("size", "duration") if getattr(move, f"{name}_changed")]
    stale = scene.approval_stale_fields
    if scene.approved_take_id:  # the approved take no longer has the scene's size or length
        stale = list(dict.fromkeys([*stale, *(n for n in changed if n in RECIPE_FIELDS)]))
    updated = Scene.objects.filter(pk=scene.pk, version=scene.version).update(
        size=move.size, duration=move.duration, target_connection=target.connection,
        target_model=target.model.model_id, approval_stale_fields=stale, version=F("version") + 1,
        updated_by=user, updated_at=timezone.now())
    if not updated:  # a teammate saved between our read and this write
        raise ValidationError(str(CHANGED % {"number": scene.number, "title": scene.title}))
    detail = ", ".join([*([f"{scene.size} → {move.size}"] if move.size_changed else []),
                        *([f"{scene.duration} s → {move.duration} s"] if move.duration_changed else [])])
    moved = {"scene": scene.title, "before": move.used_name, "after": target.model.display_name}
    record(project=project, kind="scene_retargeted", actor=user, scene=scene,
           text=said("feed.retargeted_detail", **moved, detail=detail) if detail else said("feed.retargeted", **moved))
    live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=scene.pk, actor=user,
                 data={"fields": changed + ["target"], "version": scene.version + 1})

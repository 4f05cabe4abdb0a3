"""Rendering many scenes with one click: a take per scene, booked together.

The plan shows, before anyone pays, which scenes will render on the chosen model, what each
costs and why any other is left out. Booking takes exactly the scenes the plan showed, or
none: if one of them can no longer render (consent revoked, model retired, scene edited
to a size the model lacks) nothing is booked and the reasons come back, so the total the
user agreed to is never exceeded. One click books once: each take's idempotency key is
derived from the form's key and its scene.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation import catalog
from generation.models import TERMINAL, CatalogModel, Render, Status
from generation.renders import tasks as render_tasks
from generation.renders.services import Compiled, form_key, render_compile
from generation.spend import budget
from projects.activity.feed import on_renders_started
from projects.models import Character, DialogueLine, Scene
from projects.money import usd

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from generation.models import ProviderConnection
    from projects.models import Project


GONE = _("A scene in this batch was deleted or changed meanwhile; nothing was booked. Review the plan again.")
CHANGED = _("Nothing was booked: the plan changed after it was shown (a scene's length, size or price changed). "
            "Check the plan below and click again.")
SCOPES = {
    "unapproved": _("Scenes without an approved take"),
    "untaken": _("Scenes with no take yet"),
    "all": _("Every scene"),
}


@dataclass
class PlannedTake:
    scene: Scene
    compiled: Compiled

    @property
    def model(self) -> CatalogModel:
        """The model a take the plan will render is booked on (a skipped one may have none)."""
        if self.compiled.model is None:
            raise ValueError(f"scene {self.scene.pk} has no model: it is skipped, not rendered")
        return self.compiled.model

    @property
    def cost(self) -> Decimal:
        params = self.compiled.recipe["parameters"]
        return catalog.cost_of(self.model, size=params["size"], seconds=params["seconds"])


@dataclass
class BatchPlan:
    takes: list[PlannedTake] = field(default_factory=list)  # will render
    skipped: list[PlannedTake] = field(default_factory=list)  # each with its problems
    problems: list[str] = field(default_factory=list)  # about the whole batch (e.g. the model)

    @property
    def total(self) -> Decimal:
        return sum((t.cost for t in self.takes), Decimal(0))

    @property
    def scene_ids(self) -> str:
        """The scenes it will render, as the form posts them back."""
        return ",".join(str(t.scene.pk) for t in self.takes)

    @property
    def digest(self) -> str:
        """A fingerprint of what the plan shows: each scene it will render and its price, on its model. The
        page lists the plan a page at a time, so booking checks it books the very plan that was shown: a scene
        edited to another length or size since changes it, even where the total stays the same."""
        return plan_digest((t.scene.pk, t.model.model_id, t.cost) for t in self.takes)


def plan_digest(rows: Iterable[tuple[int, str, Decimal]]) -> str:
    text = "\n".join(f"{pk}:{model_id}:{cost:.4f}" for pk, model_id, cost in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def scenes_in_scope(project: Project, scope: str, selected: Sequence[int] = ()) -> QuerySet[Scene]:
    """The scenes a scope covers (batch_plan loads what compiling each needs: with_cast)."""
    if scope not in SCOPES and not (scope == "selected" and selected):
        raise ValidationError(gettext("Choose which scenes to render."))
    # project.scenes hands each scene this very project: one instance for all, not one per scene.
    scenes = project.scenes.order_by("position", "pk")
    if scope == "selected":
        scenes = scenes.filter(pk__in=selected)
    elif scope == "unapproved":
        scenes = scenes.filter(approved_take__isnull=True)
    elif scope == "untaken":
        scenes = scenes.filter(renders__isnull=True)
    return scenes


def with_cast(scenes: Iterable[Scene]) -> list[Scene]:
    """The scenes, each with its cast (every character's consent grants, with their projects, and images) and its
    dialogue lines: what compiling a take reads.

    A board casts the same few people in many scenes: each character is loaded once, with its grants and images,
    and shared by every scene that casts it (a per-scene prefetch builds and prefetches one copy per scene and
    character, most of the plan's time at a thousand scenes). The lines come in one query, grouped by scene.
    A scene whose cast is already loaded is left as it is."""
    scenes = list(scenes)
    todo = {s.pk: s for s in scenes if "cast" not in getattr(s, "_prefetched_objects_cache", {})}
    if not todo:
        return scenes
    pairs = list(Scene.cast.through.objects.filter(scene_id__in=todo).values_list("scene_id", "character_id"))
    people = {c.pk: c for c in Character.objects.filter(pk__in={cid for _, cid in pairs})
              .prefetch_related("grants__projects", "images")}  # ordered by name, as a scene's cast is
    rank = {pk: i for i, pk in enumerate(people)}
    cast: dict[int, list[Character]] = defaultdict(list)
    for scene_id, character_id in sorted(pairs, key=lambda pair: rank[pair[1]]):
        cast[scene_id].append(people[character_id])
    lines: dict[int, list[DialogueLine]] = defaultdict(list)
    rows = list(DialogueLine.objects.filter(scene_id__in=todo))
    # A speaker is nearly always cast in the scene (a line @mentions them): the same shared character.
    people |= Character.objects.in_bulk({line.character_id for line in rows} - set(people) - {None})
    for line in rows:
        DialogueLine.scene.field.set_cached_value(line, todo[line.scene_id])  # as a prefetch does
        DialogueLine.character.field.set_cached_value(line, people.get(line.character_id))  # type: ignore[arg-type]
        lines[line.scene_id].append(line)
    for pk, scene in todo.items():
        _loaded(scene, "cast", scene.cast.get_queryset(), cast[pk])
        _loaded(scene, "lines", scene.lines.get_queryset(), lines[pk])
    return scenes


def _loaded(scene: Scene, name: str, queryset: QuerySet[Any], rows: list[Any]) -> None:
    """Hand `rows` to the scene as its `name` relation, as a prefetch would (`scene.<name>.all()` reads them)."""
    queryset._result_cache = rows
    cache = scene.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset


def batch_plan(*, scenes: Iterable[Scene], connection: ProviderConnection, model_id: str) -> BatchPlan:
    """What one click would book: per scene the compiled take, or why it can't render."""
    plan = BatchPlan()
    model = catalog.pinned(connection, catalog.resolve(connection, model_id))
    scenes = with_cast(scenes)
    # A scene still rendering is not booked again (one click on this page twice would pay twice).
    rendering = dict(Render.objects.filter(scene__in=scenes).exclude(status__in=TERMINAL)
                     .values_list("scene_id", "number"))
    if model is None or catalog.is_retired(model):  # the model itself: name what fits every scene instead
        plan.problems = [catalog.refusal(team=connection.team, connection=connection, model_id=model_id,
                                         model=model, scenes=scenes)]
        return plan
    for scene in scenes:
        compiled = render_compile(scene=scene, connection=connection, model_id=model_id, model=model)
        if compiled.problems and not compiled.recipe:  # e.g. another team's connection
            plan.problems = compiled.problems
            return plan
        if scene.pk in rendering:
            compiled.problems.append(gettext("Take %(number)s is still rendering.") % {"number": rendering[scene.pk]})
        (plan.skipped if compiled.problems else plan.takes).append(PlannedTake(scene, compiled))
    return plan


def render_batch(*, project: Project, user: User, connection: ProviderConnection, model_id: str, scene_ids: Sequence[int],
                 idempotency_key: object,
                 shown_total: Decimal | None = None, shown_digest: str | None = None) -> list[Render]:
    """Book a take for each of `scene_ids` (the scenes the plan showed, whose total was
    `shown_total` and fingerprint `shown_digest`: BatchPlan.digest) and queue their submission."""
    key = form_key(idempotency_key)
    scene_ids = list(dict.fromkeys(int(i) for i in scene_ids))
    if not scene_ids:
        raise ValidationError(gettext("No scene can render on this model: nothing to book."))
    keys = {sid: uuid.uuid5(key, f"scene-{sid}") for sid in scene_ids}
    already = _booked(project, keys)
    if already is not None:  # this click was booked before (a double click or a resent form)
        return already
    scenes = with_cast(project.scenes.filter(pk__in=scene_ids).select_related("project__team")
                       .order_by("position", "pk"))
    if len(scenes) != len(scene_ids):
        raise ValidationError(GONE)
    plan = batch_plan(scenes=scenes, connection=connection, model_id=model_id)
    if plan.problems:
        raise ValidationError(plan.problems)
    if plan.skipped:
        raise ValidationError(
            [gettext("Nothing was booked: these scenes changed since the plan was shown and can no longer render.")]
            + [gettext("Scene %(number)s (%(title)s): %(problems)s")
               % {"number": t.scene.number, "title": t.scene.title, "problems": " ".join(t.compiled.problems)}
               for t in plan.skipped])
    if shown_total is not None and plan.total > shown_total:
        raise ValidationError(gettext("Nothing was booked: the scenes now cost %(now)s, more than the %(shown)s "
                                      "shown (a scene was edited meanwhile). Review the plan again.")
                              % {"now": usd(plan.total), "shown": usd(shown_total)})
    if shown_digest is not None and plan.digest != shown_digest:
        raise ValidationError(CHANGED)
    try:
        with transaction.atomic():
            budget.hold(project, plan.total, user=user)  # locks team, member, project, then the scenes
            # Lock the scenes: takes booked meanwhile from a scene card get other numbers.
            locked = type(scenes[0]).objects.select_for_update().filter(pk__in=scene_ids, project=project)
            if len(locked.values_list("pk")) != len(scene_ids):
                raise ValidationError(GONE)
            # Checked again under the project lock: the plan's check ran before it, so ten
            # clicks with different form keys would all have seen no take rendering.
            rendering = (Render.objects.filter(scene_id__in=scene_ids).exclude(status__in=TERMINAL)
                         .select_related("scene").order_by("scene__position", "number"))
            if rendering:
                raise ValidationError(
                    [gettext("Nothing was booked: these scenes are still rendering (booked meanwhile, perhaps by a "
                             "teammate).")]
                    + [gettext("Scene %(number)s (%(title)s): take %(take)s is still rendering.") % {
                        "number": r.scene.number, "title": r.scene.title, "take": r.number} for r in rendering])
            last = dict(Render.objects.filter(scene_id__in=scene_ids).values("scene_id")
                        .annotate(n=Max("number")).values_list("scene_id", "n"))
            renders = Render.objects.bulk_create([
                Render(scene=t.scene, connection=connection, provider=connection.kind,
                       model=t.model.model_id, recipe=t.compiled.recipe,
                       idempotency_key=keys[t.scene.pk], created_by=user, cost=t.cost,
                       number=(last.get(t.scene.pk) or 0) + 1, status=Status.QUEUED)
                for t in plan.takes
            ])
            locked.update(approval_stale_fields=[])  # new takes from the scenes as they are now
            Cast = Render.characters.through
            Cast.objects.bulk_create([Cast(render_id=r.pk, character_id=c.pk)
                                      for r, t in zip(renders, plan.takes) for c in t.compiled.cast])
            on_renders_started(renders)
            for render in renders:
                render_tasks.submit_render.delay_on_commit(render.pk)
    except budget.OverBudget as refusal:
        budget.on_refused(refusal)  # after the rollback, so the owners' alert is kept
        raise
    except IntegrityError:  # the same click raced in from a second request, which won…
        already = _booked(project, keys)
        if already is None:  # …or a scene or character went meanwhile
            raise ValidationError(GONE)
        return already
    return renders


def _booked(project: Project, keys: dict[int, uuid.UUID]) -> list[Render] | None:
    """The takes this click booked before, if it did: all of its scenes, or it was another form."""
    found = list(Render.objects.filter(idempotency_key__in=keys.values(), scene__project=project))
    if not found:
        return None
    if {r.scene_id for r in found} != set(keys):
        raise ValidationError(gettext("This form was already used for other scenes; reload the page and try again."))
    return found

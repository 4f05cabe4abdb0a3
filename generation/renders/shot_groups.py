"""Multi-shot takes: consecutive scenes rendered as one request, cut back into one take per scene.

Booking (this module): 2–6 consecutive scenes selected on the board go to one model whose catalog
entry declares several shots in one take. The plan shows how each scene's length maps onto the
take (its shot's start and end), whether the total is one the model renders, the cost once for the
group and what will be sent; every reason it cannot be booked names the scenes it is about.

The group is booked once: one idempotency key (the form's), one provider job, one budget hold under
the booking locks, one consent check over everyone cast in any of its scenes (and whoever the first
shot's start frame shows). It becomes one take per scene (its parts), each in its scene's stack: the
first carries the provider job and the whole cost, recorded once; the others follow its status
(Render.advance) and cost nothing of their own. Spend pages attribute the cost to the parts by
length (`Render.cost_share`).

Cutting the delivered file back into scenes is the pipeline's (pipeline.py, splitting.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from generation import catalog
from generation.catalog import Target
from generation.models import TERMINAL, CatalogModel, ProviderConnection, Render, ShotGroup, Status
from generation.providers import ProviderError, Shot, adapter_class, shots_prompt
from generation.renders import tasks as render_tasks
from generation.renders.batch import with_cast
from generation.renders.services import (
    CONNECTION_REMOVED,
    Compiled,
    form_key,
    render_compile,
    render_create,
)
from generation.spend import budget
from projects.activity.feed import on_renders_started
from projects.models import Character, Project, Scene, Team

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

MIN_SHOTS, MAX_SHOTS = 2, 6
GONE = _("A scene of this multi-shot take was deleted or changed meanwhile; nothing was booked. Review it again.")
SHARE = Decimal("0.000001")


@dataclass
class PlannedShot:
    """One scene as a shot of the take: where it sits (whole seconds from the take's start)."""

    scene: Scene
    compiled: Compiled
    start: int

    @property
    def seconds(self) -> int:
        return int(self.scene.duration)

    @property
    def end(self) -> int:
        return self.start + self.seconds

    @property
    def problems(self) -> list[str]:
        return self.compiled.problems


@dataclass
class GroupPlan:
    """What one click would book: the shots, the take's total, its cost, and every reason it cannot be."""

    model: CatalogModel | None = None
    connection: ProviderConnection | None = None
    shots: list[PlannedShot] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the group as a whole

    @property
    def seconds(self) -> int:
        return sum(s.seconds for s in self.shots)

    @property
    def size(self) -> str:
        return self.shots[0].scene.size if self.shots else ""

    @property
    def cost(self) -> Decimal:
        if self.model is None or not self.shots:
            return Decimal(0)
        return catalog.cost_of(self.model, size=self.size, seconds=self.seconds)

    @property
    def exact(self) -> bool:
        return getattr(self.model, "shot_timing", "") != "order"

    @property
    def every_problem(self) -> list[str]:
        """The group's problems, then each scene's, named: all that stands between the plan and a booking."""
        named = [gettext("Scene %(number)d (%(title)s): %(problem)s") % {
            "number": s.scene.number, "title": s.scene.title, "problem": p} for s in self.shots for p in s.problems]
        return self.problems + named

    @property
    def bookable(self) -> bool:
        return bool(self.shots) and not self.every_problem

    @property
    def wire_shots(self) -> list[Shot]:
        return [Shot(prompt=s.compiled.recipe.get("prompt", ""), seconds=s.seconds, start=s.start,
                     title=s.scene.title, scene_number=s.scene.number,
                     camera_notes=s.scene.camera_notes) for s in self.shots]

    @property
    def prompt(self) -> str:
        """The shots as one text: what the studio sends where the provider reads shots from the prompt, and
        what it knows the group by when it looks for its job in a provider's list."""
        return shots_prompt(self.wire_shots, timed=self.exact)

    def shares(self) -> list[Decimal]:
        """Each shot's share of the group's cost, by length; they add up to 1 exactly."""
        total = Decimal(self.seconds)
        shares = [(Decimal(s.seconds) / total).quantize(SHARE, rounding=ROUND_HALF_UP) for s in self.shots]
        shares[-1] = Decimal(1) - sum(shares[:-1], Decimal(0))
        return shares

    def recipe(self) -> dict[str, Any]:
        """The group's request, as the lead part's job sends it: every shot and how the take is timed."""
        assert self.model is not None and self.connection is not None, "only a bookable plan has a recipe"
        first = self.shots[0].compiled.recipe
        recipe = {
            "project": first["project"], "provider": self.connection.kind, "connection": self.connection.label,
            "model": self.model.model_id, "prompt": self.prompt, "shot_timing": self.model.shot_timing,
            "parameters": {"seconds": self.seconds, "size": self.size},
            "shots": [{"scene": dict(s.compiled.recipe["scene"]), "prompt": s.compiled.recipe.get("prompt", ""),
                       "seconds": s.seconds, "start": s.start, "camera_notes": s.scene.camera_notes,
                       # the previz speaks each shot's lines, as it speaks a single scene's
                       **{key: s.compiled.recipe[key] for key in ("previz_cast", "dialogue")
                          if key in s.compiled.recipe}}
                      for s in self.shots],
            "cast": [{"id": c.pk, "name": c.name} for c in self.cast],
        }
        for key in ("reference_image", "start_frame", "requested_model", "resolved_model"):
            if key in first:  # the take starts from the first shot's frame, and books what it resolved
                recipe[key] = first[key]
        return recipe

    @property
    def cast(self) -> list[Character]:
        """Everyone the take shows: each scene's cast and whom the first shot's start frame shows, once."""
        people: list[Character] = []
        for shot in self.shots:
            people += [c for c in shot.compiled.cast if c not in people]
        return people


def scenes_for(project: Project, scene_ids: Iterable[int]) -> list[Scene]:
    """The selected scenes of the board, in board order, with what compiling each needs."""
    return with_cast(project.scenes.filter(pk__in=scene_ids).select_related("project__team")
                     .order_by("position", "pk"))


def multi_shot_targets(team: Team) -> list[Target]:
    """The team's live models that render several shots in one take."""
    return [t for t in catalog.available_targets(team) if t.model.multi_shot]


def shot_group_plan(*, project: Project, connection: ProviderConnection, model_id: str,
                    scenes: Iterable[Scene]) -> GroupPlan:
    """How `scenes` would render as one multi-shot take on the model, and every reason they cannot."""
    plan = GroupPlan(connection=connection)
    scenes = list(scenes)
    model = catalog.pinned(connection, catalog.resolve(connection, model_id))
    plan.model = model
    if connection.team_id != project.team_id:
        plan.problems.append(gettext("That provider connection belongs to another team."))
        return plan
    if model is None or catalog.is_retired(model):
        plan.problems.append(catalog.refusal(team=project.team, connection=connection, model_id=model_id,
                                             model=model, scenes=scenes))
        return plan
    if not model.multi_shot:
        plan.problems.append(_not_multi_shot(project.team, model))
        return plan
    plan.problems += _selection_problems(project, scenes, model)
    start = 0
    for index, scene in enumerate(scenes):
        compiled = render_compile(scene=scene, connection=connection, model_id=model_id, model=model,
                                  shot="first" if index == 0 else "later")
        if compiled.problems and not compiled.recipe:  # the model or policy: said once, for the group
            plan.problems += [p for p in compiled.problems if p not in plan.problems]
            compiled.problems = []
        plan.shots.append(PlannedShot(scene=scene, compiled=compiled, start=start))
        start += int(scene.duration)
    if plan.shots and not any(s.compiled.recipe == {} for s in plan.shots):
        plan.problems += _timing_problems(plan, model)
        plan.problems += _wire_problems(connection, model, plan)
    rendering = dict(Render.objects.filter(scene__in=scenes).exclude(status__in=TERMINAL)
                     .values_list("scene_id", "number"))
    for shot in plan.shots:
        if shot.scene.pk in rendering:
            shot.compiled.problems.append(gettext("Take %(number)d is still rendering.")
                                          % {"number": rendering[shot.scene.pk]})
    return plan


def _not_multi_shot(team: Team, model: CatalogModel) -> str:
    others = [t for t in multi_shot_targets(team)]
    head = gettext("%(model)s renders one shot per request.") % {"model": model.display_name}
    if not others:
        return head + " " + gettext("None of your team's models renders several shots in one take: add one under "
                                    "Providers (Kling 3 on fal, Runway's multi-shot recipe, Wan 2.6 on fal), or "
                                    "use the local previz.")
    return head + " " + gettext("Models that render several shots in one take: %(names)s.") % {
        "names": ", ".join(t.label for t in others)}


def _selection_problems(project: Project, scenes: list[Scene], model: CatalogModel) -> list[str]:
    """Too few or too many scenes, scenes not next to each other on the board, or of different sizes."""
    problems = []
    most = min(MAX_SHOTS, model.shots_max or MAX_SHOTS)
    fewest = max(MIN_SHOTS, model.shots_min)
    if not fewest <= len(scenes) <= most:
        problems.append(ngettext(
            "%(n)d scene is selected; %(model)s renders %(low)d to %(high)d shots in one take: select %(low)d to "
            "%(high)d consecutive scenes.",
            "%(n)d scenes are selected; %(model)s renders %(low)d to %(high)d shots in one take: select %(low)d to "
            "%(high)d consecutive scenes.", len(scenes)) % {
            "n": len(scenes), "model": model.display_name, "low": fewest, "high": most})
    positions = [s.position for s in scenes]
    if positions and positions != list(range(positions[0], positions[0] + len(positions))):
        between = list(project.scenes.filter(position__gt=positions[0], position__lt=positions[-1])
                       .exclude(pk__in=[s.pk for s in scenes]).order_by("position"))
        problems.append(gettext("The scenes of a multi-shot take follow each other on the board, but %(between)s "
                                "%(verb)s between the selected scenes: select %(them)s too, or move the scenes "
                                "together.") % {
            "between": _numbers(between), "verb": ngettext("is", "are", len(between)),
            "them": ngettext("it", "them", len(between))})
    sizes = {s.size for s in scenes}
    if len(sizes) > 1:
        by_size = "; ".join(gettext("%(scenes)s at %(size)s") % {"scenes": _numbers([s for s in scenes
                                                                                     if s.size == size]),
                                                                   "size": size}
                            for size in sorted(sizes, key=lambda z: [s.size for s in scenes].index(z)))
        problems.append(gettext("A multi-shot take has one size, and these scenes have several (%(sizes)s): give "
                                "them one size.") % {"sizes": by_size})
    return problems


def _timing_problems(plan: GroupPlan, model: CatalogModel) -> list[str]:
    """Each shot long enough, and the take's total one the model renders."""
    problems = []
    if model.shot_min_seconds:
        short = [s.scene for s in plan.shots if s.seconds < model.shot_min_seconds]
        if short:
            problems.append(ngettext(
                "%(scenes)s is shorter than %(model)s's shortest shot (%(min)d s): lengthen it.",
                "%(scenes)s are shorter than %(model)s's shortest shot (%(min)d s): lengthen them.", len(short))
                % {"scenes": _numbers(short, lengths=True), "model": model.display_name,
                   "min": model.shot_min_seconds})
    if not model.total_fits(plan.seconds):
        problems.append(gettext("%(scenes)s last %(total)d s in all; %(model)s renders %(allowed)s in one multi-shot "
                                "take: lengthen or shorten a scene so they add up to a length it renders%(hint)s.")
                        % {"scenes": _numbers([s.scene for s in plan.shots]), "total": plan.seconds,
                           "model": model.display_name, "allowed": model.totals_words,
                           "hint": _nearest_words(model, plan.seconds)})
    return problems


def _nearest_words(model: CatalogModel, total: int) -> str:
    """ " (10 s is the nearest)" when the model renders only some totals."""
    candidates = [t for t in range(1, 121) if model.total_fits(t)]
    if not candidates:
        return ""
    nearest = min(candidates, key=lambda t: (abs(t - total), t))
    return gettext(" (%(n)d s is the nearest)") % {"n": nearest}


def _wire_problems(connection: ProviderConnection, model: CatalogModel, plan: GroupPlan) -> list[str]:
    """What the provider's wire refuses in this shot list (its per-shot prompt limits, its shot count)."""
    try:
        adapter = adapter_class(connection.kind)
    except ProviderError:
        return []
    if not adapter.facts.sends_shots:
        return [gettext("%(provider)s requests carry no shot list.") % {"provider": adapter.facts.title}]
    return adapter.shot_problems(model_id=model.model_id, shots=plan.wire_shots, input_map=model.input_map)


def _numbers(scenes: Iterable[Scene], *, lengths: bool = False) -> str:
    """ "scene 3", "scenes 2 and 4", "scenes 2, 3 and 5" (with their lengths: "scene 3 (1 s)")."""
    names = [f"{s.number} ({s.duration} s)" if lengths else str(s.number) for s in scenes]
    if len(names) == 1:
        return gettext("scene %(n)s") % {"n": names[0]}
    return gettext("scenes %(some)s and %(last)s") % {"some": ", ".join(names[:-1]), "last": names[-1]}


# --- booking -------------------------------------------------------------------------------------


def shot_group_create(*, project: Project, user: User, connection: ProviderConnection, model_id: str,
                      scene_ids: Iterable[object], idempotency_key: object, shown_cost: Decimal | None = None,
                      parents: dict[int, Render] | None = None) -> ShotGroup:
    """Book the selected scenes as one multi-shot take and queue its one provider job.

    The form's key is the lead part's idempotency key: a double click or a resent form finds the group
    the first click booked and books nothing. Refused (ValidationError, every reason named) when the
    plan has any problem, or costs more than the `shown_cost` the person agreed to. `parents`: scene id → the
    take each new part renders again (a retry or re-render of a whole multi-shot take)."""
    key = form_key(idempotency_key)
    ids = list(dict.fromkeys(int(i) for i in scene_ids))  # type: ignore[call-overload]  # ids or their text
    booked = _booked(key, ids)
    if booked is not None:
        return booked
    scenes = scenes_for(project, ids)
    if len(scenes) != len(ids):
        raise ValidationError(GONE)
    plan = shot_group_plan(project=project, connection=connection, model_id=model_id, scenes=scenes)
    if not plan.bookable:
        raise ValidationError([gettext("Nothing was booked.")] + plan.every_problem)
    if shown_cost is not None and plan.cost > shown_cost:
        raise ValidationError(gettext("Nothing was booked: the multi-shot take now costs $%(now).2f, more than the "
                                      "$%(shown).2f shown (a scene was edited meanwhile). Review it again.")
                              % {"now": plan.cost, "shown": shown_cost})
    try:
        with transaction.atomic():
            group = _book(plan, project=project, user=user, key=key, parents=parents or {})
    except budget.OverBudget as refusal:
        budget.on_refused(refusal)  # after the rollback, so the owners' alert is kept
        raise
    except IntegrityError:  # the same click raced in from a second request, which won
        booked = _booked(key, ids)
        if booked is None:
            raise ValidationError(GONE)
        return booked
    log.info("multi-shot take %s booked", group.pk, extra={
        "group_id": group.pk, "take_id": group.lead_id, "project_id": project.pk, "user_id": user.pk,
        "provider": connection.kind, "model": plan.model.model_id if plan.model else model_id, "cost": str(plan.cost),
        "scenes": [s.scene.pk for s in plan.shots]})
    return group


def _book(plan: GroupPlan, *, project: Project, user: User, key: uuid.UUID, parents: dict[int, Render]) -> ShotGroup:
    """Inside the booking transaction: one budget hold, the scene rows locked, one take per scene."""
    assert plan.model is not None and plan.connection is not None, "only a bookable plan is booked"
    ids = [s.scene.pk for s in plan.shots]
    budget.hold(project, plan.cost, user=user)  # locks team, member, project, then the scenes below
    Scene = type(plan.shots[0].scene)
    locked = Scene.objects.select_for_update().filter(pk__in=ids, project=project)
    if len(locked.values_list("pk")) != len(ids):  # moved to the trash meanwhile
        raise ValidationError(GONE)
    rendering = (Render.objects.filter(scene_id__in=ids).exclude(status__in=TERMINAL).select_related("scene")
                 .order_by("scene__position", "number"))
    if rendering:  # checked again under the locks: two clicks at once would both have seen none
        raise ValidationError([gettext("Nothing was booked: these scenes are still rendering (booked meanwhile, "
                                       "perhaps by a teammate).")] + [
            gettext("Scene %(scene)d (%(title)s): take %(take)d is still rendering.")
            % {"scene": r.scene.number, "title": r.scene.title, "take": r.number} for r in rendering])
    last = dict(Render.objects.filter(scene_id__in=ids).values("scene_id").annotate(n=Max("number"))
                .values_list("scene_id", "n"))
    group = ShotGroup.objects.create(project=project, recipe=plan.recipe(), created_by=user)
    shares = plan.shares()
    parts = []
    for index, (shot, share) in enumerate(zip(plan.shots, shares)):
        recipe = {**shot.compiled.recipe, "shot": {
            "group": group.pk, "index": index, "of": len(plan.shots), "start": shot.start, "seconds": shot.seconds,
            "timing": plan.model.shot_timing, "scenes": [s.scene.number for s in plan.shots]}}
        parts.append(Render.objects.create(
            scene=shot.scene, connection=plan.connection, provider=plan.connection.kind,
            model=plan.model.model_id, recipe=recipe, created_by=user, status=Status.QUEUED,
            # The lead's key is the form's: the one key the provider sees, and a resent form finds.
            idempotency_key=key if index == 0 else uuid.uuid5(key, f"shot-{index}"),
            cost=plan.cost if index == 0 else Decimal(0),
            number=(last.get(shot.scene.pk) or 0) + 1, shot_group=group, shot_index=index, cost_share=share,
            parent=parents.get(shot.scene.pk)))
    group.lead = parts[0]
    group.save(update_fields=["lead"])
    locked.update(approval_stale_fields=[])  # new takes from the scenes as they are now
    Cast = Render.characters.through
    Cast.objects.bulk_create([Cast(render_id=part.pk, character_id=c.pk)
                              for part, shot in zip(parts, plan.shots) for c in shot.compiled.cast])
    on_renders_started(parts)
    render_tasks.submit_render.delay_on_commit(parts[0].pk)
    return group


def _booked(key: uuid.UUID, scene_ids: list[int]) -> ShotGroup | None:
    """The group this click booked before, if it did (a double click, a resent form)."""
    lead = Render.objects.filter(idempotency_key=key).select_related("shot_group").first()
    if lead is None:
        return None
    group = lead.shot_group
    if group is None or {s["scene"]["id"] for s in group.shots} != set(scene_ids):
        raise ValidationError(gettext("This form was already used for other scenes; reload the page and try again."))
    return group


# --- from a part's card: the whole take again, or one scene on its own ------------------------------


def shot_group_rerender(*, take: Render, user: User, idempotency_key: object) -> ShotGroup:
    """The whole multi-shot take again, on the same model, from its scenes as they are now: a retry when it
    failed, a re-render when it finished. Each new part renders again its scene's part of this take."""
    group = take.shot_group
    if group is None:
        raise ValidationError(gettext("This take is not part of a multi-shot take."))
    parts = list(group.parts.select_related("scene"))
    if any(p.is_active for p in parts):
        raise ValidationError(gettext("This multi-shot take is still rendering."))
    gone = [p for p in parts if p.scene.trashed_at is not None]
    if gone:
        raise ValidationError(gettext("Scene “%(title)s” of this multi-shot take is in the trash: restore it, or "
                                      "select the scenes again on the board.") % {"title": gone[0].scene.title})
    lead = group.lead
    assert lead is not None, "a booked group has its lead"
    if lead.connection is None:
        raise ValidationError(CONNECTION_REMOVED)
    return shot_group_create(project=group.project, user=user, connection=lead.connection, model_id=lead.model,
                             scene_ids=[p.scene_id for p in sorted(parts, key=lambda p: p.shot_index or 0)],
                             idempotency_key=idempotency_key, parents={p.scene_id: p for p in parts})


def shot_part_render_alone(*, take: Render, user: User, connection: ProviderConnection, model_id: str,
                           idempotency_key: object) -> Render:
    """One scene of a multi-shot take, rendered on its own: from the last frame of the scene before it (its
    followed take, often the part before this one) where the model takes a start frame and there is a scene
    before; from the scene's own settings otherwise."""
    scene = take.scene
    model = catalog.pinned(connection, catalog.resolve(connection, model_id))
    first = not scene.project.scenes.filter(position__lt=scene.position).exists()
    start_previous = bool(model and model.start_frame and not first)
    render, _ = render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                              idempotency_key=idempotency_key, parent=take, start_previous=start_previous)
    return render

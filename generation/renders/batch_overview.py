"""The plan the Render scenes page shows: every scene's verdict and price, without compiling every take.

`batch.batch_plan` compiles each scene's take (recipe, cast, consent, frames, prompt): exact, and what booking
runs. At a thousand scenes that is most of the page's time, so the page asks the very same rules once per
distinct fact instead of once per scene: the model's verdict and price per size and length, each cast member's
consent once, and from the database as plain values the scenes' fields, who each casts and which are still
rendering. Where the provider limits prompts, each scene's prompt is composed as its take's would be (its
dialogue woven in, its cast described) from those values and asked. A scene whose take needs more than those
facts is compiled as `batch_plan` compiles it: one that starts or ends on a frame (another take's frame, a file
to read, whoever that frame shows); and every scene when the model needs a start frame (its refusal names the
models that fit each scene).

Booking compiles every planned scene again and books only if the plan is the one shown (`BatchPlan.digest`):
what the page shows never decides alone what is paid for or whose likeness is rendered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext

from generation import catalog
from generation.models import TERMINAL, Render
from generation.providers import ProviderError, adapter_class
from generation.providers.base import Provider
from generation.renders import batch
from generation.renders.services import prompt_problems
from projects.characters.consent import consent_problem
from projects.models import Character, DialogueLine, Scene, StartFrom
from projects.storyboard.dialogue.text import Spoken, compose

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from generation.models import CatalogModel, ProviderConnection
    from projects.models import Project

# How many scenes the page lists at a time (its total, its counts and the booking cover every scene).
PAGE_SIZE = 50


@dataclass
class PlanRow:
    """One scene of the plan as the page lists it; `cost` None when it is left out (`problems` say why)."""

    pk: int
    position: int
    title: str
    duration: int
    size: str
    cost: Decimal | None
    problems: list[str] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.position + 1


@dataclass
class PlanOverview:
    model_id: str = ""
    takes: list[PlanRow] = field(default_factory=list)  # will render
    skipped: list[PlanRow] = field(default_factory=list)  # each with its problems
    problems: list[str] = field(default_factory=list)  # about the whole batch (e.g. the model)

    @property
    def total(self) -> Decimal:
        return sum((row.cost or Decimal(0) for row in self.takes), Decimal(0))

    @property
    def scene_ids(self) -> str:
        return ",".join(str(row.pk) for row in self.takes)

    @property
    def digest(self) -> str:
        """The same fingerprint as `batch.BatchPlan.digest` for the same plan: booking compares them."""
        return batch.plan_digest((row.pk, self.model_id, row.cost or Decimal(0)) for row in self.takes)


def batch_overview(*, project: Project, scenes: QuerySet[Scene], connection: ProviderConnection,
                   model_id: str) -> PlanOverview:
    """What one click would book, as `batch.batch_plan` says it, for `scenes` (a queryset of the project's)."""
    model = catalog.pinned(connection, catalog.resolve(connection, model_id))
    if (model is None or catalog.is_retired(model) or connection.team_id != project.team_id
            or catalog.frame_problems(model, start="", end="")):
        return _compiled(batch.batch_plan(scenes=scenes, connection=connection, model_id=model_id))
    fields = ("pk", "position", "title", "duration", "size", "start_from", "reference_image", "end_on", "prompt")
    rows = list(scenes.values_list(*fields))
    if not rows:
        return PlanOverview(model_id=model.model_id)
    if policy := catalog.policy_refusal(project, model, requested=model_id):
        return PlanOverview(model_id=model.model_id, problems=[policy])
    # A scene that starts or ends on a frame is compiled: what the frame is, and who it shows, is the take's.
    framed = [pk for pk, _p, _t, _d, _s, start, image, end, _w in rows
              if start == StartFrom.PREVIOUS or image or end]
    compiled = _compiled(batch.batch_plan(scenes=scenes.filter(pk__in=framed), connection=connection,
                                          model_id=model_id)) if framed else PlanOverview()
    if compiled.problems:
        return PlanOverview(model_id=model.model_id, problems=compiled.problems)
    known = {row.pk: row for row in compiled.takes + compiled.skipped}
    verdict = _Verdicts(project=project, scenes=scenes, connection=connection, model=model)
    plan = PlanOverview(model_id=model.model_id)
    for pk, position, title, duration, size, _start, _image, _end, prompt in rows:
        row = known.get(pk) or verdict.row(pk, position, title, duration, size, prompt)
        (plan.skipped if row.problems else plan.takes).append(row)
    return plan


class _Verdicts:
    """`render_compile`'s checks of a scene without frames, each asked once per distinct fact."""

    def __init__(self, *, project: Project, scenes: QuerySet[Scene], connection: ProviderConnection,
                 model: CatalogModel) -> None:
        self.project, self.model, self.connection = project, model, connection
        pairs = list(Scene.cast.through.objects.filter(scene__in=scenes.values("pk"))
                     .values_list("scene_id", "character_id"))
        # Ordered by name, as a scene's cast is: their problems come in that order.
        people = list(Character.objects.filter(pk__in={cid for _, cid in pairs})
                      .prefetch_related("grants__projects", "images"))
        self.lines = _lines(scenes) if _limits_prompts(connection.kind) else None
        self.described = {c.pk: f"{c.name}: {c.description}" for c in people if c.description}
        self.consent = {c.pk: consent_problem(c, project=project, provider_kind=connection.kind) for c in people}
        self.pictured = {c.pk for c in people if c.images.all()}
        rank = {c.pk: i for i, c in enumerate(people)}
        self.cast: dict[int, list[int]] = defaultdict(list)
        for scene_id, character_id in sorted(pairs, key=lambda pair: rank[pair[1]]):
            self.cast[scene_id].append(character_id)
        # A scene still rendering is not booked again (one click on this page twice would pay twice).
        self.rendering = dict(Render.objects.filter(scene__in=scenes.values("pk")).exclude(status__in=TERMINAL)
                              .values_list("scene_id", "number"))
        self.fit: dict[tuple[str, int], tuple[list[str], Decimal]] = {}

    def row(self, pk: int, position: int, title: str, duration: int, size: str, prompt: str) -> PlanRow:
        problems, cost = self._fit(size, duration)
        problems = problems + [p for cid in self.cast[pk] if (p := self.consent[cid])]
        if self.model.reference_images and any(cid in self.pictured for cid in self.cast[pk]):
            problems += self.model.reference_image_problems(size=size, seconds=duration)
        if self.lines is not None:
            problems += prompt_problems(self.connection, self.model.model_id, self._prompt(pk, prompt))
        if pk in self.rendering:
            problems.append(gettext("Take %(number)s is still rendering.") % {"number": self.rendering[pk]})
        return PlanRow(pk, position, title, duration, size, None if problems else cost, problems)

    def _prompt(self, pk: int, prompt: str) -> str:
        """The prompt a take of the scene sends, as `recipe_for` composes it."""
        text = compose(prompt, self.lines[pk] if self.lines else [])
        described = [self.described[cid] for cid in self.cast[pk] if cid in self.described]
        return text + "\n\nCharacters — " + "; ".join(described) if described else text

    def _fit(self, size: str, seconds: int) -> tuple[list[str], Decimal]:
        """Whether the model renders this size and length, within the project's price ceiling, and its price."""
        if (size, seconds) not in self.fit:
            problems = self.model.problems_for(size=size, seconds=seconds)
            if refusal := catalog.price_refusal(self.project, self.model, size=size):
                problems.append(refusal)
            self.fit[size, seconds] = problems, catalog.cost_of(self.model, size=size, seconds=seconds)
        return self.fit[size, seconds]


def _lines(scenes: QuerySet[Scene]) -> dict[int, list[Spoken]]:
    """Each scene's dialogue lines in order, as plain lines: a cast speaker is "@Name" (DialogueLine.label)."""
    rows = (DialogueLine.objects.filter(scene__in=scenes.values("pk")).order_by("scene_id", "position", "pk")
            .values_list("scene_id", "speaker", "character__name", "parenthetical", "text", "after_prompt_lines"))
    lines: dict[int, list[Spoken]] = defaultdict(list)
    for scene_id, speaker, name, parenthetical, text, after in rows:
        lines[scene_id].append(Spoken(name if name is not None else speaker, text, parenthetical, after,
                                      cast=name is not None))
    return lines


def _limits_prompts(kind: str) -> bool:
    """Whether the provider refuses some prompts (a length limit): then each prompt is composed and asked."""
    try:
        adapter = adapter_class(kind)
    except ProviderError:
        return False
    asks: object = getattr(adapter.prompt_problems, "__func__", None)
    return asks is not getattr(Provider.prompt_problems, "__func__", None)


def _compiled(plan: batch.BatchPlan) -> PlanOverview:
    def row(planned: batch.PlannedTake, cost: Decimal | None) -> PlanRow:
        scene = planned.scene
        return PlanRow(scene.pk, scene.position, scene.title, scene.duration, scene.size, cost,
                       planned.compiled.problems)

    model_id = plan.takes[0].model.model_id if plan.takes else ""
    return PlanOverview(model_id=model_id, problems=plan.problems, takes=[row(t, t.cost) for t in plan.takes],
                        skipped=[row(t, None) for t in plan.skipped])

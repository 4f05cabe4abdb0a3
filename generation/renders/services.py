"""Booking takes: compile what a take sends, create it once per click, retry, remix, cancel.

Views call these; the worker side (submit, poll, finish, recovery) lives in
generation.renders.pipeline. Every status change goes through Render.advance, a
conditional UPDATE, so two requests or workers racing never do the work twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation import catalog
from generation.models import CatalogModel, Render, Status
from generation.providers import CancelRefund, ProviderError, adapter_class, facts_for, provider_for
from generation.renders import checks, continuity
from generation.renders import tasks as render_tasks
from generation.spend import budget
from generation.words import said
from projects.activity.feed import on_render_started
from projects.characters.consent import cast_problems, consent_problem
from projects.models import Character, StartFrom
from projects.storyboard.casting import scene_lines
from projects.storyboard.dialogue.text import compose

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from generation.models import CatalogModel, ProviderConnection
    from projects.models import Scene


log = logging.getLogger(__name__)
CONNECTION_REMOVED = _("This take's provider connection was removed: choose a model for the scene and render a "
                        "new take.")

def recipe_for(*, scene: Scene, connection: ProviderConnection, model_id: str) -> dict[str, Any]:
    """The exact, self-contained description of what a take asks for.

    Its prompt is the scene's prompt with the dialogue lines woven in where they are spoken, in the
    form every model reads ("ANNA: (sleepy) Morning.", a cast speaker "@Anna: …"); the lines are
    kept as data too ("dialogue"), with the prompt they were woven into ("action")."""
    project = scene.project
    lines = scene_lines(scene)
    text = compose(scene.prompt, lines)
    recipe: dict[str, Any] = {
        "project": {"id": project.pk, "name": project.name},
        "scene": {"id": scene.pk, "number": scene.number, "title": scene.title},
        "prompt": text,
        "provider": connection.kind,
        "connection": connection.label,
        "model": model_id,
        "parameters": {
            "seconds": scene.duration,
            "size": scene.size,
            "camera_notes": scene.camera_notes,
        },
    }
    if lines:
        recipe["action"] = scene.prompt
        recipe["dialogue"] = [{"speaker": line.speaker_name, "character": line.character_id,
                               "parenthetical": line.parenthetical, "text": line.text,
                               "after_prompt_lines": line.after_prompt_lines} for line in lines]
    if scene.reference_image and scene.start_from != StartFrom.PREVIOUS:  # a frame of another take wins
        recipe["reference_image"] = {"original": scene.reference_image.name, "fit": scene.reference_fit}
    cast = list(scene.cast.all())
    if cast:
        # Providers without native characters get each one described in words.
        recipe["cast"] = [{"id": c.pk, "name": c.name, "kind": c.kind} for c in cast]
        recipe["scene_prompt"] = text
        described = [f"{c.name}: {c.description}" for c in cast if c.description]
        if described:
            recipe["prompt"] = text + "\n\nCharacters — " + "; ".join(described)
        if getattr(facts_for(connection.kind), "built_in", False):
            # The previz draws each cast member's first reference image; it runs here, so no
            # provider's wire ever carries these names.
            recipe["previz_cast"] = [
                {"name": c.name, "image": images[0].image.name} for c in cast if (images := list(c.images.all()))
            ][:4]
    return recipe


# What a take's recipe names as the frames it starts from (the scene's image, or a frame of another take)
# and ends on: beside any of them no likeness reference image is sent.
FRAMES = ("reference_image", "start_frame", "end_frame")


@dataclass
class Compiled:
    """What a take would send: shown before submit, stored in the take's recipe."""

    model: CatalogModel | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    estimate: Decimal | None = None  # what the render form's preview shows it would cost
    cast: list[Any] = field(default_factory=list)  # everyone the take casts: the scene's, and whom its frames show
    problems: list[str] = field(default_factory=list)
    carried: list[Any] = field(default_factory=list)  # of `cast`, the people only its start or end frame shows


def render_compile(*, scene: Scene, connection: ProviderConnection, model_id: str,
                   recipe: dict[str, Any] | None = None, model: CatalogModel | None = None,
                   shot: str = "", start_previous: bool = False) -> Compiled:
    """Resolve the model, compile the prompt and inputs, and list every reason to refuse.

    `model`: the catalog entry for `model_id`, when the caller resolved (and pinned) it already.
    An alias with a dated snapshot in the catalog is booked as its newest snapshot (catalog.pinned),
    recorded in the recipe as "resolved_model"; the project's model policy is checked here, so
    every booking path (single, batch, retry, remix, re-render) and the preview refuse alike.

    `shot`: the scene as one shot of a multi-shot take (generation/renders/shot_groups.py): "first" (it may
    start from a frame, as the whole take does) or "later" (it follows the shot before it in the same
    take: no frame of its own). A shot's length is the group's to check, and only its words are sent.
    `start_previous`: the take starts from the last frame of the scene before, whatever the scene says (a scene
    of a multi-shot take rendered again on its own).
    """
    if connection.team_id != scene.project.team_id:
        return Compiled(problems=["That provider connection belongs to another team."])
    model = model or catalog.pinned(connection, catalog.resolve(connection, model_id))
    if model is None or catalog.is_retired(model):
        return Compiled(model=model, problems=[catalog.refusal(
            team=scene.project.team, connection=connection, model_id=model_id, model=model, scenes=[scene])])
    policy = catalog.policy_refusal(scene.project, model, requested=model_id)
    if policy:
        return Compiled(model=model, problems=[policy])
    fresh = recipe is None  # a new booking, from the scene as it is now (a retry replays its recipe)
    recipe = dict(recipe or recipe_for(scene=scene, connection=connection, model_id=model.model_id))
    recipe["model"] = model.model_id
    if model.model_id != model_id:  # an alias booked as its newest dated snapshot: the take says which
        recipe["requested_model"] = model_id
        recipe["resolved_model"] = model.model_id
    problems = []
    params = recipe["parameters"]
    if "extend_of" in recipe:
        # An extension continues a clip: the lengths it may add and the size of the take it extends are what
        # the model must take; it sends no frames of the scene.
        problems += catalog.extension_problems(model, team=scene.project.team, connection=connection,
                                               size=params["size"], seconds=int(params["seconds"]))
    else:
        problems += _frame_and_fit_problems(scene, model, recipe, fresh=fresh, shot=shot,
                                            start_previous=start_previous)
    if refusal := catalog.price_refusal(scene.project, model, size=params["size"]):
        problems.append(refusal)
    try:
        cast = _cast_of(recipe, scene)
        carried = _carried_of(recipe, cast)
    except ValidationError as exc:
        return Compiled(model=model, recipe=recipe, problems=problems + exc.messages)
    problems += cast_problems(cast, project=scene.project, provider_kind=connection.kind)
    # Whoever a frame's take shows appears in this take too: their consent must cover it.
    problems += [continuity.carried_refusal(c, recipe, p) for c in carried
                 if (p := consent_problem(c, project=scene.project, provider_kind=connection.kind))]
    if shot:  # each shot's words: the group checks them together against its provider (shot_problems)
        return Compiled(model=model, recipe=recipe, cast=cast + carried, problems=problems, carried=carried)
    if cast and "native_characters" not in recipe and model.declares_characters:
        # Native characters (OpenAI format): built from each one's reference video, at most two.
        recipe["native_characters"] = [{"id": c.pk, "name": c.name} for c in cast if c.reference_video][:2]
    if cast and "character_images" not in recipe and model.reference_images:
        # The model keeps likenesses from images: send each cast member's first reference.
        recipe["character_images"] = [
            images[0].image.name for c in cast if (images := list(c.images.all()))
        ][:model.reference_images]
    elements = (model.input_schema or {}).get("elements")
    if cast and "character_sets" not in recipe and model.reference_images and isinstance(elements, dict):
        # The model keeps each cast member from an image set (Kling's elements): the frontal image, then more views.
        recipe["character_sets"] = [
            {"name": c.name, "images": [i.image.name for i in images][:elements.get("images_max", 4)]}
            for c in cast if (images := list(c.images.all()))
        ][:model.reference_images]
    if recipe.get("character_sets") and (recipe.get("start_frame") or recipe.get("reference_image")):
        problems += model.element_problems(recipe["character_sets"])  # elements go beside a start frame only
    if recipe.get("character_images") and not any(recipe.get(frame) for frame in FRAMES):
        # Beside a start or end frame the likeness images are not sent (the adapters of models with both,
        # Veo's on the Gemini API and on Replicate, send the frames and describe the cast in the prompt),
        # so their limits do not apply.
        problems += model.reference_image_problems(size=params["size"], seconds=int(params["seconds"]))
    # The prompt as it will be sent (dialogue woven in, the cast's descriptions appended), against the
    # provider's limit.
    problems += prompt_problems(connection, model.model_id, recipe.get("prompt", ""))
    return Compiled(model=model, recipe=recipe, cast=cast + carried, problems=problems, carried=carried)


def _frame_and_fit_problems(scene: Scene, model: CatalogModel, recipe: dict[str, Any], *, fresh: bool,
                            shot: str = "", start_previous: bool = False) -> list[str]:
    """A take of the scene: the frames it starts from and ends on (resolved into the recipe when fresh), and
    whether the model renders its size and length (a shot of a multi-shot take: its size only, the group's
    length is the group's to check)."""
    problems = []
    if fresh and shot != "later":  # a later shot follows the one before it in the same take
        frames = continuity.recipe_frames(scene, roles=("start",) if shot else ("start", "end"),
                                          start_previous=start_previous)
        problems += frames.problems
        recipe.update(frames.entries)
    # What the take starts from and ends on, as the scene asks (a frame that could not be had is refused
    # above, and still needs a model that takes it).
    if start_previous:  # the previous scene's frame wins over the scene's own image
        recipe.pop("reference_image", None)
    start = ("previous" if recipe.get("start_frame") or (fresh and (scene.start_from == StartFrom.PREVIOUS
                                                                    or start_previous))
             else "image" if recipe.get("reference_image") else "")
    end = "frame" if recipe.get("end_frame") or (fresh and scene.end_on) else ""
    if shot:
        problems += shot_frame_problems(scene, first=shot == "first")
        start = start if shot == "first" else ""
        end = ""
    if lacks := catalog.frame_problems(model, start=start, end=end):
        problems.append(catalog.lacking_refusal(team=scene.project.team, model=model, problems=lacks,
                                                scenes=[scene]))
    params = recipe["parameters"]
    return problems + (model.size_problems(params["size"]) if shot
                       else model.problems_for(size=params["size"], seconds=int(params["seconds"])))


def shot_frame_problems(scene: Scene, *, first: bool) -> list[str]:
    """What a scene asks of its frames that a shot of a multi-shot take cannot give: the take starts from
    one frame (its first shot's), and ends wherever its last shot ends."""
    words = {"scene": scene.number}
    problems = []
    if not first and scene.reference_image and scene.start_from != StartFrom.PREVIOUS:
        problems.append(gettext("Scene %(scene)d starts from its own reference image, but in a multi-shot take "
                                "only the first shot starts from an image: the others follow the shot before "
                                "them. Remove its image, or render it on its own.") % words)
    if not first and scene.start_from == StartFrom.PREVIOUS and scene.start_take_id:
        problems.append(gettext("Scene %(scene)d starts from a frame chosen in the player, but in a multi-shot "
                                "take it follows the shot before it: start it from the scene before, or render "
                                "it on its own.") % words)
    if scene.end_on:
        problems.append(gettext("Scene %(scene)d ends on a frame, which a multi-shot take cannot: each shot "
                                "cuts to the next. Stop ending it on a frame, or render it on its own.") % words)
    return problems


def prompt_problems(connection: ProviderConnection, model_id: str, prompt: str) -> list[str]:
    """Why the connection's provider would refuse this prompt on this model (a length limit), if it would."""
    try:
        adapter = adapter_class(connection.kind)
    except ProviderError:  # no adapter for this kind here: the take fails at submit, saying so
        return []
    return adapter.prompt_problems(model_id=model_id, prompt=prompt)


def form_key(value: object) -> uuid.UUID:
    """The idempotency key a form carried: one click books one thing."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(gettext("This form is out of date; reload the page and try again."))


def take_number_next(scene: Scene) -> int:
    """The scene's next take number (1, 2, …). Call it with the scene row locked, inside the booking."""
    return (Render.objects.filter(scene_id=scene.pk).aggregate(n=Max("number"))["n"] or 0) + 1


def render_create(
    *, scene: Scene, user: User, connection: ProviderConnection, model_id: str, idempotency_key: object,
    recipe: dict[str, Any] | None = None, parent: Render | None = None, start_previous: bool = False,
) -> tuple[Render, bool]:
    """Book one take and enqueue its submission.

    The idempotency key comes from the form the user clicked: a double click or
    a resent request finds the take the first click made and starts nothing.
    Returns (render, created).
    """
    key = form_key(idempotency_key)
    existing = Render.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return same_scene_or_refuse(existing, scene), False

    compiled = render_compile(scene=scene, connection=connection, model_id=model_id, recipe=recipe,
                              start_previous=start_previous)
    if compiled.problems:
        raise ValidationError(compiled.problems)
    model, recipe, cast = compiled.model, compiled.recipe, compiled.cast
    if model is None:  # render_compile says a problem whenever it found no model
        raise ValueError(f"take of scene {scene.pk} compiled without a model")
    params = recipe["parameters"]
    cost = catalog.cost_of(model, size=params["size"], seconds=params["seconds"])
    try:
        with transaction.atomic():
            budget.hold(scene.project, cost, user=user)  # locks team, member, project, then the scene
            # Lock the scene row so two takes booked at once get different numbers; a scene a teammate
            # moved to the trash meanwhile books nothing (the board's manager no longer finds it).
            if type(scene).objects.select_for_update().filter(pk=scene.pk).first() is None:
                raise ValidationError(gettext("This scene was moved to the trash meanwhile: nothing was booked. "
                                              "Restore it from the project's Trash to render it."))
            # A new take from the scene as it is now answers a stale approval.
            type(scene).objects.filter(pk=scene.pk).update(approval_stale_fields=[])
            render = Render.objects.create(
                scene=scene, parent=parent, connection=connection, provider=connection.kind,
                model=model.model_id, recipe=recipe, idempotency_key=key, created_by=user, cost=cost,
                number=take_number_next(scene),
            )
            if cast:
                render.characters.set(cast)
            render_tasks.submit_render.delay_on_commit(render.pk)
            on_render_started(render)
    except IntegrityError:
        # Two requests with one key raced: the other one won and owns the take.
        return same_scene_or_refuse(Render.objects.get(idempotency_key=key), scene), False
    except budget.OverBudget as refusal:
        budget.on_refused(refusal)  # after the rollback, so the owners' alert is kept
        raise
    log.info("take %s booked", render.pk, extra={
        "take_id": render.pk, "scene_id": scene.pk, "project_id": scene.project_id, "user_id": user.pk,
        "provider": connection.kind, "model": render.model, "cost": str(cost), "status": render.status})
    return render, True


def _cast_of(recipe: dict[str, Any], scene: Scene | None = None) -> list[Any]:
    ids = [c["id"] for c in recipe.get("cast", [])]
    # The scene's prefetched cast (the batch page) saves a query per scene; a recipe being
    # retried may name characters since dropped from the scene: then ask the database.
    prefetched = getattr(scene, "_prefetched_objects_cache", {}).get("cast")
    known = {c.pk: c for c in prefetched} if prefetched is not None else {}
    found = known if set(ids) <= set(known) else {c.pk: c for c in Character.objects.filter(pk__in=ids)}
    if len(found) != len(set(ids)):
        raise ValidationError(gettext("A character in this scene was deleted from the library; edit the scene."))
    return [found[i] for i in ids]


def _carried_of(recipe: dict[str, Any], cast: list[Any]) -> list[Any]:
    """The people the recipe's start and end frames show who are not already in its cast."""
    ids = [pk for pk in continuity.carried_cast(recipe) if pk not in {c.pk for c in cast}]
    if not ids:
        return []
    found = {c.pk: c for c in Character.objects.filter(pk__in=ids)}
    if len(found) != len(ids):
        raise ValidationError(gettext("A character shown in the start or end frame was deleted from the library; "
                                      "choose another frame."))
    return [found[i] for i in ids]


def same_scene_or_refuse(render: Render, scene: Scene) -> Render:
    if render.scene_id != scene.pk:
        raise ValidationError(gettext("This form was already used for another scene; reload the page."))
    return render


def render_retry(*, render: Render, user: User, idempotency_key: object) -> tuple[Render, bool]:
    """A new take with the failed take's exact recipe, linked to it. (A part of a multi-shot take is retried
    with its whole group: shot_groups.shot_group_retry.)"""
    if render.status not in {Status.FAILED, Status.CANCELED}:
        raise ValidationError(gettext("Only a failed or canceled take can be retried."))
    if render.shot_group_id is not None:
        raise ValidationError(gettext("This take is a part of a multi-shot take: retry the whole take, or "
                                      "render this scene on its own."))
    if render.connection is None:
        raise ValidationError(CONNECTION_REMOVED)
    return render_create(
        scene=render.scene, user=user, connection=render.connection, model_id=render.model,
        idempotency_key=idempotency_key, recipe=render.recipe, parent=render,
    )


def render_remix(*, render: Render, user: User, prompt: str, idempotency_key: object,
                 override_reason: str | None = None) -> tuple[Render, bool]:
    """A child take: the provider reworks a finished take with a new prompt.

    A take whose checks failed (tampered credentials, a delivery other than booked:
    checks.approval_blocker) is remixed only by an owner with a written reason; the reason is
    kept in the scene's decision history and in the remix's recipe, so its exports carry it."""
    prompt = (prompt or "").strip()
    if not prompt:
        raise ValidationError(gettext("Describe what should change in the remix."))
    if render.status != Status.SUCCEEDED:
        raise ValidationError(gettext("Only a finished take can be remixed."))
    model = catalog.resolve(render.connection, render.model) if render.connection_id else None
    if catalog.is_retired(model):
        raise ValidationError(catalog.refusal(team=render.scene.project.team, connection=render.connection,
                                              model_id=render.model, model=model, scenes=[render.scene]))
    if model is None or not model.supports_remix:
        raise ValidationError(gettext("%(model)s cannot remix takes; render a new take instead.")
                              % {"model": render.model})
    override = checks.override_note_for(take=render, user=user, override_reason=override_reason, action="remix")
    recipe = {**render.recipe, "prompt": prompt,
              "remix_of": {"take": render.pk, "provider_job_id": render.provider_job_id}}
    recipe.pop("remix_override", None)  # a remix of a remix answers for its own parent only
    for key in ("extend_of", "extend_override"):  # a remix of an extension reworks it; it extends nothing
        recipe.pop(key, None)
    if override:
        recipe["remix_override"] = {"by": user.get_username(), "reason": override}
    with budget.refusal_alerts(), transaction.atomic():  # the alert outlives this rollback
        if render.connection is None:  # no model resolves without one: refused above
            raise ValidationError(CONNECTION_REMOVED)
        child, created = render_create(scene=render.scene, user=user, connection=render.connection,
                                       model_id=render.model, idempotency_key=idempotency_key, recipe=recipe,
                                       parent=render)
        if override and created:
            checks.take_remix_overridden(take=render, remix=child, user=user, override=override)
    return child, created


def render_cancel(*, render: Render, user: User) -> Render:
    """Stop a take. The provider's own cancel, where it has one, runs in a task. A part of a multi-shot take
    stops the whole take: its one job is its lead's, and every part follows it."""
    if render.follows_group:
        group = render.shot_group
        assert group is not None and group.lead_id is not None, "a part follows a group that has a lead"
        lead = Render.objects.select_related("connection", "scene").get(pk=group.lead_id)
        render_cancel(render=lead, user=user)
        render.refresh_from_db()
        return render
    if render.status == Status.SUBMITTING:
        raise ValidationError(gettext("This take is being sent to the provider right now; cancel it in a moment."))
    if render.status == Status.CONFIRMING:  # canceling now would give back a cost the provider may bill
        raise ValidationError(gettext("The studio is still finding out whether the provider made this take; "
                                      "cancel it once it knows."))
    if render.is_terminal or render.status == Status.DOWNLOADING:
        raise ValidationError(gettext("This take has already finished."))
    had_job = render.status == Status.RUNNING
    words = [said("take.canceled_by", who=user.get_username()) if user else said("take.canceled")]
    cleanup, code = "", ""
    try:
        provider = provider_for(render.connection) if had_job and render.connection_id else None
    except ProviderError:  # no adapter for this kind here: cancel in the studio all the same
        provider = None
    facts = provider.facts if provider is not None else None
    provider_name = provider.name if provider is not None else ""
    if facts is not None and not facts.cancels:
        # Nothing can stop the job: say what that costs, and remove what it leaves behind.
        words.append(said("take.no_cancel_will_delete" if facts.deletes_finished else "take.no_cancel",
                          provider=provider_name))
        cleanup = "pending" if facts.deletes_finished else ""
    elif facts is not None and facts.cancel_refund == CancelRefund.NONE:
        words.append(said("take.not_refunded", provider=provider_name))
    if facts is not None and facts.cancel_refund == CancelRefund.NONE:
        code = "not_refunded"  # the card says why its cost stays counted (Render.cost_outcome)
    # The cleanup task is enqueued below; the lease keeps the sweeper off it meanwhile.
    lease = {"lease_until": timezone.now() + timedelta(minutes=1)} if cleanup else {}
    if not render.advance(Status.CANCELED, words=words, provider_cleanup=cleanup, failure_code=code,
                          **lease):
        render.refresh_from_db()
        raise ValidationError(gettext("This take changed meanwhile (now %(status)s).")
                              % {"status": render.get_status_display().lower()})
    if had_job:
        render_tasks.cancel_at_provider.delay_on_commit(render.pk)
    return render

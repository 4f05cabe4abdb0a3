"""Extend a take: a finished take continued by N seconds, booked as a new take in the same stack.

The extension's parent is the extended take (lineage "Extension of take N"). It is booked through
the one booking path (services.render_create): the model's policy, price ceiling and retirement, the
budgets and their locks, consent (whoever the extended take shows is cast in the extension: its clip
is the extension's first part) and the one-click key apply as to any take. Its cost is what the
provider bills for the new seconds, priced from the catalog like any take of that length.

The catalog says what a provider returns (the whole clip, or only the new part); the studio always
keeps the whole clip and records where the continuation begins (Render.join_seconds): see
generation/renders/joining.py for the worker's side.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext

from generation import catalog
from generation.models import Render, Status
from generation.renders import checks, continuity, services
from generation.spend import budget
from projects.inputs import parse_id

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from generation.models import CatalogModel
    from projects.models import Team



@dataclass(frozen=True)
class ExtendOption:
    """One choice of the Extend form: a model of the take's connection and a length it extends by."""

    model_id: str
    name: str
    seconds: int
    cost: Decimal

    @property
    def value(self) -> str:
        return f"{self.model_id}@{self.seconds}"


def extend_options(take: Render, team: Team) -> list[ExtendOption]:
    """What the take can be extended by: each length of each live model of its connection that extends, priced
    at the take's size (cheapest model first, then shortest)."""
    if take.connection_id is None:
        return []
    size = (take.recipe.get("parameters") or {}).get("size", "")
    options = []
    for target in catalog.extension_targets(team, take.connection_id):
        if size not in target.model.sizes:
            continue
        options += [ExtendOption(target.model.model_id, target.model.display_name, seconds,
                                 catalog.cost_of(target.model, size=size, seconds=seconds))
                    for seconds in sorted(target.model.extend_seconds)]
    return options


def parse_choice(value: str) -> tuple[str, int]:
    """ "model@seconds" from the form (the last "@": model ids may hold one); ValidationError in words."""
    model_id, at, seconds = str(value or "").rpartition("@")
    number = parse_id(seconds)
    if not (at and model_id and number):
        raise ValidationError(gettext("Choose how much to extend the take by."))
    return model_id, number


def extension_recipe(*, take: Render, model: CatalogModel, seconds: int, prompt: str) -> dict[str, Any]:
    """The extension's recipe: what it asks the provider for, and which take (file, job, last frame) it continues.

    Nothing of the scene as it is now goes in: an extension continues the take as it was made."""
    connection = take.connection
    if connection is None:  # refused before this: a removed connection's take cannot be extended
        raise ValidationError(gettext("This take's provider connection was removed: it cannot be extended."))
    parent = take.recipe or {}
    scene = take.scene
    params = parent.get("parameters") or {}
    last = continuity.stored_frame(take, None)  # the previz draws from it; ComfyUI may take it as its image
    with default_storage.open(last.name, "rb") as png:
        last_sha = hashlib.sha256(png.read()).hexdigest()
    with take.video.open("rb") as video:
        video_sha = _sha256(video)
    return {
        "project": {"id": scene.project_id, "name": scene.project.name},
        "scene": {"id": scene.pk, "number": scene.number, "title": scene.title},
        "prompt": prompt or parent.get("scene_prompt") or parent.get("prompt") or scene.prompt,
        "provider": connection.kind,
        "connection": connection.label,
        "model": model.model_id,
        "parameters": {"seconds": int(seconds), "size": params.get("size", scene.size),
                       "camera_notes": params.get("camera_notes", "")},
        "extend_of": {
            "take": {"id": take.pk, "number": take.number},
            "scene": {"id": scene.pk, "number": scene.number, "title": scene.title},
            "provider_job_id": take.provider_job_id,
            "model": take.model,
            "seconds": int(seconds),
            "returns": model.extend_returns,
            "source_seconds": take.duration_seconds,
            "video": take.video.name,
            "video_sha256": video_sha,
            "last_frame": {"original": last.name, "frame": last.index, "fit": "crop", "sha256": last_sha},
            "cast": sorted(take.characters.values_list("pk", flat=True)),
        },
    }


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def render_extend(*, render: Render, user: User, choice: str, prompt: str, idempotency_key: object,
                  override_reason: str | None = None) -> tuple[Render, bool]:
    """Book the take's continuation: `choice` is "model@seconds" (a model of the take's connection and a length
    it extends by); `prompt` steers the continuation (empty: the take's own prompt).

    A take withheld (consent revoked) is never extended. One whose checks failed (tampered credentials, a
    delivery other than booked) is extended only by an owner with a written reason, kept in the scene's
    decision history and in the extension's recipe, as for a remix."""
    key = services.form_key(idempotency_key)
    existing = Render.objects.filter(idempotency_key=key).first()
    if existing is not None:  # the same click again: the take it booked, nothing new
        return services.same_scene_or_refuse(existing, render.scene), False
    prompt = (prompt or "").strip()
    model_id, seconds = parse_choice(choice)
    names = {"take": render.number}
    if render.quarantined_at is not None:
        raise ValidationError(gettext("Take %(take)d is withheld (%(reason)s): it cannot be extended.") % {
            **names, "reason": render.quarantine_reason or gettext("consent revoked")})
    if render.status != Status.SUCCEEDED or not render.video:
        raise ValidationError(gettext("Only a finished take can be extended; take %(take)d has not finished.") % names)
    if render.connection_id is None:
        raise ValidationError(gettext("Take %(take)d was made by a provider connection that was removed: it cannot "
                                      "be extended. Render a new take instead.") % names)
    connection = render.connection
    model = catalog.resolve(connection, model_id)
    if model is None or catalog.is_retired(model):
        raise ValidationError(catalog.refusal(team=render.scene.project.team, connection=connection,
                                              model_id=model_id, model=model, scenes=[render.scene]))
    override = checks.override_note_for(take=render, user=user, override_reason=override_reason, action="extend")
    try:
        recipe = extension_recipe(take=render, model=model, seconds=seconds, prompt=prompt)
    except (ValueError, OSError):
        raise ValidationError(gettext("Take %(take)d's video could not be read, so it cannot be extended.") % names)
    if override:
        recipe["extend_override"] = {"by": user.get_username(), "reason": override}
    with budget.refusal_alerts(), transaction.atomic():  # the alert outlives this rollback
        if render.connection is None:  # refused by extension_check
            raise ValidationError(services.CONNECTION_REMOVED)
        child, created = services.render_create(scene=render.scene, user=user, connection=render.connection,
                                                model_id=model.model_id, idempotency_key=key, recipe=recipe,
                                                parent=render)
        if override and created:
            checks.take_extend_overridden(take=render, extension=child, user=user, override=override)
    return child, created


@dataclass
class ExtensionPreview:
    """What an extension would send, cost and keep, before anyone pays for it (the form's "What will be sent")."""

    problems: list[Any]
    model: object = None
    recipe: dict[str, Any] | None = None
    cost: Decimal = Decimal(0)
    cast: list[Any] | None = None
    source_seconds: float = 0.0

    @property
    def join_seconds(self) -> float:
        return self.source_seconds

    @property
    def whole_seconds(self) -> float:
        return self.source_seconds + int((self.recipe or {}).get("parameters", {}).get("seconds", 0))


def extension_preview(*, take: Render, choice: str) -> ExtensionPreview:
    """The extension `choice` would book for `take`, with every reason it would be refused (nothing is booked)."""
    try:
        model_id, seconds = parse_choice(choice)
    except ValidationError as exc:
        return ExtensionPreview(problems=exc.messages)
    connection = take.connection
    if take.status != Status.SUCCEEDED or not take.video or connection is None:
        return ExtensionPreview(problems=[gettext("Only a finished take can be extended.")])
    model = catalog.resolve(connection, model_id)
    if model is None or catalog.is_retired(model):
        return ExtensionPreview(problems=[catalog.refusal(team=take.scene.project.team, connection=connection,
                                                          model_id=model_id, model=model, scenes=[take.scene])])
    try:
        recipe = extension_recipe(take=take, model=model, seconds=seconds, prompt="")
    except (ValueError, OSError):
        return ExtensionPreview(problems=[gettext("This take's video could not be read.")])
    compiled = services.render_compile(scene=take.scene, connection=connection, model_id=model.model_id,
                                       recipe=recipe)
    problems = list(compiled.problems)
    if blocker := checks.approval_blocker(take):
        problems.append(gettext("Only an owner can extend this take, with a written reason: %(why)s") % {"why": blocker})
    return ExtensionPreview(problems=problems, model=compiled.model or model, recipe=compiled.recipe or recipe,
                            cost=catalog.cost_of(model, size=recipe["parameters"]["size"], seconds=seconds),
                            cast=compiled.cast, source_seconds=float(take.duration_seconds or 0))

"""Actions that change the team's world. Keyword-only, named <entity>_<action>."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from generation.storage.reference import FITS, ReferenceError, verified_name
from generation.words import Said, listed, said
from projects.activity.feed import record
from projects.audit import audit_record, changes
from projects.characters.consent import consent_problem
from projects.inputs import parse_id
from projects.live import ChangeKind, live_publish
from projects.models import (
    AuditAction,
    BoardView,
    Character,
    DialogueLine,
    Project,
    RevisionKind,
    Scene,
    Team,
    UserPreference,
)
from projects.models.storyboard import RECIPE_FIELDS
from projects.storyboard.casting import (
    mentioned_characters,
    prompt_cast_check,
    scene_lines,
    scene_sync_cast,
    scene_text,
)
from projects.storyboard.dialogue.text import compose, remap_after
from projects.storyboard.revisions import board_revision
from projects.storyboard.sound import tasks as sound_tasks

SCENE_FIELDS = ("title", "prompt", "duration", "size", "camera_notes")


class StaleOrder(ValidationError):
    """A reorder based on a list of scenes that is no longer the project's (one was added or deleted)."""


class SceneConflict(Exception):
    """A save was based on a version someone else has since replaced, and changed the same fields.

    `fields`: the fields both changed (what the user must decide); empty when the
    caller gave no base to merge against.
    """

    def __init__(self, current: Scene, fields: list[str] | None = None):
        super().__init__(f"Scene {current.pk} changed (now version {current.version}).")
        self.current = current
        self.fields = fields or []


def project_set_model_policy(*, project: Project, user, allowed_models: list[str],
                             max_price_per_second: Decimal | None) -> Project:
    """Which models may be booked in the project from now on (empty: any) and at what price a second at
    most (None: any). Takes already booked keep rendering."""
    allowed_models = sorted(set(allowed_models))
    with transaction.atomic():
        before = (Project.objects.select_for_update(no_key=True).filter(pk=project.pk)
                  .values("allowed_models", "max_price_per_second").get())
        Project.objects.filter(pk=project.pk).update(allowed_models=allowed_models,
                                                     max_price_per_second=max_price_per_second)
        price = [None if v is None else f"{Decimal(v):.4f}"
                 for v in (before["max_price_per_second"], max_price_per_second)]
        changed = changes({"allowed_models": sorted(before["allowed_models"] or []), "max_price_per_second": price[0]},
                          {"allowed_models": allowed_models, "max_price_per_second": price[1]})
        if changed:
            audit_record(team=project.team_id, actor=user, action=AuditAction.MODEL_POLICY_SET, target=project,
                         details={"changes": changed})
    project.allowed_models, project.max_price_per_second = allowed_models, max_price_per_second
    return project


def _feed(project: Project, kind: str, user, text: str | Said, scene: Scene | None = None) -> None:
    """The project's activity feed: what changed on the storyboard, and by whom."""

    record(project=project, kind=kind, actor=user if getattr(user, "pk", None) else None, scene=scene, text=text)


def project_create(*, team: Team, user, name: str, description: str = "",
                   default_size: str = "1280x720", default_duration: int = 4, budget=None) -> Project:
    project = Project.objects.create(
        team=team, name=name, description=description, default_size=default_size,
        default_duration=default_duration, budget=budget, created_by=user,
    )
    _feed(project, "project_created", user, said("feed.project_created", name=name))
    return project


def scene_create(*, project: Project, user, title: str, prompt: str, duration: int, size: str,
                 camera_notes: str = "", dialogue: Sequence[DialogueLine] = ()) -> Scene:
    """A new scene at the end of the storyboard; `dialogue`: its lines, unsaved, in order (a script's)."""
    with transaction.atomic():
        position = project.scenes.count()
        scene = Scene(
            project=project, position=position, title=title, prompt=prompt, duration=duration,
            size=size, camera_notes=camera_notes, updated_by=user,
        )
        scene.full_clean()
        if not prompt.strip() and not dialogue:
            raise ValidationError(gettext("Describe what happens in the scene."))
        prompt_cast_check(compose(prompt, dialogue), project=project)
        scene.save()
        for position, line in enumerate(dialogue):
            line.scene, line.position, line.updated_by = scene, position, user
            line.full_clean(exclude=["scene", "updated_by"])
        DialogueLine.objects.bulk_create(dialogue)
        scene_sync_cast(scene=scene)
        Project.objects.filter(pk=project.pk).update(updated_at=timezone.now())
        live_publish(kind=ChangeKind.SCENE_CREATED, project=project, scene_id=scene.pk, actor=user)
        _feed(project, "scene_created", user, said("feed.scene_created", number=scene.number, title=title), scene=scene)
    return scene


def scene_update(*, scene: Scene, expected_version: int, user, base: dict | None = None, **fields) -> Scene:
    """Save an edit made to version `expected_version` of the scene.

    If nobody saved since, the fields are written as they are. If someone did
    and `base` (the values the editor loaded) is given, the edits merge by
    field: only the fields this user changed are written over the colleague's
    version, and only a field both changed (to different values) is a
    conflict, raised with those fields named. Without `base`, any intervening
    save is a conflict.
    """
    unknown = set(fields) - set(SCENE_FIELDS)
    if unknown:
        raise ValueError(f"Not scene fields: {sorted(unknown)}")
    for _attempt in range(3):  # a colleague may save again between our read and our write
        current = Scene.objects.select_related("updated_by").filter(pk=scene.pk).first()
        if current is None:  # a teammate moved it to the trash after the page asked for it
            raise ValidationError(gettext("This scene was moved to the trash meanwhile: nothing was saved. "
                                          "Restore it from the project's Trash to save your edit."))
        if current.version == expected_version:
            writing = fields
        elif base is None:
            raise SceneConflict(current)
        else:
            mine = {name: value for name, value in fields.items() if value != base.get(name)}
            clashes = [name for name, value in mine.items()
                       if getattr(current, name) != base.get(name) and getattr(current, name) != value]
            if clashes:
                raise SceneConflict(current, fields=clashes)
            writing = mine
        changed = [name for name, value in writing.items() if getattr(current, name) != value]
        if not changed:
            return current  # nothing of ours is new: no version bump, no feed entry
        if "prompt" in changed:  # refused before anything is written: the cast follows the prompt
            lines = scene_lines(current)
            if not writing["prompt"].strip() and not lines:
                raise ValidationError(gettext("Describe what happens in the scene."))
            prompt_cast_check(compose(writing["prompt"], lines), project=current.project,
                              cast=current.cast.values_list("pk", flat=True))
        # A length typed by hand is the length wanted: the scene stops following its lines.
        unfit = {"fit_to_dialogue": False} if "duration" in changed else {}
        updated = Scene.objects.filter(pk=scene.pk, version=current.version).update(
            **{name: writing[name] for name in changed}, **unfit, version=F("version") + 1, updated_by=user,
            updated_at=timezone.now(), approval_stale_fields=_stale_after(current, changed))
        if updated:
            if "prompt" in changed:
                _keep_lines_in_place(lines, old_prompt=current.prompt, new_prompt=writing["prompt"])
            break
        expected_version = expected_version if base is not None else -1
    else:
        raise SceneConflict(Scene.objects.select_related("updated_by").get(pk=scene.pk))
    scene.refresh_from_db()
    cast_before = set(scene.cast.values_list("pk", flat=True))
    scene_sync_cast(scene=scene)
    # Casting is written into the prompt as @mentions: the feed names it when the cast changed.
    recast = ["cast"] if set(scene.cast.values_list("pk", flat=True)) != cast_before else []
    _feed(scene.project, "scene_edited", user,
          said("feed.edited", scene=scene.title, what=listed([said(f"field.{name}") for name in [*changed, *recast]])),
          scene=scene)
    live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk, actor=user,
                 data={"fields": changed, "version": scene.version})
    return scene


def _keep_lines_in_place(lines: list[DialogueLine], *, old_prompt: str, new_prompt: str) -> None:
    """Dialogue spoken between two rows of the action stays between them when the action is edited."""
    for line, after in zip(lines, remap_after(old_prompt, new_prompt, [line.after_prompt_lines for line in lines])):
        if after != line.after_prompt_lines:
            DialogueLine.objects.filter(pk=line.pk).update(after_prompt_lines=after)


def scene_set_reference(*, scene: Scene, user, upload=None, fit: str | None = None, remove: bool = False) -> Scene:
    """Attach, replace, re-fit or remove a scene's reference image.

    Originals are never overwritten or deleted here: takes that used one keep it.
    """
    if fit is not None and fit not in FITS:
        raise ValidationError(gettext("Choose crop or pad."))
    before = (scene.reference_image.name or "", scene.reference_fit)
    if upload is not None:
        try:
            name = verified_name(upload, stem="reference")
        except ReferenceError as exc:
            raise ValidationError(str(exc))
        # Stored (and later served) as what Pillow found, whatever the uploader called it.
        scene.reference_image.save(name, upload, save=False)
    elif remove:
        scene.reference_image = ""
    if fit is not None:
        scene.reference_fit = fit
    Scene.objects.filter(pk=scene.pk).update(
        reference_image=scene.reference_image.name or "", reference_fit=scene.reference_fit,
        version=F("version") + 1, updated_by=user, updated_at=timezone.now(),
        approval_stale_fields=_stale_after(scene, ["reference_image"] if upload is not None or remove else []),
    )
    scene.refresh_from_db()
    if upload is not None or before[0] != (scene.reference_image.name or ""):
        _feed(scene.project, "scene_edited", user, said("feed.reference_image", scene=scene.title), scene=scene)
    elif before[1] != scene.reference_fit:
        _feed(scene.project, "scene_edited", user, said("feed.reference_fit", scene=scene.title), scene=scene)
    live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk, actor=user,
                 data={"fields": ["reference_image"], "version": scene.version})
    return scene


# What a take is made from beyond the recipe's fields: editing one makes an approval stale too.
FRAME_FIELDS = ("reference_image", "start_frame", "end_frame")


def _stale_after(current: Scene, changed) -> list[str]:
    """The scene's stale-approval fields once `changed` are written: a recipe field edited
    while a take is approved means that take no longer shows what the scene asks for."""
    if not current.approved_take_id:
        return []
    stale = [name for name in changed if name in RECIPE_FIELDS or name in FRAME_FIELDS]
    return list(dict.fromkeys([*current.approval_stale_fields, *stale]))


def scene_move(*, scene: Scene, offset: int, user=None) -> None:
    """Move a scene up (-1) or down (+1) in its project."""
    with transaction.atomic():
        scenes = list(Scene.objects.select_for_update().filter(project=scene.project_id))
        index = next(i for i, s in enumerate(scenes) if s.pk == scene.pk)
        target = index + offset
        if not 0 <= target < len(scenes):
            return
        scenes.insert(target, scenes.pop(index))
        save_order(scenes, user)
        _feed(scene.project, "scenes_reordered", user,
              said("feed.moved", scene=scene.title, before=index + 1, after=target + 1), scene=scene)


def save_order(scenes: list[Scene], user=None, *, project: Project | None = None, publish: bool = False) -> bool:
    """Number the board's scenes 0, 1, 2 … in this order (what every board and export shows).
    Every open board is told the order when a scene moved (or always, with `publish`); returns whether one
    moved."""
    moved = False
    for position, s in enumerate(scenes):
        if s.position != position:
            Scene.all_objects.filter(pk=s.pk).update(position=position)
            s.position = position
            moved = True
    if (moved or publish) and (scenes or project is not None):  # every open board puts its frames in this order
        live_publish(kind=ChangeKind.SCENES_REORDERED, project=project or scenes[0].project, actor=user,
                     data={"order": [s.pk for s in scenes]})
    return moved


def scene_reorder(*, project: Project, user, scene_ids) -> list[Scene]:
    """Put the project's scenes in exactly this order (one drag and drop).

    `scene_ids` must be every scene of the project, once: a list drawn before a teammate
    added or deleted a scene is refused (StaleOrder) rather than guessed at.
    """
    ids = scene_ids_from(scene_ids)
    with transaction.atomic():
        project_touch(project)
        scenes = list(Scene.objects.select_for_update().filter(project=project).order_by("position", "pk"))
        if len(ids) != len(set(ids)) or set(ids) != {s.pk for s in scenes}:
            raise StaleOrder(gettext("The storyboard changed while you were dragging (a scene was added or deleted). "
                                     "This is its current order: drag again."))
        by_pk = {s.pk: s for s in scenes}
        ordered = [by_pk[pk] for pk in ids]
        moved = [s for s, was in zip(ordered, [p.pk for p in scenes]) if s.pk != was]
        if moved:
            with board_revision(project=project, user=user, kind=RevisionKind.REORDER) as revision:
                save_order(ordered, user)
                line = said("feed.reordered", order=", ".join(f"{s.position + 1}. {s.title}" for s in ordered)[:460])
                revision.summary = line
            _feed(project, "scenes_reordered", user, line)
    return ordered


def scene_bulk_move(*, project: Project, user, scene_ids, to) -> list[Scene]:
    """Move the selected scenes together, keeping their order: to "top", "bottom" or position N (1-based)."""
    ids = set(scene_ids_from(scene_ids))
    if not ids:
        raise ValidationError(gettext("Select at least one scene to move."))
    with transaction.atomic():
        project_touch(project)
        scenes = list(Scene.objects.select_for_update().filter(project=project).order_by("position", "pk"))
        chosen = [s for s in scenes if s.pk in ids]
        if len(chosen) != len(ids):
            raise StaleOrder(gettext("Some selected scenes are no longer on the storyboard; nothing was moved."))
        rest = [s for s in scenes if s.pk not in ids]
        if to == "top":
            at = 0
        elif to == "bottom":
            at = len(rest)
        else:
            try:
                at = int(to) - 1
            except (TypeError, ValueError):
                raise ValidationError(gettext("Choose where to move the scenes: top, bottom or a scene number."))
            if not 0 <= at <= len(rest):
                raise ValidationError(gettext("Choose a position from 1 to %(last)d.") % {"last": len(rest) + 1})
        ordered = rest[:at] + chosen + rest[at:]
        with board_revision(project=project, user=user, kind=RevisionKind.BULK_MOVE) as revision:
            save_order(ordered, user)
            line = said("feed.bulk_moved", count=len(chosen), titles=", ".join(s.title for s in chosen),
                        position=chosen[0].position + 1)
            revision.summary = line
        _feed(project, "scenes_reordered", user, line)
    return ordered


def scene_move_next_to(*, project: Project, user, scene_id, after_id=None, before_id=None) -> list[Scene]:
    """One frame dropped right after another (or, first in its list, right before one): the board's drag,
    which sees only the frames loaded or filtered on the page, so it names its neighbour, not the whole order."""
    moved, after, before = (parse_id(v) for v in (str(scene_id or ""), str(after_id or ""), str(before_id or "")))
    with transaction.atomic():
        project_touch(project)
        rest = list(Scene.objects.select_for_update().filter(project=project).order_by("position", "pk")
                    .values_list("pk", flat=True))
        anchor = after or before
        if moved not in rest or (anchor is not None and (anchor == moved or anchor not in rest)):
            raise StaleOrder(gettext("The storyboard changed while you were dragging (a scene was deleted). "
                                     "This is its current order: drag again."))
        rest.remove(moved)
        at = 0 if anchor is None else rest.index(anchor) + (1 if after else 0)
        return scene_bulk_move(project=project, user=user, scene_ids=[moved], to=at + 1)


def project_touch(project: Project) -> None:
    """The project was changed now. Called first in a transaction that then locks scene rows: the project
    row, then its scenes, is the order every booking (generation/spend/budget.py) and the trash take them
    in, so none of them waits on another in a circle (PostgreSQL would end one with "deadlock detected")."""
    Project.objects.filter(pk=project.pk).update(updated_at=timezone.now())


def scene_ids_from(values) -> list[int]:
    """Scene ids from a form: repeated values or one comma-separated string."""
    if isinstance(values, str):
        values = values.split(",")
    given = [parse_id(v) for v in values if str(v).strip()]
    ids = [pk for pk in given if pk is not None]
    if len(ids) != len(given):
        raise ValidationError(gettext("This form is out of date; reload the page and try again."))
    return ids


def preference_set_board_view(*, user, view: str) -> UserPreference:
    if view not in BoardView.values:
        raise ValidationError(gettext("Choose the grid or the list view."))
    preference, _ = UserPreference.objects.update_or_create(user=user, defaults={"board_view": view})
    return preference


# --- Casting from the list -------------------------------------------------------------------


def scene_cast_add(*, scene: Scene, character: Character, user) -> Scene:
    """Casting from the list writes the @mention into the prompt, so the two never disagree.
    A person is cast only while their consent covers this project."""
    if character.team_id != scene.project.team_id:
        raise ValidationError(gettext("That character belongs to another team."))
    # As the script import words it: nobody is cast who could not be rendered here, whatever the provider.
    if problem := consent_problem(character, project=scene.project, provider_kind=None):
        raise ValidationError(gettext("%(problem)s %(name)s cannot be cast.") % {"problem": problem, "name": character.name})
    if character in mentioned_characters(scene_text(scene), scene.project.team):
        return scene
    return scene_update(scene=scene, expected_version=scene.version, user=user,
                        prompt=f"{scene.prompt.rstrip()} @{character.name}")


def scene_cast_remove(*, scene: Scene, character: Character, user) -> Scene:
    """Un-casting turns every @Name mention back into the plain name, in the prompt and in the
    dialogue, and the character's own lines are then spoken by that plain name."""
    pattern = re.compile(r"@" + re.escape(character.name) + r"(?![\w])", re.IGNORECASE)
    with transaction.atomic():
        lines = [line for line in scene_lines(scene)
                 if line.character_id == character.pk or pattern.search(line.text)]
        for line in lines:
            speaks = line.character_id == character.pk
            DialogueLine.objects.filter(pk=line.pk).update(
                character_id=None if speaks else line.character_id, speaker=character.name if speaks else line.speaker,
                text=pattern.sub(character.name, line.text), version=F("version") + 1, updated_by=user)
        prompt = pattern.sub(character.name, scene.prompt)
        if prompt != scene.prompt:  # its save syncs the cast from the lines too
            return scene_update(scene=scene, expected_version=scene.version, user=user, prompt=prompt)
        if lines:
            return scene_dialogue_changed(scene=scene, user=user)
    return scene


def scene_dialogue_changed(*, scene: Scene, user) -> Scene:
    """After a scene's lines changed (projects.storyboard.dialogue): a new version of the scene, its
    approval stale, its cast, the feed and every open board and panel."""
    current = Scene.objects.get(pk=scene.pk)
    Scene.objects.filter(pk=scene.pk).update(version=F("version") + 1, updated_by=user, updated_at=timezone.now(),
                                             approval_stale_fields=_stale_after(current, ["dialogue"]))
    scene.refresh_from_db()
    cast_before = set(scene.cast.values_list("pk", flat=True))
    scene_sync_cast(scene=scene)
    recast = set(scene.cast.values_list("pk", flat=True)) != cast_before
    _feed(scene.project, "scene_edited", user, said("feed.dialogue_cast" if recast else "feed.dialogue",
                                                    scene=scene.title), scene=scene)
    live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk, actor=user,
                 data={"fields": ["dialogue"], "version": scene.version})
    # Its lines are spoken again where they changed, and a scene fitting them is re-timed (a worker's job).
    sound_tasks.sound_voice_scene.delay_on_commit(scene.pk)
    return scene


def scene_set_in_cut(*, scene: Scene, user, in_cut: bool) -> Scene:
    """Put a scene back in the cut, or leave it out (it stays on the board either way): Play all, exports
    and a guest link to the approved cut play only the scenes in the cut."""
    if not Scene.objects.filter(pk=scene.pk).exclude(in_cut=in_cut).update(
            in_cut=in_cut, version=F("version") + 1, updated_by=user, updated_at=timezone.now()):
        scene.refresh_from_db()
        return scene  # already so (or gone to the trash meanwhile)
    scene.refresh_from_db()
    _feed(scene.project, "scene_edited", user,
          said("feed.back_in_cut" if in_cut else "feed.out_of_cut", scene=scene.title), scene=scene)
    live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk, actor=user,
                 data={"fields": ["in_cut"], "version": scene.version})
    return scene

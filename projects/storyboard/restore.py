"""Restoring a board revision: its scenes' content and order come back as new edits.

History is never rewritten: every scene that differs is saved again (a new version, the feed and every
open board hear of it), and the restore itself is a new revision. Nothing is deleted:
- a scene of the revision still on the board gets the revision's title, prompt, duration, size, camera
  notes, dialogue and place in the cut; its takes stay as they are;
- a scene of the revision now in the trash is restored from it first;
- a scene deleted forever since comes back as a new scene with the revision's content (its takes are gone);
- scenes added since stay on the board, after the revision's, out of the cut.

Approvals are decisions a reviewer makes on a take: a restore never approves anything. Where the revision's
approved take differs from today's, the result says so, and the take's review page is where to decide.
A line with a recording is never deleted by a restore (a recording is what someone recorded): it stays,
after the revision's lines, and the result says so. A person whose consent no longer allows casting is
not cast again: their lines come back spoken by their name, and the result says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from generation.words import said
from projects.activity.feed import record
from projects.form_errors import error_text
from projects.models import (
    ActivityKind,
    BoardRevision,
    Character,
    DialogueLine,
    LineRecording,
    RevisionKind,
    Scene,
)
from projects.storyboard import fields, services, trash
from projects.storyboard.casting import prompt_cast_check, scene_lines
from projects.storyboard.dialogue.text import compose
from projects.storyboard.revisions import (
    board_revision,
    board_snapshot,
    revision_board,
    revision_contents,
)

SCENE_TEXT_FIELDS = ("title", "prompt", "duration", "size", "camera_notes")


@dataclass
class Restored:
    revision: BoardRevision | None = None  # the revision the restore made (None: the board was it already)
    edited: list[Scene] = field(default_factory=list)
    from_trash: list[Scene] = field(default_factory=list)
    recreated: list[Scene] = field(default_factory=list)  # deleted forever: back as new scenes
    left_out: list[Scene] = field(default_factory=list)  # added since: after the revision's, out of the cut
    notes: list[str] = field(default_factory=list)  # what could not come back as it was, and why


def revision_restore(*, revision: BoardRevision, user) -> Restored:
    project = revision.project
    target = revision_board(revision, revision_contents([revision]))
    result = Restored()
    with transaction.atomic():
        with board_revision(project=project, user=user, kind=RevisionKind.RESTORE) as recording:
            rows = {s.pk: s for s in Scene.all_objects.select_for_update().filter(project=project)}
            waiting = [pk for pk, _ in target if pk in rows and rows[pk].in_trash]
            if waiting:
                result.from_trash = trash.scene_restore(project=project, scene_ids=waiting, user=user).scenes
            now = dict(board_snapshot(project))
            order = []
            for number, (pk, content) in enumerate(target, start=1):
                scene = rows.get(pk)
                if scene is None or scene.purged_at is not None:
                    scene = _recreate(project, user, content, number, result)
                    result.recreated.append(scene)
                elif _apply(Scene.objects.get(pk=pk), now[pk], content, user, number, result):
                    result.edited.append(scene)
                order.append(scene.pk)
            for scene in Scene.objects.filter(project=project).exclude(pk__in=order).order_by("position", "pk"):
                services.scene_set_in_cut(scene=scene, user=user, in_cut=False)
                result.left_out.append(scene)
                order.append(scene.pk)
            # Read again: restoring from the trash and adding scenes moved positions.
            board = Scene.objects.in_bulk(order)
            services.save_order([board[pk] for pk in order], user, project=project, publish=True)
            line = (said("feed.revision_restored_named", number=revision.number, name=revision.name) if revision.name
                    else said("feed.revision_restored", number=revision.number))
            recording.summary = line
        result.revision = recording.revision
        record(project=project, kind=ActivityKind.REVISION_RESTORED, actor=user, text=line)
    return result


def _apply(scene: Scene, now: dict, content: dict, user, number: int, result: Restored) -> bool:
    """Give a scene on the board the revision's content; whether anything changed."""
    changed = False
    fields = {name: content[name] for name in SCENE_TEXT_FIELDS if now[name] != content[name]}
    if fields:
        try:
            with transaction.atomic():
                services.scene_update(scene=scene, expected_version=scene.version, user=user, **fields)
        except ValidationError as refused:  # a person in the prompt whose consent no longer allows it
            fields.pop("prompt", None)
            result.notes.append(gettext("Scene %(number)s (%(title)s): its prompt was not restored. %(why)s")
                                % {"number": number, "title": content["title"], "why": error_text(refused)})
            if fields:
                scene.refresh_from_db()
                services.scene_update(scene=scene, expected_version=scene.version, user=user, **fields)
        scene.refresh_from_db()
        changed = True
    if _line_keys(now["dialogue"]) != _line_keys(content["dialogue"]):
        _restore_lines(scene, content["dialogue"], user, number, result)
        changed = True
    if now.get("fields") != content.get("fields"):
        _restore_fields(scene, content, user, number, result)
        changed = True
    if now["in_cut"] != content["in_cut"]:
        services.scene_set_in_cut(scene=scene, user=user, in_cut=content["in_cut"])
        changed = True
    _note_approval(now, content, number, result)
    return changed


def _restore_fields(scene: Scene, content: dict, user, number: int, result: Restored) -> None:
    gone = fields.scene_fields_restore(scene=scene, user=user, kept=content.get("fields") or {})
    if gone:
        result.notes.append(gettext("Scene %(number)s (%(title)s): %(fields)s could not come back: the field was "
                                    "deleted since.") % {"number": number, "title": content["title"],
                                                         "fields": ", ".join(gone)})


def _recreate(project, user, content: dict, number: int, result: Restored) -> Scene:
    """A scene deleted forever comes back as a new scene with the revision's content."""
    lines = _lines(project, content["dialogue"])
    prompt = content["prompt"]
    try:
        prompt_cast_check(compose(prompt, lines), project=project)
    except ValidationError as refused:
        result.notes.append(gettext("Scene %(number)s (%(title)s) came back without its cast. %(why)s")
                            % {"number": number, "title": content["title"], "why": error_text(refused)})
        prompt = re.sub(r"@(?=\w)", "", prompt)
        lines = _uncast(lines)
    scene = services.scene_create(project=project, user=user, title=content["title"], prompt=prompt,
                                  duration=content["duration"], size=content["size"],
                                  camera_notes=content["camera_notes"], dialogue=lines)
    if content.get("fields"):
        _restore_fields(scene, content, user, number, result)
    if not content["in_cut"]:
        scene = services.scene_set_in_cut(scene=scene, user=user, in_cut=False)
    result.notes.append(gettext("Scene %(number)s (%(title)s) had been deleted forever: it is back as a new "
                                "scene, without its takes.") % {"number": number, "title": content["title"]})
    return scene


def _lines(project, wanted: list[dict]) -> list[DialogueLine]:
    library = Character.objects.filter(team=project.team_id).in_bulk([w["character"] for w in wanted
                                                                         if w["character"]])
    lines = []
    for want in wanted:
        character = library.get(want["character"])
        lines.append(DialogueLine(character=character, speaker=character.name if character else want["speaker"],
                                  parenthetical=want["parenthetical"], text=want["text"],
                                  after_prompt_lines=want["after"]))
    return lines


def _uncast(lines: list[DialogueLine]) -> list[DialogueLine]:
    for line in lines:
        if line.character is not None:
            line.speaker, line.character = line.character.name, None
    return lines


def _line_keys(lines: list[dict]) -> list[tuple]:
    return [(line["character"], line["speaker"], line["parenthetical"], line["text"], line["after"])
            for line in lines]


def _restore_lines(scene: Scene, wanted: list[dict], user, number: int, result: Restored) -> None:
    """The scene's lines as the revision had them, keeping every line that is already so (and its voice or
    recording); a line with a recording that the revision did not have stays too, after them."""
    current = scene_lines(scene)
    recorded = set(LineRecording.objects.filter(line__in=current).values_list("line_id", flat=True))
    unused = list(current)
    kept, wanted_lines = [], _lines(scene.project, wanted)
    for want in wanted_lines:
        same = next((line for line in unused if (line.character_id, line.speaker, line.parenthetical, line.text)
                     == (want.character_id, want.speaker, want.parenthetical, want.text)), None)
        if same is not None:
            unused.remove(same)
            same.after_prompt_lines = want.after_prompt_lines
            kept.append(same)
        else:
            want.scene = scene
            kept.append(want)
    stays = [line for line in unused if line.pk in recorded]
    for line in stays:
        result.notes.append(gettext("Scene %(number)s (%(title)s): the line “%(line)s” has a recording, so it "
                                    "stays, after the revision's lines.")
                            % {"number": number, "title": scene.title, "line": line.text[:80]})
    fresh = [line for line in kept if line.pk is None]
    gone = [line for line in unused if line.pk not in recorded]
    try:
        _check_lines(scene, kept + stays)
    except ValidationError as refused:  # someone the lines cast whose consent no longer allows it
        result.notes.append(gettext("Scene %(number)s (%(title)s): its lines came back spoken by plain names. "
                                    "%(why)s") % {"number": number, "title": scene.title,
                                                  "why": error_text(refused)})
        _uncast(fresh)
    _write_lines(scene, kept + stays, gone, user)
    services.scene_dialogue_changed(scene=scene, user=user)


def _check_lines(scene: Scene, lines: list[DialogueLine]) -> None:
    # Only characters the lines would newly cast are checked: one cast now stays until un-cast.
    prompt_cast_check(compose(scene.prompt, lines), project=scene.project,
                      cast=scene.cast.values_list("pk", flat=True))


def _write_lines(scene: Scene, lines: list[DialogueLine], gone: list[DialogueLine], user) -> None:
    DialogueLine.objects.filter(pk__in=[line.pk for line in gone]).delete()
    # Out of the way first: positions are a sequence, rewritten below.
    DialogueLine.objects.filter(scene=scene).update(position=F("position") + 100_000)
    for position, line in enumerate(lines):
        if line.pk is None:
            line.position, line.updated_by = position, user
            line.full_clean(exclude=["scene", "updated_by"])
            line.save()
        else:
            DialogueLine.objects.filter(pk=line.pk).update(
                position=position, after_prompt_lines=line.after_prompt_lines, version=F("version") + 1,
                updated_by=user, updated_at=timezone.now())


def _note_approval(now: dict, content: dict, number: int, result: Restored) -> None:
    had, has = content["approved_take"], now["approved_take"]
    if (had or {}).get("id") == (has or {}).get("id"):
        return
    if had is None:
        words = gettext("Scene %(number)s (%(title)s): take %(now)s stays approved (the revision had no "
                        "approved take).")
    elif has is None:
        words = gettext("Scene %(number)s (%(title)s): the revision had take %(then)s approved; approve it again "
                        "on its review page if it still holds.")
    else:
        words = gettext("Scene %(number)s (%(title)s): take %(now)s stays approved (the revision had take "
                        "%(then)s): a restore never approves a take.")
    result.notes.append(words % {"number": number, "title": content["title"],
                                 "now": (has or {}).get("number"), "then": (had or {}).get("number")})

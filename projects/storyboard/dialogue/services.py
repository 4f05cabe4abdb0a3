"""A scene's dialogue lines: add, edit, move and delete them. Keyword-only, named <entity>_<action>.

Each change is checked as a scene save is: a character who starts speaking is cast, so their
consent must allow it here (casting.prompt_cast_check); the scene's whole text must still fit a
provider's prompt. Then the scene gets a new version, its approval goes stale, and the feed and
every open board hear of it (services.scene_dialogue_changed).

Two people editing one line merge by field, as the scene editor does: only a field both changed
(to different words) is a conflict, raised with the line as it now stands.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext

from projects.models import Character, DialogueLine, Scene
from projects.storyboard import services
from projects.storyboard.casting import prompt_cast_check, scene_lines
from projects.storyboard.dialogue.text import compose
from projects.storyboard.script import MAX_PROMPT
from projects.storyboard.sound import recordings

# What a line's form edits; "speaker" is the pair (character id or None, name).
LINE_FIELDS = ("speaker", "parenthetical", "text")


class LineConflict(Exception):
    """An edit based on a version of the line a teammate has since replaced (or deleted: `current` None).

    `fields`: the fields both changed, for the person to decide; empty when the whole edit is refused."""

    def __init__(self, current: DialogueLine | None, fields: list[str] | None = None):
        super().__init__(f"Line changed (now {'deleted' if current is None else f'version {current.version}'}).")
        self.current = current
        self.fields = fields or []


def line_values(line: DialogueLine) -> dict:
    """A line's editable values as edits are compared: the speaker as (character id, "") or (None, name)."""
    return {"speaker": _comparable((line.character_id, line.speaker)), "parenthetical": line.parenthetical,
            "text": line.text}


def dialogue_line_add(*, scene: Scene, user, speaker: tuple[Character | None, str], text: str,
                      parenthetical: str = "") -> DialogueLine:
    """A new line at the end of the scene's dialogue (spoken after all of its action). `speaker`: a
    character of the team's library, or None and the name of whoever speaks."""
    with transaction.atomic():
        scene = _locked(scene)
        lines = scene_lines(scene)
        line = DialogueLine(scene=scene, updated_by=user, **_speaker(scene, *speaker),
                            parenthetical=parenthetical, text=text,
                            position=(max((x.position for x in lines), default=-1) + 1))
        line.full_clean(exclude=["scene", "updated_by"])
        _check(scene, [*lines, line])
        line.save()
        services.scene_dialogue_changed(scene=scene, user=user)
    return line


def dialogue_line_update(*, line: DialogueLine, user, expected_version: int, base: dict | None = None,
                         **fields) -> DialogueLine:
    """Save an edit made to version `expected_version` of the line (fields: LINE_FIELDS, the speaker
    as (character or None, name)). After a teammate's save, only what this person changed is written."""
    unknown = set(fields) - set(LINE_FIELDS)
    if unknown:
        raise ValueError(f"Not line fields: {sorted(unknown)}")
    with transaction.atomic():
        scene = _locked(line.scene)
        current = DialogueLine.objects.select_related("character", "updated_by").filter(pk=line.pk).first()
        if current is None:
            raise LineConflict(None)
        wanted = {name: _comparable(value) for name, value in fields.items()}
        if current.version == expected_version:
            writing = wanted
        elif base is None:
            raise LineConflict(current)
        else:
            theirs, base = line_values(current), {name: _comparable(value) for name, value in base.items()}
            writing = {name: value for name, value in wanted.items() if value != base.get(name)}
            clashes = [name for name, value in writing.items() if theirs[name] not in (base.get(name), value)]
            if clashes:
                raise LineConflict(current, fields=clashes)
        writing = {name: value for name, value in writing.items() if value != line_values(current)[name]}
        if not writing:
            return current
        if "speaker" in writing:
            character_id, name = writing.pop("speaker")
            character = fields["speaker"][0] if character_id else None
            writing.update(_speaker(scene, character, name))
        for name, value in writing.items():
            setattr(current, name, value)
        current.full_clean(exclude=["scene", "updated_by"])
        lines = [current if x.pk == current.pk else x for x in scene_lines(scene)]
        _check(scene, lines)
        DialogueLine.objects.filter(pk=current.pk).update(**writing, version=F("version") + 1, updated_by=user)
        services.scene_dialogue_changed(scene=scene, user=user)
    current.refresh_from_db()
    return current


def dialogue_line_delete(*, line: DialogueLine, user, expected_version: int) -> None:
    """Delete a line as its person last saw it: a teammate's newer words are not deleted unseen."""
    with transaction.atomic():
        scene = _locked(line.scene)
        current = DialogueLine.objects.select_related("character", "updated_by").filter(pk=line.pk).first()
        if current is None:
            return  # already gone: what the person wanted
        if current.version != expected_version:
            raise LineConflict(current)
        rest = [x for x in scene_lines(scene) if x.pk != current.pk]
        if not scene.prompt.strip() and not rest:
            raise ValidationError(gettext(
                "This is all the scene says: write what happens in its prompt before deleting its last line."))
        recordings.line_recording_remove(line=current)  # its files too, not only its row
        current.delete()
        services.scene_dialogue_changed(scene=scene, user=user)


def dialogue_line_move(*, line: DialogueLine, user, offset: int) -> None:
    """Move a line earlier (-1) or later (+1). The two lines swap places in the action too: where the
    script had someone speak stays a place where someone speaks."""
    with transaction.atomic():
        scene = _locked(line.scene)
        lines = scene_lines(scene)
        index = next((i for i, x in enumerate(lines) if x.pk == line.pk), None)
        if index is None or not 0 <= index + offset < len(lines):
            return  # deleted meanwhile, or already first or last
        this, other = lines[index], lines[index + offset]
        for moving, into in ((this, other), (other, this)):
            DialogueLine.objects.filter(pk=moving.pk).update(
                position=into.position, after_prompt_lines=into.after_prompt_lines, version=F("version") + 1)
        services.scene_dialogue_changed(scene=scene, user=user)


def _locked(scene: Scene) -> Scene:
    """The scene's row, locked: one change to its lines at a time (positions stay a sequence)."""
    return Scene.objects.select_for_update().select_related("project__team").get(pk=scene.pk)


def _speaker(scene: Scene, character: Character | None, name: str) -> dict:
    if character is not None:
        if character.team_id != scene.project.team_id:
            raise ValidationError(gettext("That character is not in your team's library."))
        return {"character": character, "speaker": character.name}
    if not name.strip():
        raise ValidationError(gettext("Say who speaks the line: choose a character or type a name."))
    return {"character": None, "speaker": name.strip()}


def _check(scene: Scene, lines: list[DialogueLine]) -> None:
    """The scene's text with these lines: within a provider's prompt, casting only whom consent allows."""
    text = compose(scene.prompt, lines)
    if len(text) > MAX_PROMPT:
        raise ValidationError(gettext(
            "With this line the scene's prompt and dialogue come to %(count)s characters; a provider takes at "
            "most %(max)s. Shorten the line or split the scene.") % {"count": f"{len(text):,}",
                                                                     "max": f"{MAX_PROMPT:,}"})
    prompt_cast_check(text, project=scene.project, cast=scene.cast.values_list("pk", flat=True))


def _comparable(value):
    """A speaker as (character id, "") or (None, name): a character is who speaks, whatever their name
    reads today. Other fields as they are."""
    if isinstance(value, tuple):
        character, name = value
        pk = getattr(character, "pk", character)
        return (pk, "" if pk else (name or "").strip())
    return value

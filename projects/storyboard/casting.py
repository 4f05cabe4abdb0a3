"""Casting by @mention: a scene's cast is who its text @mentions, from the project's team's library.

A scene's text is its prompt with its dialogue lines woven in (`scene_text`); a line spoken by a
character names them "@Anna", so a character who speaks is cast like one the prompt mentions.
Saving a scene or a line may cast only people whose consent allows it here (characters.consent is
the rule); casting from the list and un-casting write the mention (storyboard.services)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from projects.characters.consent import consent_problem
from projects.models import Character, DialogueLine, Scene
from projects.storyboard.dialogue.text import compose


def mentioned_characters(prompt: str, team) -> list[Character]:
    """Characters @mentioned in a prompt: the longest library name after each @."""
    library = sorted(Character.objects.filter(team=team), key=lambda c: -len(c.name))
    found = []
    for match in re.finditer(r"@", prompt):
        rest = prompt[match.end():].lower()
        for character in library:
            name = character.name.lower()
            if rest.startswith(name) and (len(rest) == len(name) or not rest[len(name)].isalnum()):
                if character not in found:
                    found.append(character)
                break
    return found


def prompt_cast_check(prompt: str, *, project, cast=()) -> None:
    """Refuse a prompt whose @mentions would cast someone whose consent does not allow it here.

    Checked where the user acts (saving the scene), with the rule of casting from the list: any
    provider the person allows will do. Only characters the save would newly cast are checked
    (`cast`: who the scene casts now); one cast earlier stays until un-cast, and its revocation
    already withholds its takes. The library is the project's team's: another team's name is
    plain text, never cast nor named here."""
    already = {getattr(c, "pk", c) for c in cast}
    problems = [gettext("%(problem)s %(name)s cannot be cast.") % {"problem": problem, "name": character.name}
                for character in mentioned_characters(prompt, project.team)
                if character.pk not in already
                and (problem := consent_problem(character, project=project, provider_kind=None))]
    if problems:
        raise ValidationError(" ".join(problems))


def scene_lines(scene: Scene) -> list[DialogueLine]:
    """The scene's dialogue lines in order, with their characters (prefetched ones when the caller has them)."""
    prefetched = getattr(scene, "_prefetched_objects_cache", {}).get("lines")
    if prefetched is not None:
        return list(prefetched)
    return list(DialogueLine.objects.filter(scene_id=scene.pk).select_related("character"))


def scene_text(scene: Scene, lines=None) -> str:
    """What the scene says: its prompt with its dialogue lines where they are spoken."""
    return compose(scene.prompt, scene_lines(scene) if lines is None else lines)


def scene_sync_cast(*, scene: Scene) -> None:
    """The cast is who the scene's text @mentions: deleting a mention (or a line) un-casts the character."""
    scene.cast.set(mentioned_characters(scene_text(scene), scene.project.team))

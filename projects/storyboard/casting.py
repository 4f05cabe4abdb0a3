"""Casting by @mention: a scene's cast is who its prompt @mentions, from the project's team's library.

Saving a scene may cast only people whose consent allows it here (characters.consent is the rule);
casting from the list and un-casting write the mention into the prompt (storyboard.services)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from projects.characters.consent import consent_problem
from projects.models import Character, Scene


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
    problems = [f"{problem} {character.name} cannot be cast."
                for character in mentioned_characters(prompt, project.team)
                if character.pk not in already
                and (problem := consent_problem(character, project=project, provider_kind=None))]
    if problems:
        raise ValidationError(" ".join(problems))


def scene_sync_cast(*, scene: Scene) -> None:
    """The cast is who the prompt @mentions: deleting a mention un-casts the character."""
    scene.cast.set(mentioned_characters(scene.prompt, scene.project.team))

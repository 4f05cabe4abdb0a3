"""A character's voice: the engine voice the scratch voice-over speaks their lines in, and a
recording of the real person's own voice, which is a likeness like their face.

A voice sample is taken only while the person's consent covers their recorded voice, and is heard
only while it still does (voice_problem); revoking withholds it, and deleting their files removes it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext

from generation.sound import speech
from generation.sound.audio import RECORDING_KINDS, AudioError
from generation.sound.uploads import checked_upload
from projects.characters.consent import voice_problem
from projects.models import Character

MAX_SAMPLE_SECONDS = 120
MAX_SAMPLE_BYTES = 20 * 1024 * 1024


def character_voice_set(*, character: Character, voice: str, rate: int, pitch: int) -> Character:
    """The engine voice (with its rate and pitch) the character's lines are spoken in."""
    if voice and voice not in speech.VOICES:
        raise ValidationError(gettext("Choose a voice from the list."))
    character.voice, character.voice_rate, character.voice_pitch = voice, rate, pitch
    character.full_clean(exclude=["person", "created_by", "team"])
    Character.objects.filter(pk=character.pk).update(voice=voice, voice_rate=rate, voice_pitch=pitch)
    return character


def character_voice_sample_upload(*, character: Character, user, upload) -> Character:
    """Keep a recording of the person's own voice: only under a consent grant that covers it."""
    if not character.is_person:
        raise ValidationError(gettext("A voice sample is a real person's voice: this character depicts nobody."))
    problem = voice_problem(character)
    if problem:
        raise PermissionDenied(problem)
    try:
        info = checked_upload(upload, kinds=RECORDING_KINDS, max_bytes=MAX_SAMPLE_BYTES,
                              max_seconds=MAX_SAMPLE_SECONDS, what=gettext("A voice sample"))
    except AudioError as exc:
        raise ValidationError(str(exc))
    old = character.voice_sample.name if character.voice_sample else ""
    character.voice_sample.save(f"voice.{info.kind}", upload, save=False)
    Character.objects.filter(pk=character.pk).update(voice_sample=character.voice_sample.name)
    if old:
        character.voice_sample.storage.delete(old)
    return character


def character_voice_sample_remove(*, character: Character) -> None:
    if character.voice_sample:
        character.voice_sample.delete(save=False)
    Character.objects.filter(pk=character.pk).update(voice_sample="")


def voice_sample_withheld(character: Character) -> str | None:
    """Why the sample may not be played now, or None."""
    return voice_problem(character)

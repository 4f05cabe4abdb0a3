"""Who speaks in which voice, and the speech itself, made once and kept (SpeechClip).

A character speaks in the voice chosen on their page; a plain name ("ANNA") in the voice the project
gives it, else a steady default in the project's language. Speech is made by a worker (tasks.py),
never in a request.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from generation.sound import speech
from generation.sound.audio import SAMPLE_RATE, normalise_loudness, read_wav, wav_bytes
from projects.models import DialogueLine, Project, SpeakerVoice, SpeechClip


def speaker_voices(project: Project) -> dict[str, SpeakerVoice]:
    return {v.name.casefold(): v for v in SpeakerVoice.objects.filter(project=project)}


def line_speech(line: DialogueLine, *, project: Project, voices: dict[str, SpeakerVoice] | None = None
                ) -> speech.SpeechRequest:
    """What the engine is asked to say for the line, in whose voice."""
    c = line.character
    if c is not None:
        return character_speech(text=line.text, name=c.name, voice=c.voice, rate=c.voice_rate, pitch=c.voice_pitch,
                                language=project.voice_language)
    return speaker_speech(text=line.text, speaker=line.speaker, language=project.voice_language,
                          voices=speaker_voices(project) if voices is None else voices)


# The same choice from plain values: Play all's recipe reads the board's lines as rows (3,000 models at 1,000
# scenes were half its time), and its mix's key must be the one a line's models would give.
def character_speech(*, text: str, name: str, voice: str, rate: int, pitch: int, language: str
                     ) -> speech.SpeechRequest:
    """A character's line: the voice chosen on their page, else a steady default for their name."""
    return speech.SpeechRequest(text=text, voice=voice or speech.default_voice(name, language), rate=rate, pitch=pitch)


def speaker_speech(*, text: str, speaker: str, language: str, voices: dict[str, SpeakerVoice]
                   ) -> speech.SpeechRequest:
    """A plain name's line: the voice the project gives the name, else a steady default for it."""
    chosen = voices.get(speaker.casefold())
    if chosen is not None:
        return speech.SpeechRequest(text=text, voice=chosen.voice, rate=chosen.rate, pitch=chosen.pitch)
    return speech.SpeechRequest(text=text, voice=speech.default_voice(speaker, language))


def clips_for(requests) -> dict[str, SpeechClip]:
    """The cached speech for these requests, by key (missing ones are simply absent)."""
    keys = {r.key for r in requests}
    return {c.key: c for c in SpeechClip.objects.filter(key__in=keys)}


def speech_clips_make(requests) -> dict[str, SpeechClip]:
    """Every request's speech, made now for those not cached yet (one engine process for all of them).
    A worker's job: never called in a request."""
    have = clips_for(requests)
    missing = list({r.key: r for r in requests if r.key not in have}.values())
    for request, samples in zip(missing, speech.synthesize(missing)):
        samples, _gain = normalise_loudness(samples)
        clip = SpeechClip(key=request.key, seconds=len(samples) / SAMPLE_RATE)
        clip.audio.save(f"{request.key}.wav", ContentFile(wav_bytes(samples)), save=False)
        try:
            with transaction.atomic():
                clip.save()
        except IntegrityError:  # another worker spoke the same words meanwhile: same name, same bytes
            clip = SpeechClip.objects.get(key=request.key)
        have[request.key] = clip
    return have


def clip_samples(clip: SpeechClip):
    with clip.audio.open("rb") as fh:
        return read_wav(fh)


def speaker_voice_set(*, project: Project, name: str, voice: str, rate: int = speech.DEFAULT_RATE,
                      pitch: int = speech.DEFAULT_PITCH) -> SpeakerVoice:
    """The voice a plain speaker name speaks with in this project."""
    name = name.strip()
    if not name:
        raise ValidationError(gettext("Name the speaker."))
    if voice not in speech.VOICES:
        raise ValidationError(gettext("Choose a voice from the list."))
    row = SpeakerVoice.objects.filter(project=project, name__iexact=name).first() or SpeakerVoice(project=project,
                                                                                                   name=name)
    row.voice, row.rate, row.pitch = voice, rate, pitch
    row.full_clean(exclude=["project"], validate_unique=False)
    row.save()
    return row


def plain_speakers(project: Project) -> list[str]:
    """The plain names that speak in the project's scenes, as first written, in order of appearance."""
    seen, names = set(), []
    for name in (DialogueLine.objects.filter(scene__project=project, character__isnull=True)
                 .order_by("scene__position", "position").values_list("speaker", flat=True)):
        if name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names

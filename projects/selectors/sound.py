"""The sound as pages show it: each line's voice (spoken, being spoken, recorded, withheld), a scene's
spoken length, and the project's Sound page."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise

from generation.sound import speech
from projects.characters.consent import voice_problem
from projects.models import DialogueLine, LineRecording, Project, Scene, SoundBed, SoundStatus
from projects.storyboard.sound import timing, voices


@dataclass(frozen=True)
class LineSound:
    state: str  # spoken, speaking, recorded, recording (being prepared), failed (the recording), withheld
    voice: str  # the engine voice's name in words
    seconds: float | None = None
    detail: str = ""  # why a recording failed or is withheld
    length: float = 0.0  # how long the line lasts in the mix: what is heard, else an estimate
    measured: bool = False  # `length` is what is heard, not an estimate


def line_sounds_for(*, scene: Scene, lines: list[DialogueLine]) -> dict[int, LineSound]:
    """Each line's sound by id, in three queries whatever the number of lines (plus one per person
    whose recording is in question)."""
    project = scene.project
    speaker_voices = voices.speaker_voices(project)
    requests = {line.pk: voices.line_speech(line, project=project, voices=speaker_voices) for line in lines}
    clips = voices.clips_for(requests.values())
    if all("recording" in line._state.fields_cache for line in lines):  # read with the lines (select_related)
        recorded = {line.pk: line._state.fields_cache["recording"] for line in lines
                    if line._state.fields_cache["recording"] is not None}
    else:
        recorded = {r.line_id: r for r in LineRecording.objects.filter(line__in=[x.pk for x in lines])
                    .select_related("character")}
    problems: dict[int, str | None] = {}
    sounds = {}
    for line in lines:
        request, recording = requests[line.pk], recorded.get(line.pk)
        voice = speech.voice_label(request.voice)
        clip = clips.get(request.key)
        # What the mix plays for a line without a usable recording: the engine's speech, or an estimate.
        length, measured = (clip.seconds, True) if clip else (timing.estimate(line.text), False)
        if recording is not None:
            if recording.character_id and recording.character_id not in problems:
                problems[recording.character_id] = voice_problem(recording.character, project=project)
            withheld = problems.get(recording.character_id) if recording.character_id else None
            if withheld:
                sounds[line.pk] = LineSound("withheld", voice, detail=withheld, length=length, measured=measured)
            elif recording.status == SoundStatus.READY:
                sounds[line.pk] = LineSound("recorded", voice, recording.seconds, length=recording.seconds or 0,
                                            measured=True)
            elif recording.status == SoundStatus.FAILED:
                sounds[line.pk] = LineSound("failed", voice, detail=recording.error, length=length, measured=measured)
            else:
                sounds[line.pk] = LineSound("recording", voice, length=length, measured=measured)
            continue
        sounds[line.pk] = LineSound("spoken" if clip else "speaking", voice, clip.seconds if clip else None,
                                    length=length, measured=measured)
    return sounds


def scene_spoken_for(*, scene: Scene, sounds: dict[int, LineSound]) -> timing.Spoken | None:
    """How long the scene's lines take, from their sounds (line_sounds_for): no query of its own."""
    if not sounds:
        return None
    return timing.spoken([(s.length, s.measured) for s in sounds.values()], pause=float(scene.project.dialogue_pause))


@dataclass(frozen=True)
class SpeakerRow:
    name: str
    voice: str  # the engine voice's key
    rate: int
    pitch: int
    chosen: bool  # someone picked it (else the name's default)

    @property
    def label(self) -> str:
        return speech.voice_label(self.voice)


@dataclass(frozen=True)
class SoundPage:
    project: Project
    bed: SoundBed | None
    speakers: list[SpeakerRow]  # the plain names that speak, in order of appearance
    voices: list[tuple[str, str | Promise]]  # every engine voice (key, words in the reader's language)
    fitting: int  # scenes that follow their lines


def sound_page_for(*, project: Project) -> SoundPage:
    chosen = voices.speaker_voices(project)
    rows = []
    for name in voices.plain_speakers(project):
        row = chosen.get(name.casefold())
        rows.append(SpeakerRow(name, row.voice, row.rate, row.pitch, True) if row else SpeakerRow(
            name, speech.default_voice(name, project.voice_language), speech.DEFAULT_RATE, speech.DEFAULT_PITCH, False))
    return SoundPage(project=project, bed=SoundBed.objects.filter(project=project).first(), speakers=rows,
                     voices=speech.voice_choices(),
                     fitting=Scene.objects.filter(project=project, fit_to_dialogue=True).count())

"""Fit to dialogue: a scene that follows its lines lasts as long as they are spoken, with the project's
pause before, between and after them (whole seconds, as providers book them, 1–20 s).

A line's length is its recording's, else its cached speech's; until a worker has spoken it, an
estimate from its words (2.5 a second, as script import estimates). Re-timing writes the scene as an
edit does (a new version, a stale approval) and every open board hears of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from generation.sound.mixing import spoken_length
from projects.characters.consent import voice_problem
from projects.live import ChangeKind, live_publish
from projects.models import MAX_SCENE_SECONDS, MIN_SCENE_SECONDS, DialogueLine, Scene, SoundStatus
from projects.storyboard.sound import voices

WORDS_PER_SECOND = 2.5


@dataclass(frozen=True)
class Spoken:
    seconds: float  # the lines and their pauses
    exact: bool  # every line's length is measured, none estimated
    fitted: int  # the whole seconds a scene fitting them lasts

    @property
    def overflows(self) -> bool:
        return self.seconds > MAX_SCENE_SECONDS


def line_lengths(scene: Scene, lines: list[DialogueLine] | None = None) -> list[tuple[float, bool]]:
    """(seconds, measured) for each of the scene's lines, in order."""
    project = scene.project
    if lines is None:
        lines = list(DialogueLine.objects.filter(scene=scene).select_related("character", "recording__character"))
    speaker_voices = voices.speaker_voices(project)
    requests = [voices.line_speech(line, project=project, voices=speaker_voices) for line in lines]
    clips = voices.clips_for(requests)
    lengths = []
    for line, request in zip(lines, requests):
        recording = getattr(line, "recording", None)  # a missing reverse one-to-one raises an AttributeError
        usable = recording is not None and recording.status == SoundStatus.READY and recording.seconds and not (
            recording.character_id and voice_problem(recording.character, project=project))
        if usable and recording is not None and recording.seconds:
            lengths.append((recording.seconds, True))
        elif request.key in clips:
            lengths.append((clips[request.key].seconds, True))
        else:
            lengths.append((estimate(line.text), False))
    return lengths


def estimate(text: str) -> float:
    """A line's length before it is spoken: its words at 2.5 a second."""
    return max(1, len(text.split())) / WORDS_PER_SECOND


def scene_spoken(scene: Scene, lines: list[DialogueLine] | None = None) -> Spoken:
    return spoken(line_lengths(scene, lines), pause=float(scene.project.dialogue_pause))


def spoken(lengths: list[tuple[float, bool]], *, pause: float) -> Spoken:
    """(seconds, measured) of each line in order, laid out with `pause`."""
    seconds = spoken_length([s for s, _ in lengths], pause=pause)
    fitted = min(MAX_SCENE_SECONDS, max(MIN_SCENE_SECONDS, math.ceil(seconds - 0.05)))
    return Spoken(seconds=seconds, exact=all(m for _, m in lengths), fitted=fitted)


def scene_refit(*, scene: Scene, user=None) -> Scene:
    """A scene that fits its dialogue gets the length its lines take now; others are left alone."""
    scene = Scene.objects.select_related("project").get(pk=scene.pk)
    if not scene.fit_to_dialogue or not DialogueLine.objects.filter(scene=scene).exists():
        return scene
    fitted = scene_spoken(scene).fitted
    if fitted == scene.duration:
        return scene
    stale = list(scene.approval_stale_fields)
    if scene.approved_take_id and "duration" not in stale:
        stale.append("duration")
    if Scene.objects.filter(pk=scene.pk, duration=scene.duration).update(
            duration=fitted, version=F("version") + 1, updated_at=timezone.now(), approval_stale_fields=stale):
        scene.refresh_from_db()
        live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk, actor=user,
                     data={"fields": ["duration"], "version": scene.version})
    return scene

"""A worker speaks a scene's lines (each once: cached by words and voice) and re-times the scene
when it fits its dialogue."""

from __future__ import annotations

from projects.live import ChangeKind, live_publish
from projects.models import DialogueLine, Scene
from projects.storyboard.sound import timing, voices


def scene_voice(*, scene: Scene) -> None:
    project = scene.project
    lines = list(DialogueLine.objects.filter(scene=scene).select_related("character"))
    speaker_voices = voices.speaker_voices(project)
    # Every line, recorded ones too: when a recording is withheld, the engine's voice takes its place.
    requests = [voices.line_speech(line, project=project, voices=speaker_voices) for line in lines]
    new = len(requests) - len(voices.clips_for(requests))
    voices.speech_clips_make(requests)
    before = scene.duration
    scene = timing.scene_refit(scene=scene)
    if new and scene.duration == before:  # (a re-time tells the boards itself)
        voice_announce(scene)


def voice_announce(scene: Scene) -> None:
    """Open panels show the lines' new sound (a player where "being spoken" was)."""
    live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk,
                 data={"fields": ["voice"], "version": scene.version})


def project_voice(*, project) -> None:
    for scene in Scene.objects.filter(project=project).select_related("project"):
        scene_voice(scene=scene)

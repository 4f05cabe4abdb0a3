"""The project's voice-over settings and a scene following its lines (keyword-only, <entity>_<action>)."""

from __future__ import annotations

from django.db import transaction

from projects.models import Project, Scene
from projects.storyboard.sound import (
    tasks as sound_tasks,  # the tasks call back into this domain, as modules
)


def project_sound_set(*, project: Project, voice_language: str, dialogue_pause, take_audio_level_db: float) -> Project:
    """Save the settings; a new language or pause re-speaks and re-times the board (a worker's job)."""
    saved = Project.objects.get(pk=project.pk)  # as stored: a bound form has already changed `project`
    respeak = (voice_language, dialogue_pause) != (saved.voice_language, saved.dialogue_pause)
    project.voice_language, project.dialogue_pause = voice_language, dialogue_pause
    project.take_audio_level_db = take_audio_level_db
    project.full_clean(exclude=["team", "created_by"])
    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(voice_language=voice_language, dialogue_pause=dialogue_pause,
                                                     take_audio_level_db=take_audio_level_db)
        if respeak:
            sound_tasks.sound_voice_project.delay_on_commit(project.pk)
    return project


def scene_fit_set(*, scene: Scene, fit: bool) -> Scene:
    """Make the scene's length follow its lines (re-timed now by a worker), or stop following them."""
    with transaction.atomic():
        Scene.objects.filter(pk=scene.pk).update(fit_to_dialogue=fit)
        if fit:
            sound_tasks.sound_voice_scene.delay_on_commit(scene.pk)
    scene.fit_to_dialogue = fit
    return scene


def project_respeak(*, project: Project) -> None:
    """A voice changed: the board's lines are spoken again in it, and scenes re-timed (a worker's job)."""
    sound_tasks.sound_voice_project.delay_on_commit(project.pk)


def character_respeak(*, character) -> None:
    """A character's voice changed: every project where they speak is spoken again (a worker's job)."""
    for project_id in (Project.objects.filter(scenes__lines__character=character).values_list("pk", flat=True)
                       .distinct()):
        sound_tasks.sound_voice_project.delay_on_commit(project_id)

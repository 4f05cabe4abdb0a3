"""The sound's worker side: speak a scene's lines, prepare a recording or a bed. Each takes an id,
loads the row and calls a service; each is safe to run twice (speech is cached by its key, a
recording or bed is prepared only while it is still processing). Names stay `projects.tasks.*`."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from projects.models import Project, Scene
from projects.storyboard.sound import bed, recordings, speaking


@shared_task(bind=True, name="projects.tasks.sound_voice_scene", base=DjangoTask, acks_late=True, ignore_result=True,
             soft_time_limit=120, time_limit=150)
def sound_voice_scene(self, scene_id: int) -> None:
    scene = Scene.objects.select_related("project").filter(pk=scene_id).first()
    if scene is not None:
        speaking.scene_voice(scene=scene)


@shared_task(bind=True, name="projects.tasks.sound_prepare_recording", base=DjangoTask, acks_late=True, ignore_result=True,
             soft_time_limit=120, time_limit=150)
def sound_prepare_recording(self, recording_id: int) -> None:
    recording = recordings.recording_prepare(recording_id)
    if recording is not None:
        scene = recording.line.scene
        speaking.scene_voice(scene=scene)
        speaking.voice_announce(scene)


@shared_task(bind=True, name="projects.tasks.sound_prepare_bed", base=DjangoTask, acks_late=True, ignore_result=True,
             soft_time_limit=600, time_limit=660)
def sound_prepare_bed(self, bed_id: int) -> None:
    bed.bed_prepare(bed_id)




@shared_task(bind=True, name="projects.tasks.sound_voice_project", base=DjangoTask, acks_late=True, ignore_result=True,
             soft_time_limit=600, time_limit=660)
def sound_voice_project(self, project_id: int) -> None:
    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        speaking.project_voice(project=project)

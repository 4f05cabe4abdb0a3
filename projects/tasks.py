"""Every Celery task of the projects app, gathered where Celery's autodiscovery looks: the live
channel's housekeeping here, the notification emails beside the bell (projects/activity/tasks.py), the
trash's beside it (projects/storyboard/tasks.py), the voice-over's beside its services
(projects/storyboard/sound/tasks.py), Play all's mix beside review (projects/review/tasks.py).
Names stay `projects.tasks.<name>`."""

from celery import shared_task

from projects.activity.tasks import send_invitation, send_notification, send_render_digest
from projects.live import changes_prune
from projects.live.presence import presence_sweep
from projects.review.tasks import play_all_mix_prepare
from projects.storyboard.sound.tasks import (
    sound_prepare_bed,
    sound_prepare_recording,
    sound_voice_project,
    sound_voice_scene,
)
from projects.storyboard.tasks import delete_stored_files, purge_trash

__all__ = ["delete_stored_files", "live_changes_prune", "live_presence_sweep", "play_all_mix_prepare", "purge_trash", "send_invitation",
           "send_notification", "send_render_digest", "sound_prepare_bed", "sound_prepare_recording",
           "sound_voice_project", "sound_voice_scene"]


@shared_task(ignore_result=True, expires=30)
def live_presence_sweep() -> None:
    presence_sweep()


@shared_task(ignore_result=True)
def live_changes_prune() -> None:
    changes_prune()

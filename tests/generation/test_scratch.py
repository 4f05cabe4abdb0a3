"""Scratch folders of killed workers are swept; folders of live tasks never are."""

import os
import time

from django.conf import settings as django_settings

from generation import tasks
from generation.storage import scratch
from studio_site.celery import app as celery_app

HOURS = 3600


def age(path, seconds):
    then = time.time() - seconds
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.utime(os.path.join(folder, name), (then, then))
    os.utime(path, (then, then))


def test_the_task_removes_a_stale_partial_download_and_keeps_a_fresh_one(settings, tmp_path):
    settings.STUDIO_TMP_DIR = tmp_path / "scratch"
    with scratch.scratch_dir("studio-take-") as live:
        (tmp_path / "scratch" / "studio-take-killed").mkdir()
        partial = tmp_path / "scratch" / "studio-take-killed" / "video.mp4.part"
        partial.write_bytes(b"\0" * 1024)
        age(tmp_path / "scratch" / "studio-take-killed", 7 * HOURS)
        (tmp_path / "scratch" / "studio-export-recent").mkdir()
        age(tmp_path / "scratch" / "studio-export-recent", 1 * HOURS)

        tasks.sweep_studio_tmp.delay()

        assert not (tmp_path / "scratch" / "studio-take-killed").exists()
        assert (tmp_path / "scratch" / "studio-export-recent").exists()
        assert os.path.isdir(live)


def test_an_old_folder_still_being_written_to_is_kept(settings, tmp_path):
    settings.STUDIO_TMP_DIR = tmp_path
    folder = tmp_path / "studio-take-slow"
    folder.mkdir()
    (folder / "video.mp4.part").write_bytes(b"growing")
    os.utime(folder, (time.time() - 9 * HOURS,) * 2)  # the folder is old, its file was just written

    assert scratch.scratch_sweep() == 0
    assert (folder / "video.mp4.part").exists()


def test_scratch_folders_live_under_the_studio_tmp_dir(settings, tmp_path):
    settings.STUDIO_TMP_DIR = tmp_path / "studio-tmp"
    with scratch.scratch_dir("studio-submit-") as folder:
        assert os.path.dirname(folder) == str(tmp_path / "studio-tmp")
    assert not os.path.exists(folder)


def test_the_age_limit_is_far_above_every_tasks_hard_time_limit():
    limits = [django_settings.CELERY_TASK_TIME_LIMIT] + [
        task.time_limit for name, task in celery_app.tasks.items()
        if name.startswith(("generation.", "projects.")) and task.time_limit]
    assert django_settings.STUDIO_TMP_MAX_AGE_SECONDS >= 4 * max(limits)


def test_the_sweep_runs_periodically():
    entry = django_settings.CELERY_BEAT_SCHEDULE["sweep-studio-tmp"]
    assert entry["task"] == tasks.sweep_studio_tmp.name

"""A worker that dies mid-take never strands it, and never causes a second paid submit."""

import runpy
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from generation.models import PrevizJob, Render, Status
from generation.renders import pipeline, services


def take_in(scene, status, *, minutes_ago, **fields):
    take = Render.objects.create(scene=scene, provider="local", model="previz-animatic-1",
                                 recipe=services.recipe_for(scene=scene, connection=scene.project.team.connections.get(kind="local"),
                                                            model_id="previz-animatic-1"),
                                 status=status, **fields)
    Render.objects.filter(pk=take.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes_ago))
    return take


@pytest.fixture
def no_tasks(monkeypatch):
    """Record what the sweeper enqueues instead of running it."""
    from generation import tasks

    sent = []
    for name in ["submit_render", "finish_render", "previz_run_job", "poll_render"]:
        task = getattr(tasks, name)
        monkeypatch.setattr(task, "delay", lambda *a, _n=name: sent.append((_n, a)))
        monkeypatch.setattr(task, "apply_async", lambda args, _n=name, **kw: sent.append((_n, tuple(args))))
    return sent


def test_a_previz_take_stuck_in_submitting_with_no_job_in_the_job_book_fails_saying_nothing_was_created(
        scene, no_tasks):
    # (Remote providers, whose lists may be incomplete, are in test_crash_recovery.py.)
    take = take_in(scene, Status.SUBMITTING, minutes_ago=6)
    assert pipeline.renders_resume_stalled()["failed"] == 1
    take.refresh_from_db()
    assert take.status == Status.FAILED and not take.billing_unconfirmed
    assert "nothing was created" in take.error_message
    assert not [t for t in no_tasks if t[0] == "submit_render"]


def test_a_previz_take_whose_job_was_booked_before_the_crash_is_adopted(scene, no_tasks):
    take = take_in(scene, Status.SUBMITTING, minutes_ago=6, submitted_at=timezone.now() - timedelta(minutes=6))
    params = take.recipe["parameters"]
    job = PrevizJob.objects.create(spec={"prompt": take.recipe["prompt"], "model": take.model,
                                         "size": params["size"], "seconds": int(params["seconds"])})
    assert pipeline.renders_resume_stalled()["adopted"] == 1
    take.refresh_from_db()
    assert (take.status, take.provider_job_id) == (Status.RUNNING, str(job.pk))
    assert no_tasks == [("poll_render", (take.pk,))]


def test_a_running_take_whose_poll_was_lost_is_polled_again(scene, no_tasks):
    take = take_in(scene, Status.RUNNING, minutes_ago=3, provider_job_id="job")
    pipeline.renders_resume_stalled()
    pipeline.renders_resume_stalled()  # a second sweep right after adds no second poll chain
    assert no_tasks == [("poll_render", (take.pk,))]


def test_a_queued_take_is_submitted_again_safely(scene, no_tasks):
    take = take_in(scene, Status.QUEUED, minutes_ago=3)
    pipeline.renders_resume_stalled()
    assert ("submit_render", (take.pk,)) in no_tasks


def test_takes_that_are_merely_busy_are_left_alone(scene, no_tasks):
    take_in(scene, Status.RUNNING, minutes_ago=0, provider_job_id="job")
    take_in(scene, Status.SUBMITTING, minutes_ago=1)
    assert pipeline.renders_resume_stalled()["failed"] == 0
    assert no_tasks == []


def test_a_previz_job_whose_worker_died_is_rendered_again(scene, no_tasks):
    job = PrevizJob.objects.create(spec={}, status="running", progress=40,
                                   heartbeat_at=timezone.now() - timedelta(minutes=10))
    fresh = PrevizJob.objects.create(spec={}, status="running", heartbeat_at=timezone.now())
    pipeline.renders_resume_stalled()
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert (job.status, job.progress) == ("queued", 0)
    assert fresh.status == "running"
    assert no_tasks == [("previz_run_job", (str(job.pk),))]


@pytest.mark.parametrize("name", ["RENDER_LEASE_SECONDS", "RENDER_SWEEP_SECONDS"])
@pytest.mark.parametrize("value", ["0", "thirty"])
def test_a_lease_or_sweep_that_is_not_a_whole_number_of_seconds_above_zero_stops_the_start(
        monkeypatch, name, value):
    monkeypatch.setenv("SECRET_KEY", "not-written-to-data")
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        runpy.run_path(str(django_settings.BASE_DIR / "studio_site" / "settings.py"))


def test_the_sweep_runs_as_often_as_the_setting_says(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "not-written-to-data")
    monkeypatch.setenv("RENDER_SWEEP_SECONDS", "4")
    schedule = runpy.run_path(str(django_settings.BASE_DIR / "studio_site" / "settings.py"))["CELERY_BEAT_SCHEDULE"]
    assert schedule["resume-stalled-renders"]["schedule"] == 4.0

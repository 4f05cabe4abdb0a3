"""Rendering a scene with the local previz provider, task by task."""

import uuid
from pathlib import Path

import av
import pytest
from django.core.exceptions import ValidationError

from generation.models import PrevizJob, Render, Status
from generation.providers import JobState, ProviderError
from generation.providers.local_previz import LocalPrevizProvider
from generation.renders import pipeline, services


def test_a_render_finishes_with_video_thumbnail_and_studio_signed_provenance(scene, render_take):
    take = render_take(scene)
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.progress == 100
    assert take.duration_seconds == pytest.approx(scene.duration, abs=0.05)
    with av.open(take.video.path) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (1280, 720)
        assert container.streams.audio, "the previz has a sound bed"
    assert Path(take.thumbnail.path).read_bytes()[:2] == b"\xff\xd8"  # JPEG
    assert take.c2pa_state == "studio"  # the local CA: never "trusted"
    assert take.c2pa_summary["actions"] == ["c2pa.created"]
    assert take.c2pa_summary["claim_generator"].startswith("Storyboard Studio")
    assert take.recipe["prompt"] == scene.prompt
    assert take.recipe["parameters"] == {"seconds": 2, "size": "1280x720", "camera_notes": "slow push-in"}


def test_one_idempotency_key_makes_exactly_one_take(scene, editor, django_capture_on_commit_callbacks):
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = services.render_create(
            scene=scene, user=editor, connection=scene.project.team.connections.get(kind="local"), model_id="previz-animatic-1", idempotency_key=key
        )
        again, created_again = services.render_create(
            scene=scene, user=editor, connection=scene.project.team.connections.get(kind="local"), model_id="previz-animatic-1", idempotency_key=key
        )
    assert (created_first, created_again) == (True, False)
    assert first.pk == again.pk
    assert Render.objects.count() == 1
    assert PrevizJob.objects.count() == 1


def test_a_key_reused_for_another_scene_is_refused(scene, make_scene, editor):
    key = uuid.uuid4()
    services.render_create(scene=scene, user=editor, connection=scene.project.team.connections.get(kind="local"),
                           model_id="previz-animatic-1", idempotency_key=key)
    with pytest.raises(ValidationError):
        services.render_create(scene=make_scene(title="Other"), user=editor, connection=scene.project.team.connections.get(kind="local"),
                               model_id="previz-animatic-1", idempotency_key=key)


def test_a_submit_delivered_twice_books_one_provider_job(scene, editor):
    take, _ = services.render_create(scene=scene, user=editor, connection=scene.project.team.connections.get(kind="local"),
                                     model_id="previz-animatic-1", idempotency_key=uuid.uuid4())
    pipeline.render_submit(take.pk)
    pipeline.render_submit(take.pk)
    assert PrevizJob.objects.count() == 1
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED  # eager Celery: the whole pipeline ran inline
    assert take.provider_job_id == str(PrevizJob.objects.get().id)


def test_an_unknown_model_is_refused_before_anything_is_booked(scene, editor):
    with pytest.raises(ValidationError, match="has no model “sora-3”"):
        services.render_create(scene=scene, user=editor, connection=scene.project.team.connections.get(kind="local"),
                               model_id="sora-3", idempotency_key=uuid.uuid4())
    assert Render.objects.count() == 0


def test_a_duration_the_provider_cannot_render_is_refused(make_scene, editor):
    from projects.models import Scene

    scene = make_scene()
    Scene.objects.filter(pk=scene.pk).update(duration=30)  # past the provider's 20 s
    scene.refresh_from_db()
    with pytest.raises(ValidationError, match="1–20 seconds, not 30"):
        services.render_create(scene=scene, user=editor, connection=scene.project.team.connections.get(kind="local"),
                               model_id="previz-animatic-1", idempotency_key=uuid.uuid4())


def test_a_provider_failure_is_shown_in_plain_words_and_can_be_retried(
    scene, editor, render_take, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(LocalPrevizProvider, "poll", lambda self, job_id: JobState(
        status="failed", error="The provider refused this prompt (moderation)."))
    take = render_take(scene)
    assert take.status == Status.FAILED
    assert take.error_message == "The provider refused this prompt (moderation)."

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        retry, created = services.render_retry(render=take, user=editor, idempotency_key=uuid.uuid4())
    retry.refresh_from_db()
    assert created and retry.parent_id == take.pk
    assert retry.recipe == take.recipe
    assert retry.status == Status.SUCCEEDED


def test_a_transient_poll_error_is_retried_not_failed(scene, editor, monkeypatch):
    take, _ = services.render_create(scene=scene, user=editor, connection=scene.project.team.connections.get(kind="local"),
                                     model_id="previz-animatic-1", idempotency_key=uuid.uuid4())
    Render.objects.filter(pk=take.pk).update(status=Status.RUNNING, provider_job_id="job-1")
    scheduled = []
    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, delay: scheduled.append(delay))

    def flaky(self, job_id):
        raise ProviderError("Provider busy", retryable=True, retry_after=7)

    monkeypatch.setattr(LocalPrevizProvider, "poll", flaky)
    pipeline.render_poll(take.pk)
    take.refresh_from_db()
    assert take.status == Status.RUNNING
    assert scheduled == [7]


def test_a_result_that_is_not_a_video_fails_the_take(scene, editor, monkeypatch, render_take):
    def junk(self, job_id, variant, dest):
        dest.write_bytes(b"<html>gateway error</html>")

    monkeypatch.setattr(LocalPrevizProvider, "download", junk)
    take = render_take(scene)
    assert take.status == Status.FAILED
    assert take.error_message == "The provider sent a file that is not a playable video."
    assert not take.video



def test_a_result_with_sound_but_no_picture_fails_the_take(scene, editor, monkeypatch, render_take):
    import numpy as np

    def sound_only(self, job_id, variant, dest):
        with av.open(str(dest), "w", format="mp4") as container:
            stream = container.add_stream("aac", rate=48000, layout="mono")
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, 0
            container.mux(stream.encode(frame))
            container.mux(stream.encode(None))

    monkeypatch.setattr(LocalPrevizProvider, "download", sound_only)
    take = render_take(scene)
    assert take.status == Status.FAILED
    assert take.error_message == "The provider sent a file that is not a playable video."

def test_only_a_failed_take_can_be_retried(scene, finished_take, editor):
    take = finished_take(scene)
    with pytest.raises(ValidationError, match="Only a failed"):
        services.render_retry(render=take, user=editor, idempotency_key=uuid.uuid4())


def test_a_crash_inside_a_task_fails_the_take_with_honest_words(scene, editor, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    def explode(self, request):
        raise RuntimeError("disk full")

    from studio_site.celery import app as celery_app

    monkeypatch.setattr(LocalPrevizProvider, "submit", explode)
    # As on a worker: the exception is handled by the task, not raised to the caller.
    celery_app.conf.task_eager_propagates = False
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.render_create(scene=scene, user=editor,
                                   connection=scene.project.team.connections.get(kind="local"),
                                   model_id="previz-animatic-1", idempotency_key=uuid.uuid4())
    finally:
        celery_app.conf.task_eager_propagates = True
    take = Render.objects.get()
    assert take.status == Status.FAILED
    # The previz job book is the studio's own: no job there means none was created.
    assert "nothing was created. Retry the take." in take.error_message

"""A real Celery worker process renders a take end to end.

Unit tests run tasks inline (eager). Here a separate `celery worker` process
(the `real_worker` fixture from tests/worker.py, exposed by this folder's
conftest.py) shares the test database (committed data: `transactional_db`),
the broker and the media / previz / C2PA folders with the test process, and
does all the work: submit → previz job → polls → finish. Works with the
zero-set-up defaults (SQLite file + filesystem broker) and with DATABASE_URL /
CELERY_BROKER_URL (PostgreSQL + Redis in CI).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import av
import pytest
from django.conf import settings as django_settings

from generation import catalog, tasks
from generation.models import PrevizJob, Render, Status
from generation.renders import services
from tests.worker import Worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _create_take(scene, user) -> Render:
    render, created = services.render_create(
        scene=scene, user=user, connection=catalog.connection_ensure_local(scene.project.team),
        model_id="previz-animatic-1", idempotency_key=uuid.uuid4(),
    )
    assert created
    return render


def _assert_rendered(render: Render, scene, worker: Worker) -> None:
    log = worker.tail()
    assert render.status == Status.SUCCEEDED, f"{render.status}: {render.error_message}{log}"
    assert render.progress == 100, log
    assert render.poll_count >= 1, log
    assert render.provider_job_id, log
    assert render.c2pa_state == "studio", f"{render.c2pa_state} {render.c2pa_codes}{log}"

    jobs = list(PrevizJob.objects.all())
    assert len(jobs) == 1, f"{len(jobs)} previz jobs: {jobs}{log}"
    assert str(jobs[0].pk) == render.provider_job_id
    assert jobs[0].status == "succeeded"

    path = Path(render.video.path)
    assert path.is_file(), f"{path} missing{log}"
    assert path.is_relative_to(Path(django_settings.MEDIA_ROOT))
    width, height = (int(v) for v in scene.size.split("x"))
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (width, height)
        assert container.streams.audio, "the take has no audio stream"
        assert container.duration is not None
        seconds = container.duration / av.time_base
    assert abs(seconds - scene.duration) < 0.25, f"{seconds} s, scene is {scene.duration} s"
    assert render.duration_seconds == pytest.approx(scene.duration, abs=0.25)
    assert render.thumbnail and Path(render.thumbnail.path).is_file()


def test_real_worker_renders_a_take(real_worker, scene, editor):
    render = _create_take(scene, editor)

    render = real_worker.wait_for_render(render.pk)

    _assert_rendered(render, scene, real_worker)
    assert Render.objects.filter(scene=scene).count() == 1


def test_submit_delivered_twice_renders_once(real_worker, scene, editor):
    render = _create_take(scene, editor)
    tasks.submit_render.delay(render.pk)  # a redelivery of the same submission

    render = real_worker.wait_for_render(render.pk)

    _assert_rendered(render, scene, real_worker)
    # Both deliveries reached the worker; the second one found the take already submitted.
    handled = real_worker.wait_for_log("generation.tasks.submit_render[", count=4)
    assert handled >= 4, f"expected 2 received + 2 succeeded submit lines{real_worker.tail()}"
    assert PrevizJob.objects.count() == 1
    assert Render.objects.filter(scene=scene).count() == 1

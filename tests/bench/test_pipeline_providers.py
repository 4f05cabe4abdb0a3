"""bench/pipeline.py --provider X: each driver takes a few takes through a real worker to the end.

The bench itself is not run in CI; this keeps every `--provider` working: its fake in timed
mode, its connection and model, and the counts the bench prints. No timing is asserted.
"""

import importlib
import uuid

import pytest
from django.apps import apps as django_apps

from bench.drivers import DRIVERS, SECONDS, SIZE
from generation.models import CatalogModel, Render, Status
from generation.renders import batch
from projects.storyboard import services as projects

pytestmark = pytest.mark.bench

TAKES, JOB_SECONDS = 3, 0.5
# The shipped catalogs the drivers book from (data migrations a transactional flush empties).
SHIPPED = [("0020_ship_veo_catalog", "forwards"), ("0021_ship_runway_catalog", "forwards"),
           ("0022_ship_fal_catalog", "forwards"), ("0024_catalog_typical_job_time", "seed")]


@pytest.fixture
def shipped_catalog(migrated_data):
    for name, step in SHIPPED:
        getattr(importlib.import_module(f"generation.migrations.{name}"), step)(django_apps, None)


@pytest.fixture(params=sorted(DRIVERS))
def driver(request):
    driver = DRIVERS[request.param](JOB_SECONDS)
    yield driver
    driver.close()


def test_every_take_the_bench_books_finishes_with_one_create_and_its_polls_counted(
        driver, shipped_catalog, real_worker, team, owner):
    project = projects.project_create(team=team, user=owner, name="Pipeline bench")
    scenes = [projects.scene_create(project=project, user=owner, title=f"Shot {i + 1}",
                                    prompt=f"Shot {i + 1}: a harbour at dawn.", duration=SECONDS, size=SIZE,
                                    camera_notes="slow push-in") for i in range(TAKES)]
    connection = driver.connection(team=team, user=owner)
    # As after the bench's warm-up: the studio expects jobs about as long as the fake's, so
    # the test does not wait out a cold start's first poll (a quarter of 45–90 s).
    assert CatalogModel.objects.filter(model_id=driver.model).update(typical_seconds=1)
    jobs_before = driver.job_count()

    takes = batch.render_batch(project=project, user=owner, connection=connection, model_id=driver.model,
                               scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())
    finished = [real_worker.wait_for_render(take.pk) for take in takes]

    assert [t.status for t in finished] == [Status.SUCCEEDED] * TAKES, [t.error_message for t in finished]
    seen = driver.figures(list(Render.objects.filter(pk__in=[t.pk for t in takes])), jobs_before)
    assert seen.takes == seen.creates == TAKES  # one create per take, none sent twice
    assert seen.downloads == TAKES
    assert sorted(seen.polls) == sorted(seen.done_at) == sorted(driver.job_key(t.provider_job_id) for t in finished)
    assert seen.poll_count >= TAKES
    real_worker.assert_healthy()

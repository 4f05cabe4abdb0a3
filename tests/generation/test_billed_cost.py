"""Recorded vs billed: a take's recorded cost is what the provider reported, else the estimate, marked so."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from generation.models import CatalogModel, Render, Status
from generation.providers import connections
from generation.providers.base import JobState
from generation.renders import services
from generation.spend import billing


@pytest.fixture
def replicate(team, owner, provider_server):
    return connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                         base_url=provider_server.replicate_base, api_key=provider_server.api_key)


def render_on(connection, scene, model_id, user, capture):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def test_a_replicate_take_records_the_cost_replicate_reported(
        replicate, make_scene, editor, provider_server, django_capture_on_commit_callbacks, project):
    provider_server.job_billing = {"predict_time": 61.0, "cost": 3.75}
    take = render_on(replicate, make_scene(duration=8), "google/veo-3.1", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.billed_cost == Decimal("3.7500") and take.cost_source == "provider"
    assert take.recorded_cost == Decimal("3.7500")
    project.refresh_from_db()
    # The budget counts the larger of the estimate and the bill: never less than what was billed.
    assert project.render_spend == max(take.cost, Decimal("3.75"))


def test_billed_compute_seconds_are_priced_at_the_hardware_rate_the_catalog_knows(
        replicate, make_scene, editor, provider_server, django_capture_on_commit_callbacks):
    CatalogModel.objects.filter(connection__isnull=True, kind="replicate", model_id="google/veo-3.1").update(
        input_schema={"hardware_usd_per_second": "0.0014"})
    provider_server.job_billing = {"predict_time": 100.0}
    take = render_on(replicate, make_scene(duration=8), "google/veo-3.1", editor, django_capture_on_commit_callbacks)

    assert take.billed_cost == Decimal("0.1400") and take.cost_source == "provider"


def test_without_a_reported_cost_or_a_known_rate_the_estimate_stands_marked_estimated(
        replicate, make_scene, editor, provider_server, django_capture_on_commit_callbacks, client_for):
    provider_server.job_billing = {"predict_time": 100.0}  # no hardware rate in the shipped catalog
    scene = make_scene(duration=8)
    take = render_on(replicate, scene, "google/veo-3.1", editor, django_capture_on_commit_callbacks)

    assert take.billed_cost is None and take.cost_source == "estimated" and take.recorded_cost == take.cost
    page = client_for(editor).get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk])).content.decode()
    assert 'data-testid="take-cost-estimated"' in page


def booked(scene, cost, editor):
    take = Render.objects.create(scene=scene, provider="replicate", model="m", recipe={}, cost=Decimal(cost),
                                 status=Status.RUNNING, provider_job_id="p-1", created_by=editor)
    type(scene.project).objects.filter(pk=scene.project_id).update(render_spend=Decimal(cost))
    return Render.objects.select_related("scene").get(pk=take.pk)


def test_a_bill_below_the_estimate_refunds_nothing_and_counts_once(scene, editor, project):
    take = booked(scene, "2.00", editor)

    billing.take_record_billed(render=take, state=JobState(status="succeeded", billed_cost=Decimal("1.20")))
    billing.take_record_billed(render=take, state=JobState(status="succeeded", billed_cost=Decimal("9.00")))

    take.refresh_from_db()
    project.refresh_from_db()
    assert take.billed_cost == Decimal("1.2000")  # the first report is kept; a repeat poll changes nothing
    assert project.render_spend == Decimal("2.00")


def test_a_bill_above_the_estimate_raises_the_committed_spend_by_the_difference(scene, editor, project):
    take = booked(scene, "2.00", editor)

    billing.take_record_billed(render=take, state=JobState(status="failed", billed_cost=Decimal("2.60")))

    project.refresh_from_db()
    assert project.render_spend == Decimal("2.60")


def test_a_billed_take_shows_billed_on_its_card(client_for, editor, scene):
    take = booked(scene, "2.00", editor)
    Render.objects.filter(pk=take.pk).update(status=Status.FAILED, billed_cost=Decimal("1.10"),
                                             cost_source="provider")

    page = client_for(editor).get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk])).content.decode()

    assert 'data-testid="take-cost-billed"' in page and "$1.10" in page


@pytest.fixture
def fal(team, owner, fal_server):
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal",
                                         base_url=fal_server.url, api_key=fal_server.api_key)


def test_fal_takes_keep_their_estimate_marked_estimated(
        fal, make_scene, editor, django_capture_on_commit_callbacks, client_for):
    # fal does not report what a job cost where the studio looks: its queue status and result carry
    # none (its metrics.inference_time is GPU time, not what fal bills for a video model). An admin-key
    # billing API is not a take's bill. (Runway's ended tasks do report theirs: cost.credits.)
    scene = make_scene(duration=4)
    take = render_on(fal, scene, "fal-ai/veo3.1", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.billed_cost is None and take.cost_source == "estimated" and take.recorded_cost == take.cost > 0
    page = client_for(editor).get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk])).content.decode()
    assert 'data-testid="take-cost-estimated"' in page

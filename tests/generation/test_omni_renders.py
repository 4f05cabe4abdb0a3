"""Takes rendered with Gemini Omni Flash on the Gemini API connection, through our services, tasks and pages,
against a strict local fake of the Interactions API."""

import uuid

import av
import pytest
from django.urls import reverse

from generation import catalog
from generation.models import CatalogModel, Status
from generation.providers import connections
from generation.renders import pipeline, services

OMNI = "gemini-omni-1.2-flash"


@pytest.fixture
def gemini(team, owner, interactions_server):
    return connections.connection_create(team=team, user=owner, kind="veo", label="Gemini API",
                                         base_url=interactions_server.url, api_key=interactions_server.api_key)


def render_on(connection, scene, user, capture, model_id=OMNI):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def plays(path) -> bool:
    with av.open(path) as container:
        return any(True for _ in container.decode(video=0))


def test_an_omni_take_is_rendered_downloaded_and_plays(
        gemini, make_scene, editor, interactions_server, django_capture_on_commit_callbacks):
    take = render_on(gemini, make_scene(duration=8), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.provider_job_id.startswith("interactions/v1_omni")
    assert interactions_server.accepted == {"success": 1}  # one create for one click
    sent = interactions_server.seen("POST", "/v1beta/interactions")[0].json
    assert sent["background"] is True and sent["response_format"]["duration"] == "8s"
    assert plays(take.video.path) and take.thumbnail
    assert float(take.cost) == pytest.approx(0.15 * 8)


def test_a_failed_interaction_shows_googles_reason_on_the_take(
        gemini, make_scene, editor, client_for, interactions_server, django_capture_on_commit_callbacks):
    interactions_server.scenario = "failed"

    take = render_on(gemini, make_scene(duration=4), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.FAILED and not take.video
    assert "Video generation failed due to an internal error." in take.error_message
    card = client_for(editor).get(reverse("generation:render_status", args=[take.pk])).content.decode()
    assert "Video generation failed due to an internal error." in card
    assert not take.cost_given_back  # Google may bill a failed video: its estimate stays counted


def test_a_running_omni_take_offers_to_stop_watching_and_keeps_its_cost(
        gemini, make_scene, editor, interactions_server, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, delay: None)
    take = render_on(gemini, make_scene(duration=4), editor, django_capture_on_commit_callbacks)
    assert take.status == Status.RUNNING

    with django_capture_on_commit_callbacks(execute=True):
        services.render_cancel(render=take, user=editor)

    take.refresh_from_db()
    assert take.status == Status.CANCELED and "has no cancel" in take.error_message
    assert not take.cost_given_back and take.cost
    assert interactions_server.seen("POST", r"/v1beta/interactions/.*/cancel") == []


def test_the_gemini_api_connection_offers_omni_and_no_retired_id(team, gemini):
    offered = {t.model.model_id for t in catalog.available_targets(team) if t.connection.pk == gemini.pk}

    assert offered == {"gemini-omni-1.2-flash", "gemini-omni-1.1-flash"}
    shipped = CatalogModel.objects.filter(kind="veo", connection=None, model_id__startswith="gemini-omni")
    assert {m.lifecycle for m in shipped} == {"available"}
    assert all("estimate" in m.notes and m.price_for("1280x720") > 0 for m in shipped)


def test_the_connections_model_list_shows_omni_and_says_how_it_is_priced(gemini, owner, client_for, team):
    page = client_for(owner).get(reverse("generation:connection_catalog", args=[team.pk, gemini.pk])).content.decode()

    assert "Gemini Omni 1.2 Flash (Gemini API)" in page and "Gemini Omni 1.1 Flash (Gemini API)" in page
    assert "Google bills Omni&#x27;s video by output tokens" in page

"""Takes booked on Runway go through the real service and task path, against the local Runway fake."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.models import Render, Status
from generation.providers import connections
from generation.renders import services


@pytest.fixture
def runway(team, owner, runway_server):
    return connections.connection_create(team=team, user=owner, kind="runway", label="Runway",
                                         base_url=runway_server.url, api_key=runway_server.api_key)


def book(connection, scene, model_id, user, capture):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def test_a_runway_take_finishes_with_a_file_that_plays(
        runway, make_scene, editor, runway_server, django_capture_on_commit_callbacks):
    take = book(runway, make_scene(duration=5), "gen4.5", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert runway_server.accepted == 1  # one click, one task
    assert runway_server.seen("POST", "/v1/text_to_video")[0].json["duration"] == 5
    assert take.duration_seconds and take.duration_seconds > 0  # the stored file decodes as video
    assert take.video.size > len(runway_server.video)  # the provider's file plus the studio's manifest
    assert float(take.cost) == pytest.approx(0.60)


def test_a_runway_moderation_refusal_fails_the_take_in_plain_words(
        runway, make_scene, editor, runway_server, django_capture_on_commit_callbacks):
    runway_server.scenario = "moderation"
    take = book(runway, make_scene(duration=5), "gen4.5", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.FAILED
    assert take.error_message.startswith("Refused by the provider's moderation")


def test_a_start_frame_model_is_refused_at_booking_when_the_scene_has_no_image(
        runway, make_scene, editor, runway_server, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as refused:
        book(runway, make_scene(duration=5), "gen4_turbo", editor, django_capture_on_commit_callbacks)
    assert "animates a start frame" in " ".join(refused.value.messages)
    assert not Render.objects.exists() and runway_server.requests == []


def test_runways_models_are_listed_in_the_admin_catalog(client, db):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a long admin password")
    client.force_login(admin)
    page = client.get(reverse("admin:generation_catalogmodel_changelist") + "?kind__exact=runway").content.decode()
    for model_id in ("gen4.5", "gen4_turbo", "veo3.1", "seedance2"):
        assert f"({model_id})" in page


def test_the_connections_page_says_runway_is_polled(client_for, owner, team, db):
    connections.connection_create(team=team, user=owner, kind="runway", label="Runway", api_key="key_1")
    page = client_for(owner).get(reverse("generation:connection_list", args=[team.pk])).content.decode()
    assert "https://api.dev.runwayml.com" in page and "Runway sends no webhooks" in page
    assert "add the signing secret" not in page


HX = {"HTTP_HX_REQUEST": "true"}


def test_a_finished_runway_take_records_what_runway_billed_as_its_cost(
        runway, make_scene, editor, runway_server, client_for, django_capture_on_commit_callbacks):
    runway_server.charge_credits = 55  # the task's cost.credits; the catalog estimated 5 s × $0.12
    take = book(runway, make_scene(duration=5), "gen4.5", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert (take.billed_cost, take.cost_source, take.cost) == (Decimal("0.5500"), "provider", Decimal("0.6000"))
    card = client_for(editor).get(reverse("generation:render_status", args=[take.pk])).content.decode()
    assert "$0.55" in card and 'data-testid="take-cost-billed"' in card


@pytest.mark.parametrize("prompt", ["A gull circles the harbour. " * 40, "A gull circles 🎬. " * 80])
def test_a_prompt_longer_than_runway_takes_is_refused_at_booking_in_the_page(
        runway, make_scene, editor, runway_server, client_for, prompt):
    scene = make_scene(duration=5, prompt=prompt)

    response = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]), {
        "target": f"{runway.pk}:gen4.5", "idempotency_key": str(uuid.uuid4())}, **HX)

    assert response.status_code == 200
    assert "Runway&#x27;s gen4.5 takes a prompt of at most 1,000 characters" in response.content.decode()
    assert not Render.objects.exists() and runway_server.requests == []


def test_the_casts_descriptions_count_towards_runways_prompt_limit(
        runway, make_scene, editor, team, runway_server, django_capture_on_commit_callbacks):
    from projects.characters import consent
    from projects.models import CharacterKind
    from tests.factories import photo

    consent.character_create(team=team, user=editor, name="Maya", kind=CharacterKind.FICTIONAL,
                             declares_fictional=True, description="a sailor in a red coat " * 20, images=[photo()])
    scene = make_scene(duration=5, prompt="@Maya mends a net on the quay. " + "Gulls wheel overhead. " * 25)
    assert len(scene.prompt) < 1000

    with pytest.raises(ValidationError) as refused:
        book(runway, scene, "gen4.5", editor, django_capture_on_commit_callbacks)
    assert "with the cast's descriptions" in " ".join(refused.value.messages)
    assert not Render.objects.exists()


def test_canceling_a_running_runway_take_warns_first_that_runway_does_not_refund_and_keeps_its_cost(
        runway, make_scene, editor, runway_server, client_for, monkeypatch, django_capture_on_commit_callbacks):
    from generation.renders import pipeline

    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, delay: None)
    take = book(runway, make_scene(duration=5), "gen4.5", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.RUNNING
    client = client_for(editor)

    card = client.get(reverse("generation:render_status", args=[take.pk])).content.decode()
    assert "Runway does not refund a job canceled while it runs: its cost stays counted." in card

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("generation:render_cancel", args=[take.pk]), **HX)

    take.refresh_from_db()
    take.scene.project.refresh_from_db()
    assert take.status == Status.CANCELED and runway_server.seen("DELETE", r"/v1/tasks/.*")
    assert take.error_message == ("Canceled by eddie. Runway does not refund a job canceled while it runs: "
                                  "its cost stays counted.")
    assert take.cost_outcome == "Cost kept: the provider does not refund a canceled job"
    assert not take.cost_given_back and take.scene.project.render_spend == take.cost == Decimal("0.60")

"""Takes booked on fal go through the real service and task path; fal's signed webhooks nudge them."""

import json
import time
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse

from generation.models import Render, Status
from generation.providers import connections
from generation.renders import services


@pytest.fixture
def fal(team, owner, fal_server, settings):
    settings.FAL_JWKS_URL = fal_server.jwks_url
    cache.delete("fal-webhook-jwks")
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal",
                                         base_url=fal_server.url, api_key=fal_server.api_key)


def book(connection, scene, model_id, user, capture):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def test_a_fal_take_finishes_with_a_file_that_plays(
        fal, make_scene, editor, fal_server, django_capture_on_commit_callbacks):
    take = book(fal, make_scene(duration=4), "fal-ai/veo3.1", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert fal_server.accepted == 1  # one click, one request
    assert fal_server.requests[0].json["duration"] == "4s"
    request_id = next(iter(fal_server.jobs))
    assert take.provider_job_id == f"{request_id} /fal-ai/veo3.1/requests/{request_id}"
    assert take.duration_seconds and take.duration_seconds > 0  # the stored file decodes as video
    assert take.video.size > len(fal_server.video)  # fal's file plus the studio's manifest
    assert float(take.cost) == pytest.approx(1.6)  # Veo with audio, $0.40 a second


def test_with_a_public_address_fal_is_told_where_to_call_back_without_any_secret(
        fal, make_scene, editor, fal_server, settings, django_capture_on_commit_callbacks):
    settings.PUBLIC_BASE_URL = "https://studio.example"
    book(fal, make_scene(duration=4), "fal-ai/veo3.1", editor, django_capture_on_commit_callbacks)
    assert fal_server.requests[0].query["fal_webhook"] == f"https://studio.example/webhooks/{fal.webhook_token}/"


def test_a_fal_moderation_refusal_fails_the_take_in_plain_words(
        fal, make_scene, editor, fal_server, django_capture_on_commit_callbacks):
    fal_server.scenario = "moderation"
    take = book(fal, make_scene(duration=4), "fal-ai/veo3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.FAILED
    assert take.error_message.startswith("Refused by the provider's moderation")


# --- webhooks -------------------------------------------------------------------------------

@pytest.fixture
def running_take(fal, make_scene):
    request_id = str(uuid.uuid4())
    return Render.objects.create(scene=make_scene(duration=4), connection=fal, provider="fal", model="fal-ai/veo3.1",
                                 recipe={}, status=Status.RUNNING,
                                 provider_job_id=f"{request_id} /fal-ai/veo3.1/requests/{request_id}")


@pytest.fixture
def polls(monkeypatch):
    from generation import tasks

    nudged = []
    monkeypatch.setattr(tasks.poll_render, "delay", lambda render_id: nudged.append(render_id))
    return nudged


def deliver(client, connection, fal_server, request_id, **sign):
    body = json.dumps({"request_id": request_id, "gateway_request_id": request_id, "status": "OK",
                       "payload": {"video": {"url": "https://v3.fal.media/files/x/output.mp4"}}}).encode()
    headers = fal_server.sign_webhook(body, request_id=request_id, **sign)
    return client.post(f"/webhooks/{connection.webhook_token}/", body, content_type="application/json",
                       headers=headers)


def request_id_of(take):
    return take.provider_job_id.split(" ")[0]


def test_a_webhook_signed_by_fal_nudges_the_take(client, fal, fal_server, running_take, polls):
    response = deliver(client, fal, fal_server, request_id_of(running_take))
    assert response.status_code == 204
    assert polls == [running_take.pk]


def test_a_webhook_with_a_bad_signature_is_refused(client, fal, fal_server, running_take, polls):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    response = deliver(client, fal, fal_server, request_id_of(running_take), key=Ed25519PrivateKey.generate())
    assert response.status_code == 401
    assert polls == []


def test_a_webhook_with_a_stale_timestamp_is_refused(client, fal, fal_server, running_take, polls):
    response = deliver(client, fal, fal_server, request_id_of(running_take), timestamp=int(time.time()) - 600)
    assert response.status_code == 401 and b"too far" in response.content
    assert polls == []


def test_a_webhook_whose_body_names_another_request_is_refused(client, fal, fal_server, running_take, polls):
    body = json.dumps({"request_id": request_id_of(running_take), "status": "OK"}).encode()
    headers = fal_server.sign_webhook(body, request_id=str(uuid.uuid4()))
    response = client.post(f"/webhooks/{fal.webhook_token}/", body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert polls == []


def test_a_replayed_webhook_is_acknowledged_and_acts_once(client, fal, fal_server, running_take, polls):
    # fal retries a delivery up to 10 times over 2 hours: a replay gets 200 "already processed", no second poll.
    assert deliver(client, fal, fal_server, request_id_of(running_take)).status_code == 204
    replay = deliver(client, fal, fal_server, request_id_of(running_take))
    assert (replay.status_code, replay.content) == (200, b"Already processed.")
    assert polls == [running_take.pk]


def test_fals_models_are_listed_in_the_admin_catalog(client, db):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a long admin password")
    client.force_login(admin)
    page = client.get(reverse("admin:generation_catalogmodel_changelist") + "?kind__exact=fal").content.decode()
    for model_id in ("fal-ai/veo3.1", "fal-ai/veo3.1/fast", "bytedance/seedance-2.0/text-to-video",
                     "fal-ai/kling-video/v3/pro/text-to-video"):
        assert f"({model_id})" in page


def test_the_connections_page_shows_fals_address_and_that_no_secret_is_needed(client_for, owner, team, db):
    connection = connections.connection_create(team=team, user=owner, kind="fal", label="fal", api_key="k:s")
    page = client_for(owner).get(reverse("generation:connection_list", args=[team.pk])).content.decode()
    assert "https://queue.fal.run" in page and f"/webhooks/{connection.webhook_token}/" in page
    assert "no secret to add" in page and "add the signing secret" not in page


SEEDANCE = "bytedance/seedance-2.0/text-to-video"


def test_seedance_is_offered_only_at_the_720p_sizes_fal_renders(fal, team):
    from generation import catalog

    seedance = catalog.resolve(fal, SEEDANCE)
    assert seedance.sizes == ["1280x720", "720x1280"]
    assert seedance.input_schema["resolution"] == ["480p", "720p"]
    assert all(t.model.model_id != SEEDANCE for t in catalog.available_targets(team)
               if t.model.problems_for(size="1920x1080", seconds=5) == [])


def test_a_1080p_scene_is_refused_seedance_at_booking(fal, make_scene, editor, fal_server):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=make_scene(duration=5, size="1920x1080"), user=editor, connection=fal,
                               model_id=SEEDANCE, idempotency_key=uuid.uuid4())
    assert "not 1920x1080" in " ".join(refused.value.messages)
    assert not Render.objects.exists() and fal_server.requests == []

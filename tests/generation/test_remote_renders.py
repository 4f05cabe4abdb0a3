"""Takes rendered on remote providers, through our tasks, against a local server speaking their wire format."""

import json
import time
import uuid

import pytest

from generation.models import Render, Status
from generation.providers import connections
from generation.providers.webhooks import sign_standard_webhook
from generation.renders import services

WEBHOOK_SECRET = "whsec_" + "c3R1ZGlvLXdlYmhvb2stc2VjcmV0"


@pytest.fixture
def gateway(team, owner, provider_server):
    connection = connections.connection_create(
        team=team, user=owner, kind="openai-videos", label="Gateway", base_url=provider_server.openai_base,
        api_key=provider_server.api_key, webhook_secret=WEBHOOK_SECRET,
    )
    connections.catalog_register_model(connection=connection, model_id="veo-3.1", display_name="Veo via gateway",
                                       sizes=["1280x720"], durations=[4, 8], price_per_second=0.4)
    return connection


@pytest.fixture
def replicate(team, owner, provider_server):
    return connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                         base_url=provider_server.replicate_base, api_key=provider_server.api_key)


@pytest.fixture
def four_second_scene(make_scene):
    return make_scene(duration=4)


def render_on(connection, scene, model_id, user, capture):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def kept_whole(take, provider_server) -> bool:
    """The stored file is the provider's whole file plus the studio's manifest around it."""
    return take.c2pa_summary.get("studio_signed") is True and take.video.size > len(provider_server.video)


def test_a_gateway_take_arrives_with_the_providers_own_credentials_shown_honestly(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.provider_job_id.startswith("job_")
    assert provider_server.accepted["success"] == 1  # exactly one create for one click
    create = provider_server.seen("POST", r"/openai/v1/videos")[0]
    assert create.fields["seconds"] == "4" and create.fields["model"] == "veo-3.1"
    # The fixture is signed by an outside test certificate: intact, but not trusted.
    assert take.c2pa_state == "valid"
    assert take.c2pa_summary["signer"] == "C2PA Test Signing Cert"
    assert "signingCredential.untrusted" in take.c2pa_codes
    assert take.thumbnail and kept_whole(take, provider_server)
    assert float(take.cost) == pytest.approx(1.6)


def test_a_moderation_refusal_fails_the_take_in_plain_words(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    provider_server.scenario = "moderation"
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.FAILED
    assert take.error_message.startswith("Refused by the provider")


def test_an_expired_result_fails_the_take_saying_so(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    provider_server.scenario = "expired"
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.FAILED
    assert "expired" in take.error_message
    assert not take.video


def test_a_model_the_gateway_does_not_know_fails_as_unknown_or_retired(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    connections.catalog_register_model(connection=gateway, model_id="wan-9", display_name="Wan 9",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.1)
    take = render_on(gateway, four_second_scene, "wan-9", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.FAILED
    assert "unknown or retired" in take.error_message
    assert provider_server.accepted["success"] == 0


def test_a_wrong_key_fails_with_an_authentication_message_and_no_key_in_it(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    gateway.set_api_key("sk-wrong-key")
    gateway.save()
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.FAILED
    assert "Authentication failed" in take.error_message and "sk-wrong-key" not in take.error_message


def test_a_replicate_take_is_downloaded_at_once(
        replicate, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    take = render_on(replicate, four_second_scene, "google/veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.SUCCEEDED, take.error_message
    body = provider_server.seen("POST", r"/replicate/v1/models/google/veo-3\.1/predictions")[0].body
    assert json.loads(body)["input"]["duration"] == 4
    assert kept_whole(take, provider_server)


def test_testing_a_connection_makes_one_authenticated_call(
        gateway, provider_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        connections.connection_request_test(connection=gateway)
    gateway.refresh_from_db()
    assert gateway.last_test_ok is True
    gateway.set_api_key("sk-wrong")
    gateway.save()
    with django_capture_on_commit_callbacks(execute=True):
        connections.connection_request_test(connection=gateway)
    gateway.refresh_from_db()
    assert gateway.last_test_ok is False and "Authentication failed" in gateway.last_test_message


# --- webhooks ---------------------------------------------------------------

def deliver(client, connection, payload, *, secret=WEBHOOK_SECRET, webhook_id=None, timestamp=None):
    body = json.dumps(payload).encode()
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = sign_standard_webhook(secret=secret, webhook_id=webhook_id, timestamp=timestamp, body=body)
    return client.post(f"/webhooks/{connection.webhook_token}/", body, content_type="application/json",
                       HTTP_WEBHOOK_ID=webhook_id, HTTP_WEBHOOK_TIMESTAMP=str(timestamp),
                       HTTP_WEBHOOK_SIGNATURE=signature)


@pytest.fixture
def running_take(gateway, four_second_scene):
    return Render.objects.create(scene=four_second_scene, connection=gateway, provider="openai-videos",
                                 model="veo-3.1", recipe={}, status=Status.RUNNING, provider_job_id="job_77")


@pytest.fixture
def polls(monkeypatch):
    from generation import tasks

    nudged = []
    monkeypatch.setattr(tasks.poll_render, "delay", lambda render_id: nudged.append(render_id))
    return nudged


def test_a_signed_webhook_nudges_the_take_to_poll_now(client, gateway, running_take, polls):
    response = deliver(client, gateway, {"id": "evt_1", "object": "event", "type": "video.completed",
                                         "data": {"id": "job_77"}})
    assert response.status_code == 204
    assert polls == [running_take.pk]


def test_a_webhook_with_a_wrong_signature_changes_nothing(client, gateway, running_take, polls):
    response = deliver(client, gateway, {"type": "video.completed", "data": {"id": "job_77"}},
                       secret="whsec_" + "d3Jvbmctc2VjcmV0")
    assert response.status_code == 401
    assert polls == []


def test_a_stale_webhook_is_refused(client, gateway, running_take, polls):
    response = deliver(client, gateway, {"type": "video.completed", "data": {"id": "job_77"}},
                       timestamp=int(time.time()) - 600)
    assert response.status_code == 401
    assert polls == []


def test_a_replayed_webhook_is_acknowledged_and_acts_once(client, gateway, running_take, polls):
    # Senders retry anything but a 2xx: a replay gets 200 "already processed", and no second poll.
    payload = {"type": "video.completed", "data": {"id": "job_77"}}
    assert deliver(client, gateway, payload, webhook_id="msg_same").status_code == 204
    replay = deliver(client, gateway, payload, webhook_id="msg_same")
    assert (replay.status_code, replay.content) == (200, b"Already processed.")
    assert polls == [running_take.pk]


def test_a_gateway_secret_pasted_without_its_prefix_verifies_as_openais_sdk_signs(client, gateway, running_take,
                                                                                   polls):
    import base64
    import hashlib
    import hmac

    plain = "gateway-secret-without-a-prefix"
    gateway.set_webhook_secret(plain)
    gateway.save()
    body = json.dumps({"type": "video.completed", "data": {"id": "job_77"}}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(plain.encode(), b"msg_plain." + stamp.encode() + b"." + body, hashlib.sha256).digest()

    response = client.post(f"/webhooks/{gateway.webhook_token}/", body, content_type="application/json",
                           HTTP_WEBHOOK_ID="msg_plain", HTTP_WEBHOOK_TIMESTAMP=stamp,
                           HTTP_WEBHOOK_SIGNATURE="v1," + base64.b64encode(digest).decode())

    assert response.status_code == 204 and polls == [running_take.pk]


def test_a_webhook_to_a_provider_that_sends_none_is_refused_even_when_signed(
        client, team, owner, four_second_scene, polls, settings):
    # Runway calls nobody back: a delivery to its address is not Runway's, whatever it is signed with,
    # and a secret stored on the connection must not slow its polling to a webhook's safety net.
    from generation.providers import webhook_url_for

    settings.PUBLIC_BASE_URL = "https://studio.example"
    runway = connections.connection_create(team=team, user=owner, kind="runway", label="Runway", api_key="key_1",
                                           webhook_secret=WEBHOOK_SECRET)
    take = Render.objects.create(scene=four_second_scene, connection=runway, provider="runway", model="gen4.5",
                                 recipe={}, status=Status.RUNNING, provider_job_id="task_1")

    response = deliver(client, runway, {"id": "task_1", "status": "SUCCEEDED"})

    assert response.status_code == 400 and b"sends no webhooks" in response.content
    assert polls == [] and take.pk and webhook_url_for(runway) is None


def test_an_unknown_webhook_address_is_404(client, db):
    assert client.post("/webhooks/not-a-token/", b"{}", content_type="application/json").status_code == 404


# --- cancel -------------------------------------------------------------------

def test_cancelling_a_running_replicate_take_calls_the_providers_cancel(
        client_for, editor, replicate, four_second_scene, provider_server, django_capture_on_commit_callbacks):
    take = Render.objects.create(scene=four_second_scene, connection=replicate, provider="replicate",
                                 model="google/veo-3.1", recipe={}, status=Status.RUNNING, provider_job_id="job_5")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(f"/takes/{take.pk}/cancel/", HTTP_HX_REQUEST="true")
    take.refresh_from_db()
    assert take.status == Status.CANCELED and take.error_message == "Canceled by eddie."
    assert "Canceled by eddie." in response.content.decode()
    assert provider_server.seen("POST", r"/replicate/v1/predictions/job_5/cancel")


def test_a_finished_take_cannot_be_cancelled(client_for, editor, scene, finished_take):
    take = finished_take(scene)
    html = client_for(editor).post(f"/takes/{take.pk}/cancel/", HTTP_HX_REQUEST="true").content.decode()
    assert "already finished" in html
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED


def test_viewers_cannot_cancel(client_for, viewer, scene):
    take = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.QUEUED)
    assert client_for(viewer).post(f"/takes/{take.pk}/cancel/").status_code == 403


# --- remix --------------------------------------------------------------------

@pytest.fixture
def remixable(gateway):
    from generation.models import CatalogModel

    CatalogModel.objects.filter(connection=gateway, model_id="veo-3.1").update(supports_remix=True)
    return gateway


def test_remixing_a_take_makes_a_linked_child_take_at_the_provider(
        client_for, editor, remixable, four_second_scene, provider_server, django_capture_on_commit_callbacks):
    parent = render_on(remixable, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    # The fake's clip is 2 s portrait, which blocks remixing (tested in test_provenance_gates):
    # here the parent stands for a take delivered as booked.
    Render.objects.filter(pk=parent.pk).update(delivery_problems=[])
    client = client_for(editor)
    page = client.get(f"/projects/{four_second_scene.project_id}/scenes/{four_second_scene.pk}/").content.decode()
    assert "Remix this take" in page
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(f"/takes/{parent.pk}/remix/", {"prompt": "Same harbour, at night.",
                                                           "idempotency_key": str(uuid.uuid4())},
                           HTTP_HX_REQUEST="true").content.decode()
    child = Render.objects.exclude(pk=parent.pk).get()
    assert child.status == Status.SUCCEEDED, child.error_message
    assert (child.parent, child.recipe["prompt"]) == (parent, "Same harbour, at night.")
    remix_call = provider_server.seen("POST", rf"/openai/v1/videos/{parent.provider_job_id}/remix")
    assert len(remix_call) == 1 and json.loads(remix_call[0].body) == {"prompt": "Same harbour, at night."}
    assert f"Remix of take {parent.number}" in client.get(f"/takes/{child.pk}/").content.decode()
    assert html.count('data-testid="take"') == 2


def test_a_model_without_remix_offers_none_and_refuses_it(client_for, editor, gateway, four_second_scene,
                                                         django_capture_on_commit_callbacks):
    parent = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    client = client_for(editor)
    assert "Remix this take" not in client.get(f"/takes/{parent.pk}/").content.decode()
    html = client.post(f"/takes/{parent.pk}/remix/", {"prompt": "x", "idempotency_key": str(uuid.uuid4())},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "cannot remix takes" in html
    assert Render.objects.count() == 1


def test_an_empty_remix_prompt_is_refused(client_for, editor, remixable, four_second_scene,
                                          django_capture_on_commit_callbacks):
    parent = render_on(remixable, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    html = client_for(editor).post(f"/takes/{parent.pk}/remix/", {"prompt": "  ", "idempotency_key": str(uuid.uuid4())},
                                   HTTP_HX_REQUEST="true").content.decode()
    assert "Describe what should change in the remix." in html


# --- scripted provider scenarios, end to end --------------------------------

@pytest.fixture
def waits(monkeypatch):
    import generation.providers

    recorded = []
    monkeypatch.setattr(generation.providers, "_sleep", recorded.append)
    return recorded


def test_a_throttled_create_waits_as_asked_then_succeeds_with_one_create(
        gateway, four_second_scene, editor, provider_server, waits, django_capture_on_commit_callbacks):
    provider_server.scenario = "throttled"
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.SUCCEEDED, take.error_message
    assert waits[0] == 2  # Retry-After: 2
    assert len(provider_server.seen("POST", r"/openai/v1/videos")) == 2
    assert provider_server.accepted["throttled"] == 1


def test_a_gateway_that_keeps_failing_creates_fails_the_take_without_cost_once_its_list_stayed_empty(
        gateway, four_second_scene, editor, provider_server, waits, django_capture_on_commit_callbacks, countdowns):
    countdowns.freeze()
    provider_server.scenario = "server-error"
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    countdowns.run()
    take.refresh_from_db()
    assert take.status == Status.FAILED and not take.billing_unconfirmed
    assert "nothing was created" in take.error_message and "Gateway" in take.error_message
    assert provider_server.accepted["server-error"] == 0
    # Each 5xx is followed by a window of looks at the job list; only an empty window allows a resend.
    methods = [r.method for r in provider_server.requests]
    assert methods.count("POST") == 3 and methods[0] == "POST" and methods[-1] == "GET"
    assert methods[1] == "GET" and methods.count("GET") > 10
    four_second_scene.project.refresh_from_db()
    assert four_second_scene.project.render_spend == 0  # nothing was made: nothing is counted


def test_a_create_that_times_out_is_found_in_the_providers_list_not_sent_again(
        gateway, four_second_scene, editor, provider_server, waits, monkeypatch, django_capture_on_commit_callbacks):
    from generation.providers import http

    # A short read timeout, so the slow create times out quickly.
    real_make_client = http.make_client
    monkeypatch.setattr(http, "make_client", lambda **kw: real_make_client(**{**kw, "read": 0.3}))
    provider_server.scenario = "slow-create"
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.provider_job_id in provider_server.jobs
    assert len(provider_server.seen("POST", r"/openai/v1/videos")) == 1


def test_a_truncated_download_is_retried_then_fails_without_keeping_a_partial_file(
        gateway, four_second_scene, editor, provider_server, waits, django_capture_on_commit_callbacks):
    provider_server.scenario = "truncated"
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.FAILED
    assert not take.video
    assert "cut off" in take.error_message
    assert len(provider_server.seen("GET", r"/openai/v1/videos/job_\d+/content")) == 4  # tried 4 times


def test_the_providers_own_thumbnail_becomes_the_takes_jpeg(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    from PIL import Image

    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert provider_server.seen("GET", r"/openai/v1/videos/job_\d+/content") and any(
        r.query.get("variant") == "thumbnail" for r in provider_server.seen("GET", r"/openai/v1/videos/job_\d+/content"))
    with Image.open(take.thumbnail.path) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (320, 180))
        assert thumbnail.getpixel((10, 10))[0] > 200  # the provider's yellow, not a video frame


def test_a_poll_redelivered_after_its_worker_died_mid_download_finishes_the_take(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    from generation import tasks

    done = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    # The poll saw this job done, moved the take to downloading, and its worker died there.
    stranded = Render.objects.create(scene=four_second_scene, connection=gateway, provider=gateway.kind,
                                     model="veo-3.1", recipe=done.recipe, status=Status.DOWNLOADING,
                                     provider_job_id=done.provider_job_id, created_by=editor)

    def deliver(redelivered: bool):
        tasks.poll_render.push_request(delivery_info={"redelivered": redelivered})
        try:
            tasks.poll_render.run(stranded.pk)
        finally:
            tasks.poll_render.pop_request()
        stranded.refresh_from_db()

    deliver(redelivered=False)  # a poll that is not a redelivery leaves a download in flight alone
    assert stranded.status == Status.DOWNLOADING
    deliver(redelivered=True)
    assert stranded.status == Status.SUCCEEDED, stranded.error_message
    assert kept_whole(stranded, provider_server)


# --- Replicate's Veo 3.1 and the cast's likeness ---------------------------------------------------

@pytest.fixture
def maya(team, make_member):
    from projects.characters import consent
    from projects.models import CharacterKind, Role
    from tests.factories import photo

    member = make_member(team, Role.EDITOR, "maya")
    character = consent.character_create(team=team, user=member, name="Maya", kind=CharacterKind.PERSON,
                                         person=member, description="red coat", images=[photo()])
    consent.consent_grant(character=character, user=member)
    return character


@pytest.mark.parametrize("duration, size, words", [
    (4, "1280x720", "likeness only in 8-second takes, not 4"),
    (8, "720x1280", "likeness only at 1280x720, 1920x1080, not 720x1280"),
])
def test_replicate_veo_with_the_cast_is_refused_at_booking_outside_eight_second_landscape_takes(
        replicate, make_scene, editor, maya, provider_server, duration, size, words):
    from django.core.exceptions import ValidationError

    scene = make_scene(prompt="@Maya on the pier.", duration=duration, size=size)
    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=scene, user=editor, connection=replicate, model_id="google/veo-3.1",
                               idempotency_key=uuid.uuid4())
    assert words in " ".join(refused.value.messages)
    assert not Render.objects.exists() and provider_server.requests == []


def test_replicate_veo_beside_a_start_frame_sends_the_frame_and_describes_the_cast(
        replicate, make_scene, editor, owner, maya, provider_server, django_capture_on_commit_callbacks):
    from projects.storyboard.services import scene_set_reference
    from tests.factories import photo

    scene = make_scene(prompt="@Maya on the pier.", duration=4)
    scene_set_reference(scene=scene, user=owner, upload=photo("frame.png"))

    take = render_on(replicate, scene, "google/veo-3.1", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    sent = json.loads(provider_server.seen("POST", r"/replicate/v1/models/google/veo-3\.1/predictions")[0].body)
    assert sent["input"]["image"].startswith("data:image/png;base64,") and "reference_images" not in sent["input"]
    assert "Maya: red coat" in sent["input"]["prompt"]


def test_replicate_veo_keeps_the_casts_likeness_in_an_eight_second_landscape_take(
        replicate, make_scene, editor, maya, provider_server, django_capture_on_commit_callbacks):
    take = render_on(replicate, make_scene(prompt="@Maya on the pier.", duration=8), "google/veo-3.1", editor,
                     django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    sent = json.loads(provider_server.seen("POST", r"/replicate/v1/models/google/veo-3\.1/predictions")[0].body)
    assert len(sent["input"]["reference_images"]) == 1

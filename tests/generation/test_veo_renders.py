"""Takes rendered with Google Veo (Gemini API), through our services and tasks, against a strict local fake.

Google retired the Gemini API's Veo preview ids (2026-10-22): these tests book them as they were before that
(`veo_previews_live`), for what the adapter and the studio still do with takes on them; Veo renders through
Vertex AI now (test_vertex_renders.py)."""

import json
import uuid

import av
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.models import CatalogModel, ProviderConnection, Render, Status
from generation.providers import connections, provider_for
from generation.renders import pipeline, services
from projects.characters import consent
from projects.models import CharacterKind, Role
from tests.factories import photo

FAST = "veo-3.1-fast-generate-preview"


@pytest.fixture
def veo(team, owner, veo_server, veo_previews_live):
    return connections.connection_create(team=team, user=owner, kind="veo", label="Google Veo",
                                         base_url=veo_server.url, api_key=veo_server.api_key)


def book(connection, scene, user, model_id=FAST):
    return services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                  idempotency_key=uuid.uuid4())


def render_on(connection, scene, user, capture, model_id=FAST):
    with capture(execute=True):
        take, _ = book(connection, scene, user, model_id)
    take.refresh_from_db()
    return take


def plays(path) -> bool:
    with av.open(path) as container:
        return any(True for _ in container.decode(video=0))


def test_a_veo_take_is_rendered_downloaded_and_plays(
        veo, make_scene, editor, veo_server, django_capture_on_commit_callbacks):
    scene = make_scene(duration=8)

    take = render_on(veo, scene, editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.provider_job_id.startswith(f"models/{FAST}/operations/")
    assert veo_server.accepted == {"success": 1}  # one create for one click
    sent = veo_server.seen("POST", rf"/v1beta/models/{FAST}:predictLongRunning")[0].json
    assert sent["parameters"] == {"durationSeconds": 8, "aspectRatio": "16:9", "resolution": "720p"}
    assert plays(take.video.path) and take.thumbnail
    assert float(take.cost) == pytest.approx(0.15 * 8)
    assert all("x-goog-api-key" not in r.headers for r in veo_server.storage_requests)


def test_a_safety_filtered_veo_take_fails_in_plain_words(
        veo, make_scene, editor, veo_server, django_capture_on_commit_callbacks):
    veo_server.scenario = "rai-filtered"

    take = render_on(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.FAILED
    assert take.error_message.startswith("Refused by Google's safety filters")
    assert not take.video


def test_a_veo_video_gone_after_two_days_fails_the_take_as_expired(
        veo, make_scene, editor, veo_server, django_capture_on_commit_callbacks):
    veo_server.scenario = "expired"

    take = render_on(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.FAILED and "expired" in take.error_message


def test_a_retired_preview_model_fails_the_take_as_retired_or_unknown(
        veo, make_scene, editor, veo_server, django_capture_on_commit_callbacks):
    CatalogModel.objects.create(kind="veo", connection=veo, model_id="veo-3.0-generate-preview",
                                display_name="Veo 3.0", sizes=["1280x720"], durations=[4, 8],
                                price_per_second={"*": 0.4})

    take = render_on(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks,
                     model_id="veo-3.0-generate-preview")

    assert take.status == Status.FAILED
    assert "retired or unknown" in take.error_message
    assert veo_server.accepted == {}


def test_a_1080p_take_shorter_than_eight_seconds_is_refused_in_the_page(
        veo, client_for, make_scene, editor, veo_server):
    scene = make_scene(duration=4, size="1920x1080")

    html = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]),
                                   {"target": f"{veo.pk}:{FAST}", "idempotency_key": str(uuid.uuid4())},
                                   HTTP_HX_REQUEST="true").content.decode()

    assert "renders 1920x1080 only at 8 seconds, not 4" in html
    assert not Render.objects.filter(scene=scene).exists() and veo_server.requests == []


def test_an_owner_connects_veo_with_just_a_key(client_for, owner, team):
    client_for(owner).post(reverse("generation:connection_list", args=[team.pk]), {
        "kind": "veo", "label": "Google", "base_url": "", "auth_style": "bearer",
        "api_key": "AIzaSy-live-key-42", "webhook_secret": ""})

    connection = ProviderConnection.objects.get(team=team, label="Google")
    assert (connection.kind, connection.base_url, connection.api_key) == ("veo", "", "AIzaSy-live-key-42")
    assert "AIzaSy-live-key-42" not in connection.api_key_encrypted
    assert str(provider_for(connection)._client.base_url).rstrip("/") == "https://generativelanguage.googleapis.com"


def test_the_cast_goes_to_veo_as_asset_references_in_an_eight_second_take(
        veo, team, make_scene, make_member, editor, veo_server, django_capture_on_commit_callbacks):
    member = make_member(team, Role.EDITOR, "maya")
    maya = consent.character_create(team=team, user=member, name="Maya", kind=CharacterKind.PERSON,
                                    person=member, description="red coat", images=[photo()])
    consent.consent_grant(character=maya, user=member)

    take = render_on(veo, make_scene(prompt="@Maya on the pier.", duration=8), editor,
                     django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    instance = veo_server.seen("POST", rf"/v1beta/models/{FAST}:predictLongRunning")[0].json["instances"][0]
    assert [r["referenceType"] for r in instance["referenceImages"]] == ["ASSET"]
    assert instance["referenceImages"][0]["image"]["mimeType"] == "image/png"
    assert "Maya: red coat" in instance["prompt"]

    with pytest.raises(ValidationError) as refused:
        book(veo, make_scene(title="Short", prompt="@Maya waves.", duration=4), editor)
    assert "likeness only in 8-second takes, not 4" in " ".join(refused.value.messages)


def test_canceling_a_running_veo_take_says_google_renders_and_bills_it_and_keeps_its_cost(
        veo, make_scene, editor, veo_server, monkeypatch, django_capture_on_commit_callbacks):
    scheduled = []
    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, delay: scheduled.append(render.pk))
    take = render_on(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)
    assert take.status == Status.RUNNING and scheduled == [take.pk]  # sent; its first poll is due
    project = take.scene.project
    project.refresh_from_db()
    committed = project.render_spend

    with django_capture_on_commit_callbacks(execute=True):
        services.render_cancel(render=take, user=editor)
    pipeline.render_poll(take.pk)  # the poll that was due finds nothing to do

    take.refresh_from_db()
    project.refresh_from_db()
    # The Gemini API has no cancel: the studio only stops watching, and says what that costs.
    assert take.status == Status.CANCELED and take.error_message == (
        f"Canceled by {editor.get_username()}. Google Veo has no cancel: the job runs to its end and may be billed.")
    assert take.cost_outcome == "Cost kept: the provider does not refund a canceled job"
    assert not take.cost_given_back and project.render_spend == committed == take.cost
    assert veo_server.seen("GET", r"/v1beta/models/.*/operations/.*") == []


def test_a_running_veo_take_offers_to_stop_watching_not_to_cancel(
        veo, make_scene, editor, client_for, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, delay: None)
    take = render_on(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)

    card = client_for(editor).get(reverse("generation:render_status", args=[take.pk])).content.decode()

    assert ">Stop watching</button>" in card and ">Cancel</button>" not in card
    assert "Google Gemini API cannot cancel a job" in card and "may bill it in full" in card


def test_testing_a_veo_connection_with_a_wrong_key_says_so(
        veo, veo_server, django_capture_on_commit_callbacks):
    veo.set_api_key("AIzaSy-wrong-key-999")
    veo.save()

    with django_capture_on_commit_callbacks(execute=True):
        connections.connection_request_test(connection=veo)

    veo.refresh_from_db()
    assert veo.last_test_ok is False
    assert "Google rejected the API key" in veo.last_test_message
    assert "AIzaSy-wrong-key-999" not in veo.last_test_message


def test_the_shipped_veo_models_are_listed_in_the_admin_and_flagged_retired(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a long admin password")
    client.force_login(admin)

    page = client.get(reverse("admin:generation_catalogmodel_changelist") + "?kind=veo").content.decode()

    # The connection's Gemini Omni Flash rows are another API's (test_omni_renders.py).
    shipped = CatalogModel.objects.filter(kind="veo", connection=None, model_id__startswith="veo-")
    assert sorted(m.model_id for m in shipped) == [
        "veo-3.1-fast-generate-preview", "veo-3.1-generate-preview", "veo-3.1-lite-generate-preview"]
    assert all(m.model_id in page for m in shipped)
    assert {(m.lifecycle, str(m.lifecycle_date)) for m in shipped} == {("retired", "2026-10-22")}
    assert all("Vertex AI" in m.notes for m in shipped)
    lite = shipped.get(model_id="veo-3.1-lite-generate-preview")
    assert lite.price_for("1280x720") < shipped.get(model_id=FAST).price_for("1280x720")
    assert json.dumps(lite.input_schema).find("reference_images") == -1  # Lite takes no cast references


def test_a_queued_take_offers_a_plain_cancel_since_no_provider_has_it(veo, make_scene, editor, client_for):
    take = Render.objects.create(scene=make_scene(duration=4), connection=veo, provider="veo",
                                 model=FAST, recipe={"parameters": {"seconds": 4, "size": "1280x720"}},
                                 status=Status.QUEUED)

    card = client_for(editor).get(reverse("generation:render_status", args=[take.pk])).content.decode()

    assert ">Cancel</button>" in card and "It has not reached the provider: nothing is billed." in card

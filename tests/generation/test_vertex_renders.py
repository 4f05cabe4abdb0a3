"""Takes rendered with Veo on Vertex AI, through our services and tasks, against the strict local fakes of
Google's token service, Vertex AI and Cloud Storage; and the Gemini API's retired preview ids, which the
catalog no longer offers."""

import uuid
from decimal import Decimal

import av
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation import catalog
from generation.models import CatalogModel, Render, Status
from generation.providers import connections
from generation.renders import pipeline, services
from projects.characters import consent
from projects.models import CharacterKind, Role
from tests.factories import photo

FAST = "veo-3.1-fast-generate-001"  # $0.15 a second
CREATE = rf".*/models/{FAST}:predictLongRunning"


@pytest.fixture
def vertex(team, owner, vertex_connect):
    return vertex_connect(team, owner)


def render_on(connection, scene, user, capture, model_id=FAST):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def plays(path) -> bool:
    with av.open(path) as container:
        return any(True for _ in container.decode(video=0))


def test_a_vertex_take_is_rendered_from_its_inline_answer_and_plays(
        vertex, make_scene, editor, vertex_server, django_capture_on_commit_callbacks):
    take = render_on(vertex, make_scene(duration=8), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.provider_job_id.startswith(f"projects/harbour-films-1/locations/us-central1/publishers/google/"
                                           f"models/{FAST}/operations/")
    assert vertex_server.accepted == {"success": 1}  # one create for one click
    sent = vertex_server.seen("POST", CREATE)[0].json
    assert sent["parameters"] == {"durationSeconds": 8, "aspectRatio": "16:9", "resolution": "720p",
                                  "sampleCount": 1, "generateAudio": True}
    assert plays(take.video.path) and take.thumbnail
    assert take.cost == Decimal("1.20")


def test_a_vertex_take_written_to_the_teams_bucket_is_read_from_there(
        team, owner, vertex_connect, make_scene, editor, vertex_server, django_capture_on_commit_callbacks):
    vertex = vertex_connect(team, owner, label="Vertex to bucket", output_uri="gs://harbour-renders/takes")

    take = render_on(vertex, make_scene(duration=8), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    storage_uri = vertex_server.seen("POST", CREATE)[0].json["parameters"]["storageUri"]
    assert storage_uri == f"gs://harbour-renders/takes/{take.idempotency_key}/"
    (read,) = vertex_server.storage_requests
    assert read.headers["authorization"].startswith("Bearer ") and plays(take.video.path)


def test_a_model_the_team_books_without_sound_asks_vertex_for_none(
        vertex, make_scene, owner, editor, vertex_server, django_capture_on_commit_callbacks):
    catalog.catalog_entry_update(connection=vertex, model_id=FAST, user=owner, has_audio=False,
                                 price_per_second={"*": 0.10})

    take = render_on(vertex, make_scene(duration=8), editor, django_capture_on_commit_callbacks)

    assert vertex_server.seen("POST", CREATE)[0].json["parameters"]["generateAudio"] is False
    assert take.cost == Decimal("0.80")


def test_a_safety_filtered_vertex_take_fails_in_plain_words_and_keeps_its_estimate(
        vertex, make_scene, editor, vertex_server, django_capture_on_commit_callbacks):
    vertex_server.scenario = "rai-filtered"  # Vertex does not say such a video is free

    take = render_on(vertex, make_scene(duration=4), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.FAILED
    assert take.error_message.startswith("Refused by Google's safety filters") and "15236754" in take.error_message
    assert take.cost_outcome == "Cost kept: the provider bills refused jobs" and not take.cost_given_back


def test_the_cast_goes_to_vertex_as_asset_references_in_an_eight_second_take(
        vertex, team, make_scene, make_member, editor, vertex_server, django_capture_on_commit_callbacks):
    member = make_member(team, Role.EDITOR, "maya")
    maya = consent.character_create(team=team, user=member, name="Maya", kind=CharacterKind.PERSON,
                                    person=member, description="red coat", images=[photo()])
    consent.consent_grant(character=maya, user=member)

    take = render_on(vertex, make_scene(prompt="@Maya on the pier.", duration=8), editor,
                     django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    instance = vertex_server.seen("POST", CREATE)[0].json["instances"][0]
    assert [r["referenceType"] for r in instance["referenceImages"]] == ["ASSET"]
    assert "Maya: red coat" in instance["prompt"]


def test_canceling_a_running_vertex_take_stops_watching_and_keeps_its_cost(
        vertex, make_scene, editor, vertex_server, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, delay: None)
    take = render_on(vertex, make_scene(duration=4), editor, django_capture_on_commit_callbacks)
    assert take.status == Status.RUNNING

    with django_capture_on_commit_callbacks(execute=True):
        services.render_cancel(render=take, user=editor)

    take.refresh_from_db()
    assert take.status == Status.CANCELED and take.error_message == (
        f"Canceled by {editor.get_username()}. Google Vertex AI has no cancel: the job runs to its end and may be "
        "billed.")
    assert take.cost_outcome == "Cost kept: the provider does not refund a canceled job"


def test_the_vertex_models_ship_available_with_their_prices(db):
    shipped = {m.model_id: m for m in CatalogModel.objects.filter(kind="vertex", connection=None)}

    assert sorted(shipped) == ["veo-3.1-fast-generate-001", "veo-3.1-generate-001"]
    assert all(not m.is_retired and m.has_audio and "estimate" in m.notes for m in shipped.values())
    assert shipped[FAST].price_for("1280x720") < shipped["veo-3.1-generate-001"].price_for("1280x720")


# --- The Gemini API's preview ids, retired ------------------------------------------------------

@pytest.fixture
def gemini(team, owner, veo_server):
    return connections.connection_create(team=team, user=owner, kind="veo", label="Google Veo",
                                         base_url=veo_server.url, api_key=veo_server.api_key)


def test_the_gemini_preview_ids_are_retired_and_no_longer_offered(team, gemini):
    offered = {t.model.model_id for t in catalog.available_targets(team)}

    assert not any(model_id.endswith("-generate-preview") for model_id in offered)
    shipped = CatalogModel.objects.filter(kind="veo", connection=None, model_id__startswith="veo-")
    assert {(m.lifecycle, str(m.lifecycle_date)) for m in shipped} == {("retired", "2026-10-22")}


def test_booking_a_retired_preview_id_names_the_vertex_models_when_the_team_has_vertex(
        gemini, vertex, make_scene, editor, veo_server):
    scene = make_scene(duration=8)

    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=scene, user=editor, connection=gemini, model_id="veo-3.1-fast-generate-preview",
                               idempotency_key=uuid.uuid4())

    assert refused.value.messages[0] == (
        "Veo 3.1 Fast (Gemini API) was retired on 2026-10-22. Models that fit this scene: Previz animatic (free), "
        "Gemini Omni 1.1 Flash (Gemini API) $1.20, Gemini Omni 1.2 Flash (Gemini API) $1.20, "
        "Veo 3.1 Fast (Vertex AI) $1.20, Veo 3.1 (Vertex AI) $3.20.")
    assert not Render.objects.filter(scene=scene).exists() and veo_server.requests == []


def test_without_a_vertex_connection_the_refusal_offers_what_the_team_has(gemini, make_scene, editor):
    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=make_scene(duration=8), user=editor, connection=gemini,
                               model_id="veo-3.1-generate-preview", idempotency_key=uuid.uuid4())

    # The same Gemini API connection renders Gemini Omni Flash: the refusal names it.
    assert refused.value.messages[0] == ("Veo 3.1 (Gemini API) was retired on 2026-10-22. Models that fit this "
                                         "scene: Previz animatic (free), Gemini Omni 1.1 Flash (Gemini API) $1.20, "
                                         "Gemini Omni 1.2 Flash (Gemini API) $1.20.")


def test_the_render_form_offers_the_vertex_models_and_not_the_retired_ones(
        client_for, editor, gemini, vertex, make_scene):
    scene = make_scene(duration=8)

    panel = client_for(editor).get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk])).content.decode()

    assert f'value="{vertex.pk}:{FAST}"' in panel
    assert "generate-preview" not in panel

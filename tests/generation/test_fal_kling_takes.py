"""Kling 3.0 takes booked on fal through the real service and worker path: the shipped family, its frames, its
audio price and its prompt limit, as a user books them."""

import base64
import io
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from PIL import Image

from generation.models import CatalogModel, Render, Status
from generation.providers import connections
from generation.renders import pipeline, services
from projects.characters import consent
from projects.models import CharacterKind, EndOn, Role
from projects.storyboard import continuity as scene_continuity
from projects.storyboard.services import scene_cast_add, scene_set_reference
from tests.factories import photo

STANDARD = "fal-ai/kling-video/v3/standard/text-to-video"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def fal(team, owner, fal_server):
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal",
                                         base_url=fal_server.url, api_key=fal_server.api_key)


def book(connection, scene, model_id, user, capture):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def test_the_kling_family_is_shipped_with_frames_audio_and_shots(db):
    rows = {m.model_id: m for m in CatalogModel.objects.filter(kind="fal", connection=None,
                                                               model_id__startswith="fal-ai/kling-video/v3/")}
    assert set(rows) == {"fal-ai/kling-video/v3/pro/text-to-video", STANDARD}
    for model in rows.values():
        assert (model.start_frame, model.end_frame, model.has_audio, model.multi_shot) == (True, True, True, True)
    assert rows[STANDARD].price_for("1280x720") == Decimal("0.126")  # fal's price with audio on


def test_a_scene_with_an_uploaded_frame_and_an_end_image_renders_on_klings_image_endpoint(
        fal, make_scene, editor, fal_server, django_capture_on_commit_callbacks):
    scene = make_scene(duration=5)
    scene_set_reference(scene=scene, user=editor, upload=photo("start.png", (10, 200, 10), size=400))
    scene_continuity.scene_set_continuity(scene=scene, user=editor, start_from="", end_on=EndOn.IMAGE,
                                          end_image=photo("end.png", (200, 10, 10), size=400))
    scene.refresh_from_db()

    take = book(fal, scene, STANDARD, editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    (create,) = fal_server.seen("POST", "/fal-ai/kling-video/v3/standard/image-to-video")
    sent = create.json
    assert set(sent) == {"prompt", "duration", "start_image_url", "end_image_url", "generate_audio"}
    assert (sent["duration"], sent["generate_audio"]) == ("5", True)
    start, end = (Image.open(io.BytesIO(base64.b64decode(sent[k].split(",", 1)[1])))
                  for k in ("start_image_url", "end_image_url"))
    assert start.size == end.size == (1280, 720)  # fitted to the size booked: fal takes the ratio from it
    assert end.getpixel((640, 360))[:3] == (200, 10, 10)
    assert take.cost == Decimal("0.63")  # 5 s at fal's $0.126 with audio


def test_a_take_booked_silent_is_sent_without_audio_at_the_price_the_owner_set(
        fal, make_scene, editor, fal_server, django_capture_on_commit_callbacks):
    CatalogModel.objects.filter(kind="fal", model_id=STANDARD).update(has_audio=False,
                                                                      price_per_second={"*": 0.084})
    take = book(fal, make_scene(duration=5), STANDARD, editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert fal_server.seen("POST", "/" + STANDARD)[0].json["generate_audio"] is False
    assert take.cost == Decimal("0.42")


def test_a_prompt_longer_than_kling_takes_is_refused_at_booking_in_the_page(
        fal, make_scene, editor, fal_server, client_for):
    scene = make_scene(duration=5, prompt="A gull circles the harbour. " * 90)

    response = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]), {
        "target": f"{fal.pk}:{STANDARD}", "idempotency_key": str(uuid.uuid4())}, **HX)

    assert response.status_code == 200
    assert "Kling 3.0 on fal takes a prompt of at most 2,500 characters; this one has 2,520" in (
        response.content.decode())
    assert not Render.objects.exists() and fal_server.requests == []


# --- elements: the cast, from its reference images, only with consent --------------------------------

@pytest.fixture
def anna(team, make_member):
    person = make_member(team, Role.EDITOR, "anna")
    character = consent.character_create(
        team=team, user=person, name="Anna", kind=CharacterKind.PERSON, person=person, description="green scarf",
        images=[photo("front.png", (200, 10, 10)), photo("side.png", (10, 10, 200))])
    consent.consent_grant(character=character, user=person)
    return character


@pytest.fixture
def framed_scene(make_scene, editor):
    scene = make_scene(duration=5)
    scene_set_reference(scene=scene, user=editor, upload=photo("start.png", (10, 200, 10), size=400))
    scene.refresh_from_db()
    return scene


def test_a_cast_member_goes_as_an_element_made_of_her_reference_images(
        fal, framed_scene, anna, editor, fal_server, django_capture_on_commit_callbacks):
    scene_cast_add(scene=framed_scene, character=anna, user=editor)

    take = book(fal, framed_scene, STANDARD, editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    sent = fal_server.seen("POST", "/fal-ai/kling-video/v3/standard/image-to-video")[0].json
    (element,) = sent["elements"]
    front = Image.open(io.BytesIO(base64.b64decode(element["frontal_image_url"].split(",", 1)[1])))
    (side,) = [Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))) for u in element["reference_image_urls"]]
    assert front.getpixel((1, 1))[:3] == (200, 10, 10) and side.getpixel((1, 1))[:3] == (10, 10, 200)
    assert sent["prompt"].endswith("@Element1 is Anna.")


def test_a_cast_member_whose_consent_is_revoked_before_the_send_is_never_sent(
        fal, framed_scene, anna, editor, fal_server, django_capture_on_commit_callbacks):
    scene_cast_add(scene=framed_scene, character=anna, user=editor)
    with django_capture_on_commit_callbacks(execute=False):  # booked, not yet sent
        take, _ = services.render_create(scene=framed_scene, user=editor, connection=fal, model_id=STANDARD,
                                         idempotency_key=uuid.uuid4())
    assert take.recipe["character_sets"][0]["name"] == "Anna"

    consent.consent_revoke(character=anna, user=anna.person)
    pipeline.render_submit(take.pk)

    take.refresh_from_db()
    assert take.status == Status.CANCELED and take.error_message.startswith("Consent revoked")
    assert fal_server.requests == []


def test_a_cast_member_without_consent_is_refused_at_booking(fal, framed_scene, anna, editor, fal_server):
    scene_cast_add(scene=framed_scene, character=anna, user=editor)
    consent.consent_revoke(character=anna, user=anna.person)

    problems = services.render_compile(scene=framed_scene, connection=fal, model_id=STANDARD).problems

    assert any("Anna" in p for p in problems), problems
    assert fal_server.requests == []


def test_a_cast_member_with_a_single_image_is_refused_in_the_page_naming_her(
        fal, framed_scene, team, make_member, editor, fal_server, client_for):
    person = make_member(team, Role.EDITOR, "ben")
    ben = consent.character_create(team=team, user=person, name="Ben", kind=CharacterKind.PERSON, person=person,
                                   images=[photo()])
    consent.consent_grant(character=ben, user=person)
    scene_cast_add(scene=framed_scene, character=ben, user=editor)

    response = client_for(editor).post(reverse("generation:render_create", args=[framed_scene.pk]), {
        "target": f"{fal.pk}:{STANDARD}", "idempotency_key": str(uuid.uuid4())}, **HX)

    assert response.status_code == 200
    assert ("Kling 3.0 Standard (fal) keeps Ben from a frontal image and at least 1 more view(s): add another "
            "reference image of Ben in the character library") in response.content.decode()
    assert not Render.objects.exists() and fal_server.requests == []

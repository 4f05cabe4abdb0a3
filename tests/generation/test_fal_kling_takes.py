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
from generation.renders import services
from projects.models import EndOn
from projects.storyboard import continuity as scene_continuity
from projects.storyboard.services import scene_set_reference
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

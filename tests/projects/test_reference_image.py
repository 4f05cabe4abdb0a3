"""A scene's reference image: verified on upload, fitted exactly for image-to-video, original kept."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from generation.models import Render, Status
from generation.providers import connections
from generation.renders import services

HX = {"HTTP_HX_REQUEST": "true"}


def image_file(fmt="PNG", size=(800, 800), name=None):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return SimpleUploadedFile(name or f"ref.{fmt.lower()}", buffer.getvalue())


def upload(client, scene, file, fit="crop"):
    return client.post(reverse("projects:scene_reference", args=[scene.pk]), {"image": file, "fit": fit}, **HX)


def test_an_uploaded_image_is_previewed_fitted_to_the_scene_size(client_for, editor, scene):
    client = client_for(editor)
    html = upload(client, scene, image_file(size=(800, 800))).content.decode()
    scene.refresh_from_db()
    assert scene.reference_image and scene.version == 2
    assert 'data-testid="reference-preview"' in html
    for fit in ("crop", "pad"):
        preview = client.get(reverse("projects:scene_reference_image", args=[scene.pk, fit]))
        with Image.open(io.BytesIO(preview.content)) as fitted:
            assert fitted.size == (1280, 720)
            corner = fitted.getpixel((5, 5))
        assert corner == ((0, 0, 0) if fit == "pad" else (200, 30, 30))  # pad adds bars, crop fills
    original = client.get(reverse("projects:scene_reference_image", args=[scene.pk, "original"]))
    with Image.open(io.BytesIO(b"".join(original.streaming_content))) as kept:
        assert kept.size == (800, 800)


@pytest.mark.parametrize("file, message", [
    (SimpleUploadedFile("fake.png", b"this is not an image"), "not a readable JPEG, PNG or WebP"),
    (image_file("GIF"), "GIF is not supported"),
])
def test_a_bad_upload_says_why_and_keeps_the_scene_as_it_was(client_for, editor, scene, file, message):
    html = upload(client_for(editor), scene, file).content.decode()
    assert message in html
    scene.refresh_from_db()
    assert not scene.reference_image and scene.version == 1


def test_an_oversized_upload_is_refused(client_for, editor, scene, monkeypatch):
    from generation.storage import reference

    monkeypatch.setattr(reference, "MAX_BYTES", 100)
    assert "the limit is 10 MB" in upload(client_for(editor), scene, image_file()).content.decode()


def test_removing_the_image_makes_the_scene_text_only(client_for, editor, scene):
    client = client_for(editor)
    upload(client, scene, image_file())
    client.post(reverse("projects:scene_reference", args=[scene.pk]), {"action": "remove"}, **HX)
    scene.refresh_from_db()
    assert not scene.reference_image


def test_viewers_cannot_upload(client_for, viewer, scene):
    assert upload(client_for(viewer), scene, image_file()).status_code == 403


def test_a_text_only_model_refuses_a_scene_with_an_image(client_for, editor, make_scene, priced_gateway):
    scene = make_scene(duration=4)
    upload(client_for(editor), scene, image_file())
    scene.refresh_from_db()
    with pytest.raises(Exception, match="does not take a reference image"):
        services.render_create(scene=scene, user=editor, connection=priced_gateway,
                               model_id="wan-2.7", idempotency_key=uuid.uuid4())
    assert not Render.objects.filter(scene=scene).exists()


def test_an_image_to_video_take_sends_the_image_fitted_to_the_exact_size(
        client_for, editor, owner, team, make_scene, provider_server, django_capture_on_commit_callbacks):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                            base_url=provider_server.openai_base, api_key=provider_server.api_key)
    connections.catalog_register_model(connection=gateway, model_id="veo-3.1", display_name="Veo",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.4, image_input=True)
    scene = make_scene(duration=4)
    upload(client_for(editor), scene, image_file("JPEG", size=(600, 900)), fit="pad")
    scene.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=scene, user=editor, connection=gateway, model_id="veo-3.1",
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.recipe["reference_image"] == {"original": scene.reference_image.name, "fit": "pad"}
    filename, content_type, content = provider_server.seen("POST", r"/openai/v1/videos")[0].fields["input_reference"]
    with Image.open(io.BytesIO(content)) as sent:
        assert sent.size == (1280, 720)
    assert content_type == "image/png"

"""Uploads are what they are, not what they are called: nothing a user uploads can run script in the studio."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from generation.storage.files import served_as
from projects.models import Character, CharacterImage, Role

HX = {"HTTP_HX_REQUEST": "true"}
SCRIPT = b"<script>window.__pwned = 1</script>"
PAYLOADS = {
    "html": b"<!doctype html><html><body>" + SCRIPT + b"</body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' + SCRIPT + b"</svg>",
    "js": b"window.__pwned = 1; fetch('/teams/1/members/');",
}


def png_with_script(name):
    """A real, valid PNG whose text chunk holds a script: harmless as image/png, dangerous as text/html."""
    info = PngInfo()
    info.add_text("Comment", "<html><body><script>window.__pwned = 1</script></body></html>")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, format="PNG", pnginfo=info)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="text/html")


def bomb_png(name="huge.png"):
    """A few dozen bytes claiming 30000×30000 pixels: Pillow refuses to open it (a decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 1, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    assert len(data) < 100
    return SimpleUploadedFile(name, data, content_type="image/png")


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_served_safely(response, content_type, disposition="inline"):
    assert response.status_code in (200, 206)
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith(disposition)


@pytest.fixture
def member(team, make_member):
    return make_member(team, Role.EDITOR, "maya")


def upload_reference(client, scene, file):
    return client.post(reverse("projects:scene_reference", args=[scene.pk]), {"image": file, "fit": "crop"}, **HX)


def add_character(client, team, member, **fields):
    data = {"name": "Maya", "description": "red coat", "kind": "person", "person": str(member.pk),
            "images": [png_with_script("a.png")], **fields}
    return client.post(reverse("projects:character_list", args=[team.pk]), data)


def a_short_mp4(name):
    import tempfile
    from pathlib import Path

    from generation.previz.animatic import render_animatic

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        render_animatic(out_path=path, width=160, height=90, seconds=1, title="Me", prompt="me", scene_number=1)
        return SimpleUploadedFile(name, path.read_bytes(), content_type="video/mp4")


# --- (a) a script under an image or video name is refused -------------------------------------------

@pytest.mark.parametrize("kind", PAYLOADS)
def test_a_script_named_like_an_image_is_refused_as_a_scene_reference(client_for, editor, scene, kind):
    response = upload_reference(client_for(editor), scene, SimpleUploadedFile("ref.png", PAYLOADS[kind]))
    assert "not a readable JPEG, PNG or WebP image" in response.content.decode()
    scene.refresh_from_db()
    assert not scene.reference_image and scene.version == 1


@pytest.mark.parametrize("kind", PAYLOADS)
def test_a_script_named_like_an_image_is_refused_as_a_character_image(client_for, editor, team, member, kind):
    response = add_character(client_for(editor), team, member, images=[SimpleUploadedFile("ref.png", PAYLOADS[kind])])
    assert response.status_code == 400
    assert "ref.png: That file is not a readable JPEG, PNG or WebP image." in response.content.decode()
    assert not Character.objects.exists() and not CharacterImage.objects.exists()


@pytest.mark.parametrize("kind", PAYLOADS)
def test_a_script_named_like_a_video_is_refused_as_a_reference_video(client_for, editor, team, member, kind):
    response = add_character(client_for(editor), team, member,
                             reference_video=SimpleUploadedFile("me.mp4", PAYLOADS[kind]))
    assert response.status_code == 400
    assert "The reference video is not a playable MP4 or MOV video." in response.content.decode()
    assert not Character.objects.exists()


def test_a_real_svg_image_is_refused_as_a_reference_video(client_for, editor, team, member):
    # FFmpeg opens an SVG as a stream it cannot decode: PyAV then raised AttributeError (a 500).
    svg = SimpleUploadedFile("me.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
                                       b'<rect width="64" height="64" fill="red"/></svg>')
    response = add_character(client_for(editor), team, member, reference_video=svg)
    assert response.status_code == 400
    assert "The reference video is not a playable MP4 or MOV video." in response.content.decode()


def test_a_decompression_bomb_is_refused_as_a_scene_reference(client_for, editor, scene):
    response = upload_reference(client_for(editor), scene, bomb_png())
    assert response.status_code == 200
    assert "The image has too many pixels" in response.content.decode()
    scene.refresh_from_db()
    assert not scene.reference_image


def test_a_decompression_bomb_is_refused_as_a_character_image(client_for, editor, team, member):
    response = add_character(client_for(editor), team, member, images=[bomb_png()])
    assert response.status_code == 400
    assert "huge.png: The image has too many pixels" in response.content.decode()
    assert not Character.objects.exists()


# --- (b) a real image is stored and served as what it is, whatever its name ------------------------

@pytest.mark.parametrize("name", ["ref.html", "ref.svg", "ref.js", "ref.xhtml", "ref"])
def test_a_png_named_like_a_page_is_stored_and_served_as_a_png(client_for, owner, scene, name):
    client = client_for(owner)
    upload_reference(client, scene, png_with_script(name))
    scene.refresh_from_db()
    assert scene.reference_image.name.endswith(".png")
    response = client.get(reverse("projects:scene_reference_image", args=[scene.pk, "original"]))
    assert_served_safely(response, "image/png")
    assert content(response).startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["ref.html", "ref.svg", "ref.js"])
def test_a_png_named_like_a_page_is_stored_and_served_as_a_png_character_image(
        client_for, editor, team, member, name):
    client = client_for(editor)
    add_character(client, team, member, images=[png_with_script(name)])
    image = CharacterImage.objects.get(character__name="Maya")
    assert image.image.name.endswith(".png")
    response = client.get(reverse("projects:character_image", args=[image.character_id, image.pk]))
    assert_served_safely(response, "image/png")


def test_a_jpeg_and_a_webp_keep_their_own_types(client_for, editor, scene):
    client = client_for(editor)
    for fmt, suffix, content_type in (("JPEG", ".jpg", "image/jpeg"), ("WEBP", ".webp", "image/webp")):
        buffer = io.BytesIO()
        Image.new("RGB", (16, 16)).save(buffer, format=fmt)
        upload_reference(client, scene, SimpleUploadedFile("photo.png", buffer.getvalue()))
        scene.refresh_from_db()
        assert scene.reference_image.name.endswith(suffix)
        response = client.get(reverse("projects:scene_reference_image", args=[scene.pk, "original"]))
        assert_served_safely(response, content_type)


def test_a_reference_video_named_like_a_page_is_stored_as_mp4(client_for, editor, team, member):
    add_character(client_for(editor), team, member, reference_video=a_short_mp4("me.html"))
    character = Character.objects.get(name="Maya")
    assert character.reference_video.name.endswith(".mp4")
    with character.reference_video.open("rb") as f:
        assert f.read(12)[4:8] == b"ftyp"


def test_a_quicktime_reference_video_is_stored_as_mov(client_for, editor, team, member):
    upload = a_short_mp4("me.mp4")
    data = bytearray(upload.read())
    assert data[4:8] == b"ftyp"
    data[8:12] = b"qt  "  # the QuickTime brand: the same boxes, a .mov
    add_character(client_for(editor), team, member, reference_video=SimpleUploadedFile("me.mp4", bytes(data)))
    assert Character.objects.get(name="Maya").reference_video.name.endswith(".mov")


# --- (c) every file endpoint sends the safe headers -------------------------------------------------

def test_take_files_are_served_with_safe_headers_also_for_ranges(client_for, viewer, scene, finished_take):
    take = finished_take(scene)
    client = client_for(viewer)
    video_url = reverse("generation:render_file", args=[take.pk, "video"])
    assert_served_safely(client.get(video_url), "video/mp4")
    assert_served_safely(client.get(video_url, HTTP_RANGE="bytes=0-99"), "video/mp4")
    assert_served_safely(client.get(reverse("generation:render_file", args=[take.pk, "thumbnail"])), "image/jpeg")


def test_guest_files_are_served_with_safe_headers(client, project, owner, scene, finished_take):
    from projects.review import guest_links

    take = finished_take(scene)
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    client.post(reverse("projects:guest_review", args=[token]), {"action": "name", "name": "Grace"})
    assert_served_safely(client.get(reverse("projects:guest_file", args=[token, take.pk, "video"])), "video/mp4")
    assert_served_safely(client.get(reverse("projects:guest_file", args=[token, take.pk, "thumbnail"])),
                         "image/jpeg")


def test_export_files_are_downloads_with_safe_headers(
        client_for, owner, reviewer, project, make_scene, render_take, django_capture_on_commit_callbacks):
    import uuid

    from generation.exports.services import export_create
    from projects.review.services import take_approve

    scene = make_scene(title="Dawn", duration=1)
    take_approve(take=render_take(scene), user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        export, _ = export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    client = client_for(owner)
    for kind, content_type in (("mp4", "video/mp4"), ("zip", "application/zip"), ("pdf", "application/pdf")):
        response = client.get(reverse("generation:export_file", args=[export.pk, kind]))
        assert_served_safely(response, content_type, disposition="attachment")


def test_a_fitted_reference_preview_is_served_with_safe_headers(client_for, editor, scene):
    client = client_for(editor)
    upload_reference(client, scene, png_with_script("ref.html"))
    assert_served_safely(client.get(reverse("projects:scene_reference_image", args=[scene.pk, "crop"])), "image/png")


@pytest.mark.parametrize("name", ["x.html", "x.svg", "x.js", "x.bin", "x", "x.PNG.html", "x.gif"])
def test_any_other_stored_file_would_be_an_opaque_download(name):
    assert served_as(f"references/1/2/3/{name}") == ("application/octet-stream", f'attachment; filename="{name}"')

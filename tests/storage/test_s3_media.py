"""Media in an S3-compatible bucket: takes, exports and uploads are stored there, and members
reach them through short-lived presigned URLs handed out after the studio's own access check."""

import io
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from generation.models import ExportStatus, Status
from generation.provenance import ingredients
from projects.models import Character
from projects.review.services import take_approve

pytestmark = pytest.mark.s3


def keys(bucket):
    return {obj.key for obj in bucket.objects.all()}


def stored_bytes(bucket, key):
    return bucket.Object(key).get()["Body"].read()


def png(size=(64, 48), color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_previz_take_lands_in_the_bucket_and_not_on_local_disk(s3_media, bucket, settings, scene, render_take):
    take = render_take(scene)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert {take.video.name, take.thumbnail.name} <= keys(bucket)
    assert stored_bytes(bucket, take.video.name)[4:8] == b"ftyp"  # an MP4
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_a_member_is_redirected_to_a_presigned_url_and_can_seek_the_video(
        s3_media, bucket, s3_endpoint, client_for, viewer, scene, render_take):
    take = render_take(scene)

    response = client_for(viewer).get(reverse("generation:render_file", args=[take.pk, "video"]))

    assert response.status_code == 302
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(s3_endpoint)
    assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
    assert query["response-content-type"] == ["video/mp4"]
    ranged = httpx.get(location, headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206
    assert ranged.content == stored_bytes(bucket, take.video.name)[100:200]
    assert ranged.headers["content-type"] == "video/mp4"
    assert ranged.headers["content-disposition"].startswith("inline;")  # plays in the page, never a download


def test_the_thumbnail_is_served_as_a_jpeg_from_the_bucket(s3_media, client_for, viewer, scene, render_take):
    take = render_take(scene)

    response = client_for(viewer).get(reverse("generation:render_file", args=[take.pk, "thumbnail"]))
    image = httpx.get(response["Location"])

    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).format == "JPEG"


def test_an_outsider_gets_404_and_no_presigned_url(s3_media, client_for, outsider, scene, render_take):
    take = render_take(scene)

    for variant in ("video", "thumbnail"):
        response = client_for(outsider).get(reverse("generation:render_file", args=[take.pk, variant]))
        assert response.status_code == 404
        assert "Location" not in response


def test_an_export_is_built_from_the_bucket_and_downloads_as_an_attachment(
        s3_media, bucket, client_for, project, owner, editor, reviewer, make_scene, render_take,
        django_capture_on_commit_callbacks):
    from generation.exports.services import export_create

    scene = make_scene(title="Dawn", duration=1)
    take_approve(take=render_take(scene), user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        export, _ = export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    assert {export.mp4.name, export.zip.name, export.pdf.name} <= keys(bucket)

    response = client_for(editor).get(reverse("generation:export_file", args=[export.pk, "zip"]))

    assert response.status_code == 302
    download = httpx.get(response["Location"])
    assert download.status_code == 200
    assert download.content == stored_bytes(bucket, export.zip.name)
    assert download.content[:2] == b"PK"
    name = export.zip.name.rsplit("/", 1)[-1]
    assert download.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert download.headers["content-type"] == "application/zip"


def test_an_approved_takes_ingredient_is_prepared_from_the_bucket(s3_media, bucket, scene, render_take, reviewer):
    take = render_take(scene)

    ingredients.prepare(take.pk)

    take.refresh_from_db()
    assert take.c2pa_ingredient and take.c2pa_ingredient.name in keys(bucket)
    assert len(stored_bytes(bucket, take.c2pa_ingredient.name)) > 100


def test_a_scene_reference_image_round_trips_through_the_bucket(s3_media, bucket, client_for, editor, scene):
    original = png(size=(800, 800))
    client = client_for(editor)
    client.post(reverse("projects:scene_reference", args=[scene.pk]),
                {"image": SimpleUploadedFile("ref.png", original), "fit": "crop"}, HTTP_HX_REQUEST="true")
    scene.refresh_from_db()

    assert scene.reference_image.name in keys(bucket)
    served = client.get(reverse("projects:scene_reference_image", args=[scene.pk, "original"]))
    assert served.status_code == 302  # to the bucket, presigned, typed by what the file is
    from_bucket = httpx.get(served["Location"])
    assert from_bucket.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(from_bucket.content)).size == (800, 800)
    fitted = client.get(reverse("projects:scene_reference_image", args=[scene.pk, "crop"]))
    assert Image.open(io.BytesIO(fitted.content)).size == (1280, 720)


def test_a_character_image_round_trips_through_the_bucket(s3_media, bucket, client_for, editor, team,
                                                          make_member, outsider):
    member = make_member(team, username="maya")
    client = client_for(editor)
    client.post(reverse("projects:character_list", args=[team.pk]), {
        "name": "Maya", "description": "red coat", "kind": "person", "person": str(member.pk),
        "images": [SimpleUploadedFile("a.png", png(color=(10, 120, 200)), content_type="image/png")]})
    image = Character.objects.get(name="Maya").images.get()

    assert image.image.name in keys(bucket)
    url = reverse("projects:character_image", args=[image.character_id, image.pk])
    served = client.get(url)
    assert served.status_code == 302
    from_bucket = httpx.get(served["Location"])
    assert from_bucket.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(from_bucket.content)) as picture:
        assert picture.size == (64, 48) and picture.getpixel((1, 1)) == (10, 120, 200)
    assert client_for(outsider).get(url).status_code == 404


def test_a_bucket_that_refuses_the_result_fails_the_take_in_words_after_retries(
        s3_media, settings, monkeypatch, scene, render_take):
    from botocore.exceptions import EndpointConnectionError
    from storages.backends.s3 import S3Storage

    save = S3Storage._save

    def unreachable_for_takes(storage, name, content):
        if name.startswith("previz/"):  # the provider's side still works
            return save(storage, name, content)
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    monkeypatch.setattr(S3Storage, "_save", unreachable_for_takes)

    take = render_take(scene)

    assert take.status == Status.FAILED
    assert "could not be stored" in take.error_message
    assert not take.video and not take.thumbnail
    assert not list(Path(settings.STUDIO_TMP_DIR).iterdir())  # no download left behind


def test_the_previz_provider_hands_its_result_over_through_the_bucket(s3_media, bucket, scene, render_take):
    # Any worker may finish a take, not only the one that drew it: the job's files are shared.
    take = render_take(scene)

    assert {f"previz/{take.provider_job_id}/video.mp4", f"previz/{take.provider_job_id}/thumbnail.jpg"} <= keys(bucket)
    drawn, kept = stored_bytes(bucket, f"previz/{take.provider_job_id}/video.mp4"), stored_bytes(bucket, take.video.name)
    # The take keeps the studio's signed copy: the same media (mdat) the previz worker drew.
    assert take.c2pa_summary["studio_signed"] and mdat(kept) == mdat(drawn)


def mdat(mp4: bytes) -> bytes:
    """The media data box of an MP4 (signing adds a manifest box and moves offsets, not samples)."""
    import struct

    offset = 0
    while offset < len(mp4):
        size, kind = struct.unpack(">I4s", mp4[offset:offset + 8])
        if kind == b"mdat":
            return mp4[offset + 8:offset + size]
        offset += size
    raise AssertionError("no mdat box")


def test_a_guest_is_redirected_only_for_takes_the_link_shares(s3_media, bucket, client, project, owner,
                                                             make_scene, render_take):
    from projects.review import guest_links

    shared_scene, other = make_scene(title="Dawn"), make_scene(title="Secret ending")
    take, hidden = render_take(shared_scene), render_take(other)
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[shared_scene], days=3)
    client.post(reverse("projects:guest_review", args=[token]), {"action": "name", "name": "Grace"})

    response = client.get(reverse("projects:guest_file", args=[token, take.pk, "video"]))
    assert response.status_code == 302
    assert httpx.get(response["Location"]).content == stored_bytes(bucket, take.video.name)
    refused = client.get(reverse("projects:guest_file", args=[token, hidden.pk, "video"]))
    assert refused.status_code == 404 and "Location" not in refused


@pytest.mark.django_db(transaction=True)
def test_healthz_checks_the_bucket(s3_media, settings, client):
    from generation.health import heartbeat_record

    heartbeat_record(hostname="studio@box")
    assert client.get("/healthz?format=json").json()["storage"] == "ok"

    settings.STORAGES = {**settings.STORAGES, "default": {**s3_media, "OPTIONS": {
        **s3_media["OPTIONS"], "bucket_name": f"missing-{uuid.uuid4().hex[:8]}"}}}
    response = client.get("/healthz?format=json")
    assert response.status_code == 503 and response.json()["storage"] != "ok"

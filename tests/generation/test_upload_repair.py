"""manage.py repair_uploads: old uploads stored under the uploader's extension are fixed or quarantined."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from generation.models import Render
from projects.models import Activity, Character, CharacterImage, ConsentEvent, Scene
from tests.projects.test_upload_safety import PAYLOADS, a_short_mp4, png_with_script


def stored(name, data) -> str:
    return default_storage.save(name, ContentFile(data))


def png_bytes():
    return png_with_script("x.png").read()


def repair() -> str:
    out = io.StringIO()
    call_command("repair_uploads", stdout=out)
    return out.getvalue()


@pytest.fixture
def character(team, owner):
    character = Character.objects.create(team=team, name="Robo", kind="fictional", created_by=owner)
    return character


def test_a_stored_html_name_that_is_a_png_is_renamed_and_served_as_png(client_for, owner, scene, finished_take):
    old = stored(f"references/{scene.project.team_id}/{scene.project_id}/{scene.pk}/ref.html", png_bytes())
    Scene.objects.filter(pk=scene.pk).update(reference_image=old)
    take = finished_take(scene)
    Render.objects.filter(pk=take.pk).update(recipe={**take.recipe, "reference_image": {"original": old, "fit": "crop"}})

    assert "1 stored upload(s) repaired." in repair()

    scene.refresh_from_db()
    take.refresh_from_db()
    new = scene.reference_image.name
    assert new.endswith(".png") and default_storage.exists(new) and not default_storage.exists(old)
    assert take.recipe["reference_image"]["original"] == new  # a retry or remix still finds it
    response = client_for(owner).get(reverse("projects:scene_reference_image", args=[scene.pk, "original"]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_stored_reference_that_is_html_is_quarantined_and_the_team_is_told(client_for, owner, scene):
    old = stored(f"references/{scene.project.team_id}/{scene.project_id}/{scene.pk}/ref.html", PAYLOADS["html"])
    Scene.objects.filter(pk=scene.pk).update(reference_image=old)

    assert "is not an image; quarantined" in repair()

    scene.refresh_from_db()
    assert not scene.reference_image
    assert not default_storage.exists(old) and default_storage.exists(f"quarantine/{old}")
    client = client_for(owner)
    assert client.get(reverse("projects:scene_reference_image", args=[scene.pk, "original"])).status_code == 404
    note = Activity.objects.exclude(kind="scene_created").get(scene=scene)
    assert "not a JPEG, PNG or WebP image" in note.text
    activity = client.get(reverse("projects:project_activity", args=[scene.project_id])).content.decode()
    assert "Upload the image again" in activity


def test_a_character_image_that_is_svg_is_removed_with_a_receipt(character):
    good = CharacterImage.objects.create(character=character, image=stored("characters/1/1/a.png", png_bytes()))
    bad = CharacterImage.objects.create(character=character, image=stored("characters/1/1/b.png", PAYLOADS["svg"]))
    renamed_jpeg_buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(renamed_jpeg_buffer, format="JPEG")
    jpeg = CharacterImage.objects.create(character=character,
                                         image=stored("characters/1/1/c.svg", renamed_jpeg_buffer.getvalue()))

    repair()

    assert not CharacterImage.objects.filter(pk=bad.pk).exists()
    good.refresh_from_db()
    jpeg.refresh_from_db()
    assert good.image.name == "characters/1/1/a.png"  # already right: untouched
    assert jpeg.image.name.endswith(".jpg")
    event = ConsentEvent.objects.get(character=character)
    assert event.action == "files_deleted" and event.details["files"] == ["characters/1/1/b.png"]


def test_a_reference_video_is_renamed_or_quarantined(character, team, owner):
    video = stored("characters/1/1/me.html", a_short_mp4("x").read())
    Character.objects.filter(pk=character.pk).update(reference_video=video)
    other = Character.objects.create(team=team, name="Ghost", kind="fictional", created_by=owner,
                                     reference_video=stored("characters/1/2/me.mp4", PAYLOADS["svg"]))

    repair()

    character.refresh_from_db()
    other.refresh_from_db()
    assert character.reference_video.name.endswith(".mp4")
    assert not other.reference_video
    assert ConsentEvent.objects.get(character=other).details["receipt"].startswith("A reference video")


def test_a_second_run_changes_nothing(scene):
    old = stored(f"references/{scene.project.team_id}/{scene.project_id}/{scene.pk}/ref.js", png_bytes())
    Scene.objects.filter(pk=scene.pk).update(reference_image=old)
    repair()
    assert "0 stored upload(s) repaired." in repair()

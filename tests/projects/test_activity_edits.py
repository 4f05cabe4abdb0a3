"""The activity feed says which fields of a scene were edited: the scene's own fields, its cast
and its reference image."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from projects.characters import consent
from projects.models import Activity, CharacterKind
from projects.storyboard import services

HX = {"HTTP_HX_REQUEST": "true"}


def edits(client, project) -> list[str]:
    """The "edits" filter of the project's activity page, newest first, as a member reads it."""
    response = client.get(reverse("projects:project_activity", args=[project.pk]), {"kind": "edits"})
    assert response.status_code == 200
    return [a.text for a in response.context["entries"]]


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (20, 80, 160)).save(buffer, format="PNG")
    return SimpleUploadedFile("anything.png", buffer.getvalue())


def test_an_edit_names_every_field_it_changed_and_only_those(client_for, viewer, scene, editor):
    services.scene_update(scene=scene, expected_version=scene.version, user=editor, title="Dawn, wide",
                          duration=3, camera_notes=scene.camera_notes)

    page = client_for(viewer).get(reverse("projects:project_activity", args=[scene.project_id]),
                                  {"kind": "edits"}).content.decode()
    assert "edited Dawn, wide: title, duration" in page
    entry = Activity.objects.get(kind="scene_edited")
    assert entry.actor == editor and entry.scene == scene and "camera notes" not in entry.text


def test_saving_without_a_change_adds_nothing(client_for, viewer, scene, editor):
    services.scene_update(scene=scene, expected_version=scene.version, user=editor, title=scene.title)
    assert not Activity.objects.filter(kind="scene_edited").exists()


@pytest.fixture
def pip(team, owner):
    return consent.character_create(team=team, user=owner, name="Pip", kind=CharacterKind.FICTIONAL,
                                    declares_fictional=True, images=[png()])


def test_casting_from_the_list_says_the_cast_changed(client_for, editor, viewer, make_scene, pip):
    scene = make_scene(title="Pier", prompt="A quiet pier.")
    client = client_for(editor)
    client.post(f"/scenes/{scene.pk}/cast/", {"character": pip.pk, "action": "add"}, **HX)
    client.post(f"/scenes/{scene.pk}/cast/", {"character": pip.pk, "action": "remove"}, **HX)

    assert edits(client_for(viewer), scene.project)[:2] == ["edited Pier: prompt, cast", "edited Pier: prompt, cast"]


def test_a_prompt_edit_that_keeps_the_cast_does_not_claim_a_cast_change(editor, make_scene, pip):
    scene = make_scene(title="Pier", prompt="A quiet pier. @Pip waves.")
    services.scene_update(scene=scene, expected_version=scene.version, user=editor, prompt="@Pip waves at dusk.")
    assert Activity.objects.get(kind="scene_edited").text == "edited Pier: prompt"


def test_the_reference_image_and_its_fit_are_edits_too(client_for, editor, viewer, scene):
    client = client_for(editor)
    url = reverse("projects:scene_reference", args=[scene.pk])
    assert client.post(url, {"image": png(), "fit": "crop"}, **HX).status_code == 200
    client.post(url, {"fit": "crop"}, **HX)  # the same fit again: nothing changed
    client.post(url, {"fit": "pad"}, **HX)
    client.post(url, {"action": "remove"}, **HX)

    assert edits(client_for(viewer), scene.project)[:3] == [
        "edited Dawn: reference image", "edited Dawn: reference image fit", "edited Dawn: reference image"]
    assert Activity.objects.filter(kind="scene_edited").count() == 3

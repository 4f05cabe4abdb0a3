"""Continuity between shots: a take starts from a frame of the scene before and ends
on a frame of the scene after, through the real booking, worker and signing of the studio."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import uuid

import av
import c2pa
import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from generation.models import Render, Status
from generation.provenance.credentials import TAKE_LABEL, studio_ca_from_settings
from generation.renders import continuity, pipeline
from generation.renders import services as renders
from generation.storage import frames
from projects.characters import consent
from projects.models import CharacterKind, EndOn, Role, StartFrom
from projects.review import services as review
from projects.selectors import board_frame
from projects.storyboard import continuity as scene_continuity
from projects.storyboard.services import scene_cast_add, scene_set_reference
from tests.factories import photo
from tests.generation.test_previz_scene import BLUE, RED, halves, mean


def local(scene):
    return scene.project.team.connections.get(kind="local")


def starts_from_previous(scene, user):
    return scene_continuity.scene_set_continuity(scene=scene, user=user, start_from=StartFrom.PREVIOUS, end_on="")


def compile_for(scene, connection=None, model_id="previz-animatic-1"):
    scene.refresh_from_db()
    return renders.render_compile(scene=scene, connection=connection or local(scene), model_id=model_id)


@pytest.fixture
def two_scenes(make_scene):
    return make_scene(title="Dawn"), make_scene(title="Quay")


@pytest.fixture
def veo(team, owner, vertex_connect):
    return vertex_connect(team, owner)


# --- Where the start frame comes from ----------------------------------------------------------

def test_a_scene_starts_from_the_last_frame_of_the_previous_scenes_approved_take(
        two_scenes, finished_take, owner, editor):
    dawn, quay = two_scenes
    approved, newer = finished_take(dawn), finished_take(dawn)
    review.take_approve(take=approved, user=owner)
    starts_from_previous(quay, editor)

    compiled = compile_for(quay)

    start = compiled.recipe["start_frame"]
    assert compiled.problems == []
    assert (start["take"]["id"], start["scene"]["number"], start["last"]) == (approved.pk, 1, True)
    with approved.video.open("rb") as video:
        last = frames.extract(video)
    assert start["frame"] == last.index > 0
    with default_storage.open(start["original"], "rb") as kept:
        assert kept.read() == last.png  # the exact last decoded frame, kept once
    assert "reference_image" not in compiled.recipe and newer.pk != approved.pk


def test_without_an_approved_take_it_follows_the_newest_finished_one(two_scenes, finished_take, editor):
    dawn, quay = two_scenes
    finished_take(dawn)
    newest = finished_take(dawn)
    starts_from_previous(quay, editor)

    assert compile_for(quay).recipe["start_frame"]["take"]["id"] == newest.pk


def test_a_frame_chosen_in_the_player_wins_over_the_approved_take(two_scenes, finished_take, owner, editor):
    dawn, quay = two_scenes
    chosen, approved = finished_take(dawn), finished_take(dawn)
    review.take_approve(take=approved, user=owner)

    following = scene_continuity.scene_start_from_frame(take=chosen, frame=12, user=editor)

    start = compile_for(quay).recipe["start_frame"]
    assert following.pk == quay.pk and following.start_from == StartFrom.PREVIOUS
    assert (start["take"]["id"], start["frame"], start["chosen"], start["last"]) == (chosen.pk, 12, True, False)


def test_it_refuses_a_start_frame_from_a_withheld_take(two_scenes, finished_take, editor):
    dawn, quay = two_scenes
    take = finished_take(dawn)
    scene_continuity.scene_start_from_frame(take=take, frame=None, user=editor)
    Render.objects.filter(pk=take.pk).update(quarantined_at=timezone.now(), quarantine_reason="Consent revoked by Anna")

    compiled = compile_for(quay)

    assert any("withheld (Consent revoked by Anna)" in p and "Choose another take in the player" in p
               for p in compiled.problems)
    with pytest.raises(ValidationError, match="withheld"):
        renders.render_create(scene=quay, user=editor, connection=local(quay), model_id="previz-animatic-1",
                              idempotency_key=uuid.uuid4())
    assert not quay.renders.exists()


def test_it_refuses_when_the_previous_scene_has_no_finished_take(two_scenes, editor):
    dawn, quay = two_scenes
    starts_from_previous(quay, editor)

    problems = compile_for(quay).problems

    assert any("Scene 1 has no finished take to start from yet" in p for p in problems)


def test_the_first_scene_has_no_scene_before_it_to_start_from(two_scenes, editor):
    dawn, _ = two_scenes
    starts_from_previous(dawn, editor)

    assert any("Scene 1 is the first scene" in p for p in compile_for(dawn).problems)


def test_the_player_cannot_start_a_scene_after_the_last_one(two_scenes, finished_take, editor):
    _, quay = two_scenes
    with pytest.raises(ValidationError, match="Scene 2 is the last scene"):
        scene_continuity.scene_start_from_frame(take=finished_take(quay), frame=None, user=editor)


def test_the_player_refuses_a_frame_past_the_end_of_the_take(two_scenes, finished_take, editor):
    dawn, quay = two_scenes
    take = finished_take(dawn)  # 2 s at 24 fps: frames 0 to 47
    with pytest.raises(ValidationError, match="has 48 frames \\(0 to 47\\): frame 48 is past its end"):
        scene_continuity.scene_start_from_frame(take=take, frame=48, user=editor)
    quay.refresh_from_db()
    assert quay.start_from == StartFrom.OWN


# --- End frames, and models that lack them -------------------------------------------------------

def test_a_model_without_end_frames_is_refused_naming_the_teams_models_that_take_one(make_scene, veo, editor):
    scene = make_scene(duration=8)
    scene_set_reference(scene=scene, user=editor, upload=photo("start.png"))
    scene_continuity.scene_set_continuity(scene=scene, user=editor, start_from="", end_on=EndOn.IMAGE,
                                          end_image=photo("end.png", color=(200, 10, 10)))

    compiled = compile_for(scene)

    (refusal,) = [p for p in compiled.problems if "end frame" in p]
    assert refusal.startswith("Previz animatic does not take an end frame, and this scene ends on one")
    assert "Models that fit this scene: Veo 3.1 Fast (Vertex AI) $1.20, Veo 3.1 (Vertex AI) $3.20." in refusal
    assert compile_for(scene, veo, "veo-3.1-fast-generate-001").problems == []


def test_an_end_frame_without_a_start_frame_is_refused(make_scene, veo, editor):
    scene = make_scene(duration=8)
    scene_continuity.scene_set_continuity(scene=scene, user=editor, start_from="", end_on=EndOn.IMAGE,
                                          end_image=photo("end.png"))

    problems = compile_for(scene, veo, "veo-3.1-fast-generate-001").problems

    assert any("An end frame goes with a start frame" in p for p in problems)


def test_ending_on_the_image_needs_the_image(make_scene, editor):
    scene = make_scene()
    with pytest.raises(ValidationError, match="Upload the image scene 1 ends on"):
        scene_continuity.scene_set_continuity(scene=scene, user=editor, start_from="", end_on=EndOn.IMAGE)


def test_it_ends_on_the_first_frame_of_the_next_scenes_take(two_scenes, finished_take, veo, editor):
    dawn, quay = two_scenes
    next_take = finished_take(quay)
    scene_set_reference(scene=dawn, user=editor, upload=photo("start.png"))
    scene_continuity.scene_set_continuity(scene=dawn, user=editor, start_from="", end_on=EndOn.NEXT)

    compiled = compile_for(dawn, veo, "veo-3.1-fast-generate-001")

    end = compiled.recipe["end_frame"]
    assert (end["take"]["id"], end["frame"], end["scene"]["number"]) == (next_take.pk, 0, 2)
    assert [p for p in compiled.problems if "frame" in p.lower()] == []


# --- The take: what it sends, records and signs ------------------------------------------------

def test_a_veo_take_sends_the_fitted_start_and_end_frames(
        two_scenes, finished_take, veo, vertex_server, editor, django_capture_on_commit_callbacks):
    dawn, quay = two_scenes
    finished_take(dawn)
    quay.duration = 8
    quay.save()
    scene_continuity.scene_set_continuity(scene=quay, user=editor, start_from=StartFrom.PREVIOUS,
                                          end_on=EndOn.IMAGE, end_image=photo("end.png", (200, 10, 10), size=300))

    with django_capture_on_commit_callbacks(execute=True):
        take, _ = renders.render_create(scene=quay, user=editor, connection=veo,
                                        model_id="veo-3.1-fast-generate-001", idempotency_key=uuid.uuid4())
    take.refresh_from_db()

    assert take.status == Status.SUCCEEDED, take.error_message
    instance = vertex_server.seen("POST", r".*:predictLongRunning")[0].json["instances"][0]
    assert set(instance) == {"prompt", "image", "lastFrame"}
    start = Image.open(io.BytesIO(base64.b64decode(instance["image"]["bytesBase64Encoded"])))
    end = Image.open(io.BytesIO(base64.b64decode(instance["lastFrame"]["bytesBase64Encoded"])))
    assert start.size == end.size == (1280, 720)  # fitted to the size booked
    assert end.getpixel((640, 360))[:3] == (200, 10, 10)
    assert take.recipe["start_frame"]["take"]["number"] == 1 and take.recipe["end_frame"]["source"] == "image"


def read_store(take) -> dict:
    ca = studio_ca_from_settings()
    assert ca is not None, "the tests run with a studio CA"
    anchors = ca.decode()
    with take.video.open("rb") as fh, c2pa.Context.from_dict({"trust": {"user_anchors": anchors}}) as context:
        with c2pa.Reader.try_create("video/mp4", fh, None, context) as reader:
            return json.loads(reader.json())


def test_the_take_signs_its_start_frame_as_an_ingredient_of_its_manifest(two_scenes, finished_take, editor):
    dawn, quay = two_scenes
    source = finished_take(dawn)
    starts_from_previous(quay, editor)

    take = finished_take(quay)

    store = read_store(take)
    manifest = store["manifests"][store["active_manifest"]]
    frame = take.recipe["start_frame"]["frame"]
    (ingredient,) = [i for i in manifest["ingredients"] if i.get("relationship") == "inputTo"]
    assert ingredient["title"] == f"Start frame: frame {frame} (the last) of scene 1, take 1"
    said = next(a["data"] for a in manifest["assertions"] if a["label"] == TAKE_LABEL)["continuity"]
    sent = continuity.fitted(take.recipe["start_frame"]["original"], size="1280x720", fit="crop")
    assert said == [{"role": "start", "source": "take", "original_sha256": take.recipe["start_frame"]["sha256"],
                     "scene": 1, "take": source.pk, "take_number": 1, "frame": frame, "attached": True,
                     "sha256": hashlib.sha256(sent).hexdigest()}]


def test_a_take_without_continuity_has_no_frame_ingredient(make_scene, finished_take):
    take = finished_take(make_scene())
    store = read_store(take)
    manifest = store["manifests"][store["active_manifest"]]
    assert [i for i in manifest.get("ingredients", []) if i.get("relationship") == "inputTo"] == []
    assert "continuity" not in next(a["data"] for a in manifest["assertions"] if a["label"] == TAKE_LABEL)


# --- Consent travels with the frame -------------------------------------------------------------

@pytest.fixture
def anna(team, make_member):
    person = make_member(team, Role.EDITOR, "anna")
    character = consent.character_create(team=team, user=person, name="Anna", kind=CharacterKind.PERSON,
                                         person=person, description="green scarf", images=[photo()])
    consent.consent_grant(character=character, user=person)
    return character


def test_a_take_started_from_a_frame_showing_a_person_carries_her_consent(
        two_scenes, finished_take, anna, editor, django_capture_on_commit_callbacks):
    dawn, quay = two_scenes
    scene_cast_add(scene=dawn, character=anna, user=editor)
    shows_anna = finished_take(dawn)
    starts_from_previous(quay, editor)

    compiled = compile_for(quay)
    with django_capture_on_commit_callbacks(execute=False):  # booked, not yet sent
        queued, _ = renders.render_create(scene=quay, user=editor, connection=local(quay),
                                          model_id="previz-animatic-1", idempotency_key=uuid.uuid4())

    assert [c.name for c in compiled.carried] == ["Anna"] and list(quay.cast.all()) == []
    assert list(queued.characters.all()) == [anna]
    consent.consent_revoke(character=anna, user=anna.person)
    for take in (shows_anna, queued):
        take.refresh_from_db()
        assert take.quarantined_at is not None  # revoking withholds both
    pipeline.render_submit(queued.pk)
    queued.refresh_from_db()
    assert queued.status == Status.CANCELED and queued.error_message.startswith("Consent revoked")


def test_a_frame_showing_someone_whose_consent_does_not_cover_the_provider_is_refused(
        two_scenes, finished_take, anna, editor, veo):
    dawn, quay = two_scenes
    scene_cast_add(scene=dawn, character=anna, user=editor)
    finished_take(dawn)
    anna.grants.update(providers=["local"])  # the previz only
    quay.duration = 8
    quay.save()
    starts_from_previous(quay, editor)

    problems = compile_for(quay, veo, "veo-3.1-fast-generate-001").problems

    assert "The start frame (scene 1, take 1) shows Anna: Anna has not consented to renders with this provider " \
           "(vertex)." in problems



def test_a_french_editor_reads_in_french_why_a_frame_showing_someone_cannot_go_to_a_provider(
        two_scenes, finished_take, anna, editor, veo, client_for):
    dawn, quay = two_scenes
    scene_cast_add(scene=dawn, character=anna, user=editor)
    finished_take(dawn)
    anna.grants.update(providers=["local"])
    quay.duration = 8
    quay.save()
    starts_from_previous(quay, editor)

    page = client_for(editor).post(reverse("generation:render_create", args=[quay.pk]),
                                   {"target": f"{veo.pk}:veo-3.1-fast-generate-001",
                                    "idempotency_key": str(uuid.uuid4())},
                                   HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    translation.deactivate()  # the French request left French active in this thread

    assert ("L’image de départ (scène 1, prise 1) montre Anna\u00a0: Anna n’a pas consenti aux générations avec ce "
            "fournisseur (vertex)." in html.unescape(page.content.decode()))
    assert not Render.objects.filter(scene=quay).exists()

# --- When the frame a scene depends on changes ------------------------------------------------

def test_approving_another_take_of_the_scene_before_flags_the_scene_and_renders_nothing(
        two_scenes, finished_take, owner, editor):
    dawn, quay = two_scenes
    first, second = finished_take(dawn), finished_take(dawn)
    review.take_approve(take=first, user=owner)
    starts_from_previous(quay, editor)
    finished_take(quay)
    assert board_frame(project=quay.project, scene_id=quay.pk).start_changed is False

    review.take_approve(take=second, user=owner)

    assert board_frame(project=quay.project, scene_id=quay.pk).start_changed is True
    assert quay.renders.count() == 1  # nothing re-renders by itself
    finished_take(quay)  # re-rendered from the new frame
    assert board_frame(project=quay.project, scene_id=quay.pk).start_changed is False


def test_a_new_take_of_the_scene_before_flags_a_scene_following_its_newest_take(
        two_scenes, finished_take, editor):
    dawn, quay = two_scenes
    finished_take(dawn)
    starts_from_previous(quay, editor)
    finished_take(quay)

    finished_take(dawn)  # re-rendered, nobody approved either

    assert board_frame(project=quay.project, scene_id=quay.pk).start_changed is True


def test_the_next_scene_rendered_again_flags_a_scene_ending_on_it(
        two_scenes, finished_take, veo, vertex_server, editor, django_capture_on_commit_callbacks):
    dawn, quay = two_scenes
    finished_take(quay)
    dawn.duration = 8
    dawn.save()
    scene_set_reference(scene=dawn, user=editor, upload=photo("start.png"))
    scene_continuity.scene_set_continuity(scene=dawn, user=editor, start_from="", end_on=EndOn.NEXT)
    with django_capture_on_commit_callbacks(execute=True):
        renders.render_create(scene=dawn, user=editor, connection=veo, model_id="veo-3.1-fast-generate-001",
                              idempotency_key=uuid.uuid4())
    assert board_frame(project=dawn.project, scene_id=dawn.pk).end_changed is False

    finished_take(quay)

    frame = board_frame(project=dawn.project, scene_id=dawn.pk)
    assert (frame.end_changed, frame.start_changed) == (True, False)


def test_the_previz_draws_from_the_start_frame(two_scenes, render_take, editor):
    dawn, quay = two_scenes
    buffer = io.BytesIO()
    halves().save(buffer, format="PNG")
    scene_set_reference(scene=dawn, user=editor, upload=SimpleUploadedFile("halves.png", buffer.getvalue()))
    render_take(dawn)
    starts_from_previous(quay, editor)

    take = render_take(quay)

    with take.video.open("rb") as fh, av.open(fh) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    # Scene 1's last frame (the red and blue halves under its caption) is what scene 2's animatic pans over.
    assert np.abs(mean(first, 0.05, 0.3, 0.62, 0.78) - RED).max() < 40
    assert np.abs(mean(first, 0.7, 0.95, 0.62, 0.78) - BLUE).max() < 40


def test_deleting_a_revoked_persons_files_deletes_the_frames_taken_from_her_takes(
        two_scenes, finished_take, anna, editor):
    dawn, quay = two_scenes
    scene_cast_add(scene=dawn, character=anna, user=editor)
    finished_take(dawn)
    starts_from_previous(quay, editor)
    kept = compile_for(quay).recipe["start_frame"]["original"]
    assert default_storage.exists(kept)

    consent.consent_revoke(character=anna, user=anna.person, delete_files=True)

    assert not default_storage.exists(kept)
    assert any("Scene 1 has no finished take to start from" in p for p in compile_for(quay).problems)

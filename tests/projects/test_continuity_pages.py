"""Continuity on the pages: the panel's start and end frames, the form that chooses them,
"Use this frame as the start of scene N+1" in the player, "What will be sent", the flag when a frame moved,
and the live channel that brings that flag to a teammate's board."""

from __future__ import annotations

import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from generation.models import Render
from generation.providers import connections
from projects.characters import consent
from projects.live.fragments import render_change
from projects.models import ChangeEvent, ChangeKind, CharacterKind, EndOn, Role, StartFrom
from projects.review import services as review
from projects.storyboard import continuity
from projects.storyboard.services import scene_cast_add, scene_set_reference
from tests.factories import photo

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def two_scenes(make_scene):
    return make_scene(title="Dawn"), make_scene(title="Quay")


def panel(client, scene) -> str:
    return client.get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk]), **HX).content.decode()


def set_continuity(client, scene, **data):
    return client.post(reverse("projects:scene_continuity", args=[scene.pk]),
                       {"start_from": "", "end_on": "", **data}, **HX)


def test_the_panel_shows_the_frame_a_scene_starts_from(client_for, editor, two_scenes, finished_take):
    dawn, quay = two_scenes
    finished_take(dawn)
    client = client_for(editor)

    html = set_continuity(client, quay, start_from="previous").content.decode()

    quay.refresh_from_db()
    assert quay.start_from == StartFrom.PREVIOUS and quay.version == 2
    assert 'data-testid="start-frame-image"' in html
    assert "The last frame of scene 1, take 1" in html
    frame = client.get(reverse("generation:scene_frame", args=[quay.pk, "start"]))
    assert frame["Content-Type"] == "image/png" and frame["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(frame.content)) as fitted:
        assert fitted.size == (1280, 720)  # as it will be sent


def test_the_panel_says_why_a_scene_cannot_start_from_the_scene_before(client_for, editor, two_scenes):
    _, quay = two_scenes
    html = set_continuity(client_for(editor), quay, start_from="previous").content.decode()

    assert 'data-testid="start-frame-problem"' in html
    assert "Scene 1 has no finished take to start from yet" in html


def test_the_continuity_form_refuses_bad_input_with_a_message(client_for, editor, two_scenes):
    dawn, _ = two_scenes
    client = client_for(editor)

    odd = set_continuity(client, dawn, start_from="sideways")
    no_image = set_continuity(client, dawn, end_on="image")
    not_image = set_continuity(client, dawn, end_on="image",
                               end_image=SimpleUploadedFile("end.png", b"<svg onload=alert(1)>"))

    assert odd.status_code == no_image.status_code == not_image.status_code == 200
    assert "Choose what the scene starts from." in odd.content.decode()
    assert "Upload the image scene 1 ends on." in no_image.content.decode()
    assert "not a readable JPEG, PNG or WebP image" in not_image.content.decode()
    dawn.refresh_from_db()
    assert (dawn.start_from, dawn.end_on, dawn.end_image.name, dawn.version) == ("", "", "", 1)


def test_an_end_image_is_kept_and_shown_fitted(client_for, editor, two_scenes):
    dawn, _ = two_scenes
    client = client_for(editor)

    html = set_continuity(client, dawn, end_on="image", end_image=photo("end.jpg", (200, 10, 10))).content.decode()

    dawn.refresh_from_db()
    assert dawn.end_on == EndOn.IMAGE and dawn.end_image.name.endswith(".png")  # named from what Pillow found
    assert 'data-testid="end-frame-image"' in html
    with Image.open(io.BytesIO(client.get(reverse("generation:scene_frame", args=[dawn.pk, "end"])).content)) as end:
        assert end.size == (1280, 720) and end.getpixel((640, 360)) == (200, 10, 10)


def test_a_viewer_cannot_change_continuity_and_sees_no_form(client_for, viewer, two_scenes):
    _, quay = two_scenes
    client = client_for(viewer)

    assert set_continuity(client, quay, start_from="previous").status_code == 403
    assert 'data-testid="continuity-form"' not in panel(client, quay)
    quay.refresh_from_db()
    assert quay.start_from == ""


def test_a_frame_from_a_withheld_take_is_never_served(client_for, owner, editor, two_scenes, finished_take):
    dawn, quay = two_scenes
    take = finished_take(dawn)
    continuity.scene_start_from_frame(take=take, frame=None, user=editor)
    assert client_for(owner).get(reverse("generation:scene_frame", args=[quay.pk, "start"])).status_code == 200
    Render.objects.filter(pk=take.pk).update(quarantined_at=timezone.now(), quarantine_reason="Consent revoked")

    assert client_for(owner).get(reverse("generation:scene_frame", args=[quay.pk, "start"])).status_code == 404
    assert "is withheld (Consent revoked)" in panel(client_for(editor), quay)


def test_a_scene_without_such_a_frame_has_none_to_serve(client_for, editor, two_scenes):
    dawn, _ = two_scenes
    client = client_for(editor)
    assert client.get(reverse("generation:scene_frame", args=[dawn.pk, "start"])).status_code == 404
    assert client.get(reverse("generation:scene_frame", args=[dawn.pk, "sideways"])).status_code == 404


# --- "Use this frame as the start of scene N+1" ------------------------------------------------

def test_the_player_offers_to_start_the_next_scene_from_its_frame(client_for, editor, viewer, two_scenes,
                                                                 finished_take):
    dawn, quay = two_scenes
    take, last = finished_take(dawn), finished_take(quay)
    review_url = reverse("projects:take_review", args=[take.pk])

    assert "Use this frame as the start of scene 2" in client_for(editor).get(review_url).content.decode()
    assert "Use this frame as the start of scene 2" not in client_for(viewer).get(review_url).content.decode()
    last_url = reverse("projects:take_review", args=[last.pk])
    assert 'data-testid="start-next"' not in client_for(editor).get(last_url).content.decode()


def test_using_a_frame_starts_the_next_scene_from_it(client_for, editor, two_scenes, finished_take):
    dawn, quay = two_scenes
    take = finished_take(dawn)
    client = client_for(editor)

    response = client.post(reverse("projects:take_start_next", args=[take.pk]), {"frame": "30"})

    quay.refresh_from_db()
    assert response.status_code == 302
    assert response.url == reverse("projects:scene_panel", args=[quay.project_id, quay.pk])
    assert (quay.start_from, quay.start_take_id, quay.start_frame) == (StartFrom.PREVIOUS, take.pk, 30)
    assert "Scene 2 now starts from frame 30 of scene 1, take 1." in [str(m) for m in get_messages(response.wsgi_request)]
    html = client.get(response.url).content.decode()
    assert "Frame 30 of scene 1, take 1 (chosen in the player)" in html


def test_using_no_frame_starts_the_next_scene_from_the_takes_last_frame(client_for, editor, two_scenes,
                                                                       finished_take):
    dawn, quay = two_scenes
    take = finished_take(dawn)

    client_for(editor).post(reverse("projects:take_start_next", args=[take.pk]), {"frame": ""})

    quay.refresh_from_db()
    assert (quay.start_take_id, quay.start_frame) == (take.pk, None)


@pytest.mark.parametrize("frame, words", [("x1", "“x1” is not a frame number."),
                                          ("4800", "frame 4800 is past its end")])
def test_a_bad_frame_from_the_player_is_refused_on_the_review_page(client_for, editor, two_scenes, finished_take,
                                                                   frame, words):
    dawn, quay = two_scenes
    take = finished_take(dawn)
    client = client_for(editor)

    response = client.post(reverse("projects:take_start_next", args=[take.pk]), {"frame": frame}, follow=True)

    assert response.status_code == 200 and words in response.content.decode()
    quay.refresh_from_db()
    assert quay.start_from == ""


def test_a_viewer_cannot_use_a_frame(client_for, viewer, two_scenes, finished_take):
    dawn, quay = two_scenes
    take = finished_take(dawn)
    assert client_for(viewer).post(reverse("projects:take_start_next", args=[take.pk])).status_code == 403


# --- "What will be sent", and the render form -------------------------------------------------

def test_what_will_be_sent_shows_the_start_frame_and_whose_consent_it_carries(
        client_for, editor, team, make_member, two_scenes, finished_take):
    dawn, quay = two_scenes
    person = make_member(team, Role.EDITOR, "anna")
    anna = consent.character_create(team=team, user=person, name="Anna", kind=CharacterKind.PERSON, person=person,
                                    images=[photo()])
    consent.consent_grant(character=anna, user=person)
    scene_cast_add(scene=dawn, character=anna, user=editor)
    finished_take(dawn)
    continuity.scene_set_continuity(scene=quay, user=editor, start_from="previous", end_on="")
    local = team.connections.get(kind="local")
    client = client_for(editor)

    html = client.get(reverse("generation:render_preview", args=[quay.pk]),
                      {"target": f"{local.pk}:previz-animatic-1"}, **HX).content.decode()
    form = panel(client, quay)

    assert 'data-testid="compiled-start-frame"' in html
    assert "of scene 1, take 1, fitted to 1280x720 (crop)" in html and "its last frame" in html
    assert 'data-testid="compiled-carried"' in html and "Anna" in html
    assert 'data-testid="render-frames"' in form and "Starts from the last frame of scene 1, take 1" in form


def test_what_will_be_sent_names_the_models_that_take_an_end_frame(client_for, editor, team, owner, two_scenes,
                                                                   veo_server):
    dawn, _ = two_scenes
    connections.connection_create(team=team, user=owner, kind="veo", label="Google Veo", base_url=veo_server.url,
                                  api_key=veo_server.api_key)
    scene_set_reference(scene=dawn, user=editor, upload=photo("start.png"))
    continuity.scene_set_continuity(scene=dawn, user=editor, start_from="", end_on="image", end_image=photo("e.png"))
    local = team.connections.get(kind="local")

    html = client_for(editor).get(reverse("generation:render_preview", args=[dawn.pk]),
                                  {"target": f"{local.pk}:previz-animatic-1"}, **HX).content.decode()

    assert "Previz animatic does not take an end frame" in html
    assert "No live model of your team fits this scene" in html  # 2 s: no Veo renders it


# --- The flag, on the board, in the panel and live --------------------------------------------

@pytest.fixture
def flagged(two_scenes, finished_take, owner, editor):
    """Scene 2 rendered from scene 1's approved take 1; then take 2 of scene 1 approved."""
    dawn, quay = two_scenes
    first, second = finished_take(dawn), finished_take(dawn)
    review.take_approve(take=first, user=owner)
    continuity.scene_set_continuity(scene=quay, user=editor, start_from="previous", end_on="")
    finished_take(quay)
    review.take_approve(take=second, user=owner)
    return dawn, quay, second


def test_the_board_and_the_panel_say_the_start_frame_changed_and_offer_to_re_render(client_for, editor, flagged):
    dawn, quay, second = flagged
    client = client_for(editor)

    board = client.get(reverse("projects:project_detail", args=[quay.project_id])).content.decode()
    html = panel(client, quay)

    assert board.count('data-testid="frame-start-changed"') == 1
    assert 'data-testid="start-frame-changed"' in html
    assert "Take 1 started from frame" in html and "It would now start from the last frame of scene 1, take 2." in html
    assert 'data-testid="rerender-from-new-frame"' in html
    assert quay.renders.count() == 1


def test_re_rendering_from_the_new_frame_clears_the_flag(client_for, editor, flagged, previz_without_encode,
                                                        django_capture_on_commit_callbacks):
    dawn, quay, second = flagged
    client = client_for(editor)
    local = quay.project.team.connections.get(kind="local")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("generation:render_create", args=[quay.pk]),
                    {"target": f"{local.pk}:previz-animatic-1", "idempotency_key": "c7c4d2b6-5f0e-4a39-9b1a-2e1d3f4a5b6c"},
                    **HX)

    assert quay.renders.first().recipe["start_frame"]["take"]["id"] == second.pk
    assert 'data-testid="start-frame-changed"' not in panel(client, quay)


def test_a_teammates_board_hears_that_the_start_frame_changed(two_scenes, finished_take, owner, editor):
    dawn, quay = two_scenes
    first, second = finished_take(dawn), finished_take(dawn)
    review.take_approve(take=first, user=owner)
    continuity.scene_set_continuity(scene=quay, user=editor, start_from="previous", end_on="")
    finished_take(quay)

    review.take_approve(take=second, user=owner)

    event = ChangeEvent.objects.filter(kind=ChangeKind.TAKE_APPROVED, scene_id=dawn.pk).latest("id")
    (message,) = render_change(event, Role.EDITOR)
    assert f'id="frame-{quay.pk}"' in message.data and 'data-testid="frame-start-changed"' in message.data
    assert f'id="continuity-{quay.pk}"' in message.data and "Start frame changed" in message.data
    assert 'name="idempotency_key" value=""' in message.data  # each page puts its own key in


def test_a_change_to_a_scene_nobody_depends_on_draws_no_continuity(two_scenes, finished_take, owner):
    dawn, quay = two_scenes
    review.take_approve(take=finished_take(dawn), user=owner)

    event = ChangeEvent.objects.filter(kind=ChangeKind.TAKE_APPROVED, scene_id=dawn.pk).latest("id")
    (message,) = render_change(event, Role.EDITOR)
    assert f'id="frame-{quay.pk}"' not in message.data and "continuity-" not in message.data

"""Re-target: move a scene, or every scene that uses a model, to another model. The plan shows per scene
what changes and what it costs; Apply saves the scenes and books nothing."""

import io
import uuid
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from generation.models import Render, Status
from generation.providers import connections
from generation.renders import retarget
from projects.models import Activity, Project, Scene

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def replicate(team, owner):
    """Veo 3.1 ($0.40/s, takes an image, 4/6/8 s) and Wan 2.7 ($0.10/s, text only, 2–15 s)."""
    return connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                         base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                         webhook_secret="whsec_c2VjcmV0")


@pytest.fixture
def gateway(team, owner):
    return connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                         base_url="http://127.0.0.1:9/v1", api_key="sk-test")


def on_sora(scene, gateway):
    """A scene whose latest take was rendered on Sora 2 (retired since)."""
    Render.objects.create(scene=scene, connection=gateway, provider="openai-videos", model="sora-2",
                          recipe={"parameters": {"seconds": scene.duration, "size": scene.size}},
                          status=Status.SUCCEEDED, number=1)
    return scene


def url(project, **query):
    from urllib.parse import urlencode

    return reverse("generation:scene_retarget", args=[project.pk]) + ("?" + urlencode(query) if query else "")


def png(width=640, height=480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def veo_value(replicate):
    return f"{replicate.pk}:google/veo-3.1"


def test_the_plan_maps_size_and_length_and_prices_each_scene(client_for, editor, project, make_scene,
                                                              gateway, replicate):
    five = on_sora(make_scene(title="Pier", duration=5, size="1280x720"), gateway)
    square = on_sora(make_scene(title="Gull", duration=12, size="1024x1024"), gateway)
    html = client_for(editor).get(url(project, **{"from": f"{gateway.pk}:sora-2"},
                                      target=veo_value(replicate)), **HX).content.decode()
    assert "5 s → <strong>6 s</strong>" in html  # the tie goes to the longer length: nothing is cut
    assert "12 s → <strong>8 s</strong>" in html
    assert "1024x1024 → <strong>1280x720</strong>" in html
    # Sora 2 was $0.10/s: $0.50 and $1.20 before; Veo $0.40/s: $2.40 and $3.20 after.
    assert "$1.70" in html and "$5.60" in html and "+$3.90" in html
    five.refresh_from_db(), square.refresh_from_db()
    assert (five.duration, square.size) == (5, "1024x1024")  # a plan changes nothing


def test_apply_moves_the_scenes_and_books_nothing(client_for, editor, project, make_scene, gateway, replicate):
    Project.objects.filter(pk=project.pk).update(budget=Decimal("10.00"), render_spend=Decimal("1.50"))
    scenes = [on_sora(make_scene(title=f"S{i}", duration=5), gateway) for i in range(2)]
    client = client_for(editor)
    plan = client.get(url(project, **{"from": f"{gateway.pk}:sora-2"}, target=veo_value(replicate)), **HX)
    shown = ",".join(f"{s.pk}:{s.version}" for s in scenes)
    assert f'value="{shown}"' in plan.content.decode()
    response = client.post(url(project), {"from": f"{gateway.pk}:sora-2", "target": veo_value(replicate),
                                          "shown": shown}, follow=True)
    assert "Moved 2 scenes to Veo 3.1 (Replicate). Nothing was booked." in response.content.decode()
    for scene in scenes:
        scene.refresh_from_db()
        assert (scene.target_connection_id, scene.target_model, scene.duration) == (
            replicate.pk, "google/veo-3.1", 6)
        assert scene.renders.count() == 1  # only the old Sora take
    project.refresh_from_db()
    assert project.render_spend == Decimal("1.50")  # the budget is untouched: nothing was committed
    entries = list(Activity.objects.filter(kind="scene_retargeted").values_list("text", flat=True))
    assert sorted(entries) == ["moved S0 from Sora 2 to Veo 3.1 (Replicate) (5 s → 6 s)",
                               "moved S1 from Sora 2 to Veo 3.1 (Replicate) (5 s → 6 s)"]


def test_moving_an_approved_scene_to_another_length_makes_its_approval_stale(
        client_for, editor, reviewer, project, make_scene, replicate, render_take):
    from projects.review import services as review

    scene = make_scene(duration=5)
    review.take_approve(take=render_take(scene), user=reviewer)
    scene.refresh_from_db()
    client_for(editor).post(url(project), {"scene": scene.pk, "target": veo_value(replicate),
                                           "shown": f"{scene.pk}:{scene.version}"})
    scene.refresh_from_db()
    assert scene.duration == 6 and scene.approval_is_stale and scene.approval_stale_fields == ["duration"]


def test_the_render_form_then_starts_on_the_new_model(client_for, editor, project, scene, gateway, replicate):
    client = client_for(editor)
    client.post(url(project), {"scene": scene.pk, "target": veo_value(replicate), "shown": f"{scene.pk}:{scene.version}"})
    html = client.get(reverse("projects:scene_panel", args=[project.pk, scene.pk]), **HX).content.decode()
    assert f'<option value="{veo_value(replicate)}" selected' in html


def test_a_scene_edited_after_the_plan_was_shown_moves_nothing(client_for, editor, project, make_scene, gateway,
                                                               replicate):
    first, second = make_scene(title="One", duration=5), make_scene(title="Two", duration=5)
    shown = f"{first.pk}:{first.version},{second.pk}:{second.version}"
    Scene.objects.filter(pk=second.pk).update(version=second.version + 1, duration=9)
    html = client_for(editor).post(url(project), {"target": veo_value(replicate), "shown": shown}).content.decode()
    assert "Nothing was moved: scene 2 (Two) changed since the plan was shown." in html
    first.refresh_from_db()
    assert first.target_model == "" and first.duration == 5


def test_a_model_without_image_input_leaves_a_scene_with_a_reference_image_where_it_is(
        client_for, editor, project, make_scene, replicate):
    scene = make_scene(title="Look")
    scene.reference_image.save("look.png", ContentFile(png()), save=True)
    html = client_for(editor).get(url(project, scene=scene.pk, target=f"{replicate.pk}:wan-video/wan-2.7-t2v"),
                                  **HX).content.decode()
    assert "does not take a reference image" in html and 'data-testid="retarget-apply" disabled' in html


def test_a_new_size_shows_the_reference_image_refitted(client_for, editor, project, make_scene, replicate):
    scene = make_scene(title="Look", size="1024x1024", duration=4)
    scene.reference_image.save("look.png", ContentFile(png()), save=True)
    client = client_for(editor)
    html = client.get(url(project, scene=scene.pk, target=veo_value(replicate)), **HX).content.decode()
    assert "re-fitted to 1280x720" in html
    fitted = client.get(reverse("projects:scene_reference_image", args=[scene.pk, "crop"]) + "?size=1280x720")
    assert Image.open(io.BytesIO(b"".join(fitted.streaming_content if fitted.streaming else [fitted.content]))
                      ).size == (1280, 720)


def test_a_retired_model_cannot_be_the_new_target(client_for, editor, project, scene, gateway):
    html = client_for(editor).post(url(project), {"target": f"{gateway.pk}:sora-2",
                                                  "shown": f"{scene.pk}:{scene.version}"}).content.decode()
    assert "Sora 2 was retired on 2026-09-24." in html
    scene.refresh_from_db()
    assert scene.target_model == ""


def test_the_refusal_of_a_retired_model_links_to_the_move(client_for, editor, project, scene, gateway):
    html = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]),
                                   {"target": f"{gateway.pk}:sora-2", "idempotency_key": str(uuid.uuid4())},
                                   **HX).content.decode()
    assert f'{url(project)}?scene={scene.pk}" data-testid="retarget-from-refusal"' in html


def test_a_scene_whose_chosen_model_retired_says_so_in_its_panel(client_for, editor, project, scene, gateway):
    Scene.objects.filter(pk=scene.pk).update(target_connection=gateway, target_model="sora-2")
    html = client_for(editor).get(reverse("projects:scene_panel", args=[project.pk, scene.pk]), **HX).content.decode()
    assert "Sora 2 was retired on 2026-09-24. Models that fit this scene: Previz animatic (free)." in html
    assert f"{url(project)}?scene={scene.pk}" in html


def test_the_page_is_linked_from_the_project(client_for, editor, project):
    assert url(project) in client_for(editor).get(reverse("projects:project_detail", args=[project.pk])
                                                  ).content.decode()


def test_reviewers_cannot_move_scenes(client_for, reviewer, project, scene, replicate):
    client = client_for(reviewer)
    assert client.get(url(project)).status_code == 403
    response = client.post(url(project), {"target": veo_value(replicate), "shown": f"{scene.pk}:{scene.version}"})
    assert response.status_code == 403
    scene.refresh_from_db()
    assert scene.target_model == ""


def test_another_team_gets_404_and_cannot_move_its_scenes(client_for, outsider, project, scene, replicate):
    client = client_for(outsider)
    assert client.get(url(project)).status_code == 404
    assert client.post(url(project), {"target": veo_value(replicate),
                                      "shown": f"{scene.pk}:{scene.version}"}).status_code == 404
    scene.refresh_from_db()
    assert scene.target_model == ""


def test_scenes_of_another_project_cannot_be_slipped_into_a_move(client_for, editor, team, owner, project,
                                                                 make_scene, replicate):
    other = Project.objects.create(team=team, name="Other", created_by=owner)
    stranger = make_scene(project=other, title="Elsewhere")
    html = client_for(editor).post(url(project), {"target": veo_value(replicate),
                                                  "shown": f"{stranger.pk}:{stranger.version}"}).content.decode()
    assert "Nothing was moved" in html
    stranger.refresh_from_db()
    assert stranger.target_model == ""


@pytest.mark.parametrize("shown", ["", "abc", "1:²", "99999999999999999999:1"])
def test_a_tampered_plan_is_refused_in_the_page(client_for, editor, project, replicate, shown):
    response = client_for(editor).post(url(project), {"target": veo_value(replicate), "shown": shown})
    assert response.status_code == 200 and 'data-testid="retarget-error"' in response.content.decode()


def test_nearest_size_keeps_the_shape_before_the_area():
    assert retarget.nearest_size("1920x1080", ["720x1280", "1280x720"]) == "1280x720"
    assert retarget.nearest_size("1080x1920", ["1024x1024", "720x1280"]) == "720x1280"
    assert retarget.nearest_size("1280x720", ["1792x1024"]) is None  # not one of the studio's sizes

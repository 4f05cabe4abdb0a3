"""What each model can do for continuity, declared in the catalog: shipped rows, an owner's
edits, gateway registration, ComfyUI workflows and the admin, each refusing what the provider's wire
cannot carry or what cannot be so."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation import catalog
from generation.admin import CatalogAdminForm
from generation.models import CatalogModel
from generation.providers import comfy_workflows, connections
from generation.renders import services
from projects.storyboard.services import scene_set_reference
from tests.factories import photo
from tests.fakes.comfyui_server import FIXTURES
from tests.generation.test_catalog_edits import catalog_url, edit_url, form_data


def shipped(kind, model_id):
    return CatalogModel.objects.get(connection=None, kind=kind, model_id=model_id)


@pytest.fixture
def veo(team, owner, vertex_connect):
    return vertex_connect(team, owner)


@pytest.fixture
def fal(team, owner):
    """fal, whose adapter extends a take (Vertex's does not yet: its rows declare no extension)."""
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal", api_key="k:s")


@pytest.mark.django_db
@pytest.mark.parametrize("kind, model_id, declared", [
    ("veo", "veo-3.1-generate-preview", dict(end_frame=True, extend_seconds=[7], extend_returns="whole",
                                             reference_images=3, shot_timing="")),
    ("veo", "veo-3.1-lite-generate-preview", dict(end_frame=True, extend_seconds=[], reference_images=0)),
    # Vertex documents extending a Veo video, but its adapter sends no extension yet (ProviderFacts.extends).
    ("vertex", "veo-3.1-generate-001", dict(end_frame=True, extend_seconds=[], extend_returns="",
                                            reference_images=3, has_audio=True, lifecycle="available")),
    ("vertex", "veo-3.1-fast-generate-001", dict(end_frame=True, extend_seconds=[], reference_images=3)),
    ("replicate", "google/veo-3.1", dict(end_frame=True, reference_images=3, extend_seconds=[])),
    ("fal", "fal-ai/veo3.1/fast", dict(end_frame=True, extend_seconds=[7], extend_returns="whole")),
    ("fal", "fal-ai/kling-video/v3/pro/text-to-video", dict(end_frame=True, shot_timing="exact", shots_max=6,
                                                            shots_seconds_min=3, shots_seconds_max=15,
                                                            shot_min_seconds=1)),
    ("fal", "bytedance/seedance-2.0/text-to-video", dict(shot_timing="order", shots_max=None)),
    ("runway", "veo3.1", dict(end_frame=True)),
    ("runway", "gen4_turbo", dict(end_frame=False)),
    ("openai-videos", "sora-2", dict(end_frame=False, reference_images=0, extend_seconds=[])),
    ("local", "previz-animatic-1", dict(end_frame=False, extend_seconds=list(range(1, 21)), extend_returns="new")),
])
def test_shipped_models_declare_what_their_providers_document(kind, model_id, declared):
    model = shipped(kind, model_id)
    assert {name: getattr(model, name) for name in declared} == declared
    assert catalog.declaration_problems(model) == []


def test_the_models_page_lists_what_each_model_can_do(client_for, owner, veo, fal):
    html = client_for(owner).get(catalog_url(veo)).content.decode()
    assert "start frame; end frame; up to 3 likeness references" in html and "extend by" not in html

    html = client_for(owner).get(catalog_url(fal)).content.decode()
    assert "start frame; end frame; extend by 7 s, returns the whole clip" in html


def test_an_owner_declares_continuity_for_the_teams_copy(client_for, owner, veo, fal):
    lite = shipped("vertex", "veo-3.1-fast-generate-001")

    response = client_for(owner).post(edit_url(veo, lite), form_data(
        lite, end_frame="", reference_images="2", lifecycle="available", lifecycle_date=""))

    assert response.status_code == 302
    copy = CatalogModel.objects.get(connection=veo, model_id=lite.model_id)
    assert (copy.end_frame, copy.extend_seconds, copy.extend_returns, copy.reference_images) == (False, [], "", 2)
    assert shipped("vertex", lite.model_id).end_frame is True  # other teams keep the shipped entry

    fast = shipped("fal", "fal-ai/veo3.1/fast")
    response = client_for(owner).post(edit_url(fal, fast), form_data(
        fast, extend_seconds="7, 14", extend_returns="whole", lifecycle="available", lifecycle_date=""))

    assert response.status_code == 302
    copy = CatalogModel.objects.get(connection=fal, model_id=fast.model_id)
    assert (copy.extend_seconds, copy.extend_returns) == ([7, 14], "whole")
    assert shipped("fal", fast.model_id).extend_seconds == [7]


def test_vertex_cannot_declare_an_extension_until_its_adapter_sends_one(client_for, owner, veo):
    fast = shipped("vertex", "veo-3.1-fast-generate-001")
    page = client_for(owner).get(edit_url(veo, fast)).content.decode()
    assert 'name="end_frame"' in page and 'name="extend_seconds"' not in page
    with pytest.raises(ValidationError, match="cannot extend a take: this model cannot declare extension lengths"):
        catalog.catalog_entry_update(connection=veo, model_id=fast.model_id, extend_seconds=[7],
                                     extend_returns="whole")


@pytest.mark.parametrize("changes, words", [
    (dict(extend_seconds="7", extend_returns=""), "Say what an extension returns: the whole clip, or only the new part."),
    (dict(extend_seconds="7, x"), "“x” is not a length"),
    (dict(shot_timing="exact", shots_seconds_min="15", shots_seconds_max="3"),
     "The shortest total length of a multi-shot take is longer than the longest."),
    (dict(shots_max="4"), "Multi-shot limits need a timing"),
    (dict(input_kinds="text", end_frame="on"), "starts from a start frame too"),
])
def test_an_incoherent_declaration_is_refused_with_a_message(client_for, owner, fal, changes, words):
    # On fal's Veo 3.1 Fast: its adapter sends end frames and extensions, so every field is on the form.
    fast = shipped("fal", "fal-ai/veo3.1/fast")

    response = client_for(owner).post(edit_url(fal, fast), form_data(fast, lifecycle="available", lifecycle_date="",
                                                                      **changes))

    assert response.status_code == 200 and words in response.content.decode()
    assert not CatalogModel.objects.filter(connection=fal).exists()


def test_the_openai_format_offers_no_end_frame_and_refuses_one(client_for, owner, priced_gateway):
    wan = CatalogModel.objects.get(connection=priced_gateway, model_id="wan-2.7")
    client = client_for(owner)

    page = client.get(edit_url(priced_gateway, wan)).content.decode()
    client.post(edit_url(priced_gateway, wan), form_data(wan, end_frame="on", reference_images="3",
                                                         extend_seconds="4, 8", extend_returns="new"))

    assert 'name="end_frame"' not in page and 'name="reference_images"' not in page and 'name="extend_seconds"' in page
    wan.refresh_from_db()
    assert (wan.end_frame, wan.reference_images, wan.extend_seconds) == (False, 0, [4, 8])
    with pytest.raises(ValidationError, match="requests carry no end frame"):
        catalog.catalog_entry_update(connection=priced_gateway, model_id="wan-2.7", end_frame=True)


def test_a_gateway_registers_a_model_with_its_extensions_and_shots(client_for, owner, team, priced_gateway):
    response = client_for(owner).post(reverse("generation:model_register", args=[team.pk, priced_gateway.pk]), {
        "model_id": "seedance-2", "sizes": "1280x720", "durations": "4, 8", "price_per_second": "0.2",
        "extend_seconds": "4, 8, 12", "extend_returns": "whole", "shot_timing": "order", "shots_max": "5"})

    assert response.status_code == 302
    model = CatalogModel.objects.get(connection=priced_gateway, model_id="seedance-2")
    assert (model.extend_seconds, model.extend_returns, model.shot_timing, model.shots_max) == (
        [4, 8, 12], "whole", "order", 5)
    assert model.end_frame is False


def test_registration_refuses_an_extension_that_does_not_say_what_it_returns(client_for, owner, team,
                                                                            priced_gateway):
    response = client_for(owner).post(reverse("generation:model_register", args=[team.pk, priced_gateway.pk]), {
        "model_id": "seedance-2", "sizes": "1280x720", "durations": "4", "price_per_second": "0.2",
        "extend_seconds": "4"}, follow=True)

    assert "Say what an extension returns" in response.content.decode()
    assert not CatalogModel.objects.filter(connection=priced_gateway, model_id="seedance-2").exists()


@pytest.mark.django_db
def test_the_admin_refuses_what_the_providers_wire_cannot_carry():
    sora = shipped("openai-videos", "sora-2")
    data = {name: getattr(sora, name) for name in ("kind", "model_id", "display_name", "lifecycle", "lifecycle_date",
                                                   "snapshot_of", "notes", "reference_images")}
    data.update(sizes='["720x1280"]', durations="[4]", input_kinds='["text", "image"]', price_per_second='{"*": 0.1}',
                input_schema="{}", extend_seconds="[]", end_frame=True)

    form = CatalogAdminForm(data, instance=sora)

    assert not form.is_valid()
    assert "OpenAI Videos format (any compatible gateway) requests carry no end frame" in str(form.errors)


@pytest.mark.django_db
def test_a_comfyui_workflow_with_an_end_frame_input_registers_a_model_taking_one(team, owner):
    comfy = connections.connection_create(team=team, user=owner, kind="comfyui", label="GPU",
                                          base_url="http://192.168.1.20:8188")
    workflow = comfy_workflows.workflow_upload(connection=comfy, user=owner, name="LTX first-last",
                                               data=(FIXTURES / "ltxv_flf_api.json").read_bytes())
    assert workflow.inputs["image"] == ["10", "image"] and workflow.inputs["end_image"] == ["12", "image"]

    model = comfy_workflows.workflow_map(workflow=workflow, inputs=workflow.inputs, frames_rule="8n+1", fps=24,
                                         sizes=["768x512"], durations=[4], price_per_second=0)

    assert model.start_frame and model.end_frame
    with pytest.raises(ValidationError, match="starts from a start frame too"):
        comfy_workflows.workflow_map(workflow=workflow, inputs={**workflow.inputs, "image": None},
                                     frames_rule="8n+1", fps=24, sizes=["768x512"], durations=[4], price_per_second=0)


def test_a_refusal_for_a_missing_start_frame_names_the_teams_models_that_take_one(
        make_scene, editor, priced_gateway):
    scene = make_scene(duration=4)
    scene_set_reference(scene=scene, user=editor, upload=photo("start.png"))

    problems = services.render_compile(scene=scene, connection=priced_gateway, model_id="wan-2.7").problems

    assert "Wan 2.7 does not take a reference image: remove the scene's image first, or choose a model that takes " \
           "one. Models that fit this scene: Previz animatic (free)." in problems


# --- Extension: only where the adapter can send one ---------------------------------------------


@pytest.fixture
def runway(team, owner):
    return connections.connection_create(team=team, user=owner, kind="runway", label="Runway",
                                         base_url="http://127.0.0.1:9", api_key="key_test")


def test_a_provider_without_an_extension_on_its_wire_cannot_declare_one(client_for, owner, runway):
    gen45 = shipped("runway", "gen4.5")
    page = client_for(owner).get(edit_url(runway, gen45)).content.decode()
    assert 'name="extend_seconds"' not in page and 'name="extend_returns"' not in page
    with pytest.raises(ValidationError, match="Runway cannot extend a take: this model cannot declare extension "
                                              "lengths."):
        catalog.catalog_entry_update(connection=runway, model_id="gen4.5", extend_seconds=[5], extend_returns="whole")
    assert not CatalogModel.objects.filter(connection=runway).exists()


def test_the_previz_fal_veo_gateways_and_comfyui_may_declare_extensions():
    for kind in ("local", "fal", "veo", "openai-videos", "comfyui"):
        probe = CatalogModel(kind=kind, model_id="m", display_name="M", sizes=["1280x720"], durations=[4],
                             extend_seconds=[4], extend_returns="new")
        assert catalog.declaration_problems(probe) == [], kind
    for kind in ("runway", "replicate"):
        probe = CatalogModel(kind=kind, model_id="m", display_name="M", sizes=["1280x720"], durations=[4],
                             extend_seconds=[4], extend_returns="new")
        assert catalog.declaration_problems(probe) != [], kind

"""An owner uploads a ComfyUI workflow, confirms which inputs the studio fills, and it becomes a model."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation import catalog
from generation.models import CatalogModel, ComfyWorkflow
from generation.providers import connections
from generation.providers.comfy_workflows import MAX_BYTES, guess_inputs
from tests.conftest import LOOPBACK
from tests.fakes.comfyui_server import FIXTURES, workflow_fixture

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def comfy(team, owner):
    return connections.connection_create(team=team, user=owner, kind="comfyui", label="Studio GPU",
                                         base_url="http://192.168.1.20:8188")


def upload(client, team, connection, content: bytes, name="LTX-Video 2B", filename="workflow_api.json"):
    return client.post(reverse("generation:workflow_upload", args=[team.pk, connection.pk]),
                       {"name": name, "file": SimpleUploadedFile(filename, content, "application/json")})


def mapping_data(**overrides):
    data = {"input_prompt": "3|text", "input_negative_prompt": "4|text", "input_width": "5|width",
            "input_height": "5|height", "input_length": "5|length", "input_fps": "9|frame_rate",
            "input_seed": "7|seed", "input_image": "", "frames_rule": "8n+1", "fps": "24",
            "sizes": "768x512, 512x768", "durations": "2, 3, 4", "price_per_second": "0"}
    return {**data, **overrides}


def map_url(team, connection, workflow):
    return reverse("generation:workflow_map", args=[team.pk, connection.pk, workflow.pk])


def test_an_owner_uploads_a_workflow_and_sees_a_sensible_guess_of_its_inputs(client_for, owner, team, comfy):
    client = client_for(owner)
    content = (FIXTURES / "ltxv_t2v_api.json").read_bytes()

    response = upload(client, team, comfy, content)

    workflow = ComfyWorkflow.objects.get(connection=comfy)
    assert response.status_code == 302 and response.url == map_url(team, comfy, workflow)
    assert (workflow.slug, workflow.frames_rule, workflow.fps) == ("ltx-video-2b", "8n+1", 25)
    page = client.get(response.url).content.decode()
    assert "node 3 · CLIPTextEncode · text" in page and "node 5 · EmptyLTXVLatentVideo · length" in page
    assert 'value="3|text" selected' in page and 'value="4|text" selected' in page  # positive and negative told apart
    assert 'value="5|width" selected' in page and 'value="7|seed" selected' in page
    assert 'value="9|frame_rate" selected' in page


def test_the_guess_finds_the_reference_image_and_the_image_to_video_sizes():
    guess = guess_inputs(workflow_fixture("ltxv_i2v_api.json"))
    assert guess == {"prompt": ["3", "text"], "negative_prompt": ["4", "text"], "width": ["11", "width"],
                     "height": ["11", "height"], "length": ["11", "length"], "seed": ["7", "seed"],
                     "fps": ["9", "frame_rate"], "image": ["10", "image"]}


def test_confirming_the_inputs_lists_the_workflow_as_a_model_in_the_render_form(
        client_for, owner, team, comfy, editor, scene):
    client = client_for(owner)
    upload(client, team, comfy, (FIXTURES / "ltxv_t2v_api.json").read_bytes())
    workflow = ComfyWorkflow.objects.get()

    response = client.post(map_url(team, comfy, workflow), mapping_data())

    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.inputs["prompt"] == ["3", "text"] and workflow.inputs["length"] == ["5", "length"]
    model = CatalogModel.objects.get(connection=comfy)
    assert (model.model_id, model.kind, model.sizes, model.durations) == (
        "ltx-video-2b", "comfyui", ["768x512", "512x768"], [2, 3, 4])
    assert model.input_kinds == ["text"] and model.price_for("768x512") == 0
    assert workflow.catalog_model == model
    assert f"{comfy.pk}:ltx-video-2b" in {t.value for t in catalog.available_targets(team)}
    listing = client.get(reverse("generation:connection_list", args=[team.pk])).content.decode()
    assert "LTX-Video 2B" in listing and "ltx-video-2b" in listing


def test_a_ui_format_export_is_refused_with_how_to_export_in_api_format(client_for, owner, team, comfy):
    response = upload(client_for(owner), team, comfy, (FIXTURES / "ltxv_ui_export.json").read_bytes())
    page = response.content.decode()
    assert response.status_code == 200
    assert "UI format" in page and "Export (API)" in page
    assert not ComfyWorkflow.objects.exists()


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n not json at all", "is not JSON"),
    (b"[1, 2, 3]", "not a ComfyUI API-format workflow"),
    (json.dumps({"3": {"inputs": {"text": "x"}}}).encode(), "has no class_type and inputs"),
    (b" " * (MAX_BYTES + 1), "larger than 2 MB"),
])
def test_a_file_that_is_no_workflow_is_refused_in_words(client_for, owner, team, comfy, content, words):
    response = upload(client_for(owner), team, comfy, content)
    assert response.status_code == 200 and words in response.content.decode()
    assert not ComfyWorkflow.objects.exists()


def test_a_mapping_without_a_prompt_is_refused_and_nothing_is_listed(client_for, owner, team, comfy):
    client = client_for(owner)
    upload(client, team, comfy, (FIXTURES / "ltxv_t2v_api.json").read_bytes())
    workflow = ComfyWorkflow.objects.get()

    response = client.post(map_url(team, comfy, workflow), mapping_data(input_prompt=""), **HX)

    assert response.status_code == 200 and "Choose the input that takes the prompt" in response.content.decode()
    assert "<html" not in response.content.decode()  # the form alone, for htmx
    assert not CatalogModel.objects.filter(connection=comfy).exists()


def test_a_forged_input_choice_is_refused(client_for, owner, team, comfy):
    client = client_for(owner)
    upload(client, team, comfy, (FIXTURES / "ltxv_t2v_api.json").read_bytes())
    workflow = ComfyWorkflow.objects.get()
    response = client.post(map_url(team, comfy, workflow), mapping_data(input_seed="99|seed"))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_an_htmx_save_sends_the_browser_to_the_connections_page(client_for, owner, team, comfy):
    client = client_for(owner)
    upload(client, team, comfy, (FIXTURES / "ltxv_t2v_api.json").read_bytes())
    response = client.post(map_url(team, comfy, ComfyWorkflow.objects.get()), mapping_data(), **HX)
    assert response["HX-Redirect"] == reverse("generation:connection_list", args=[team.pk])


def test_another_team_gets_404_and_an_editor_403(client_for, owner, team, comfy, outsider, editor):
    upload(client_for(owner), team, comfy, (FIXTURES / "ltxv_t2v_api.json").read_bytes())
    workflow = ComfyWorkflow.objects.get()
    for user, status in ((outsider, 404), (editor, 403)):
        client = client_for(user)
        assert client.get(map_url(team, comfy, workflow)).status_code == status
        assert upload(client, team, comfy, b"{}").status_code == status
    assert ComfyWorkflow.objects.count() == 1


def test_workflows_are_uploaded_only_to_comfyui_connections(client_for, owner, team):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                            base_url="https://gateway.example/v1", api_key="sk-123456")
    assert client_for(owner).get(reverse("generation:workflow_upload", args=[team.pk, gateway.pk])).status_code == 404


def test_a_comfyui_connection_needs_an_address_but_no_key(client_for, owner, team, settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = [*LOOPBACK, "192.168.1.20"]  # the operator allows the GPU box
    client = client_for(owner)
    url = reverse("generation:connection_list", args=[team.pk])
    data = {"kind": "comfyui", "label": "GPU", "auth_style": "bearer", "api_key": "", "webhook_secret": ""}
    assert "needs your server&#x27;s address" in client.post(url, {**data, "base_url": ""}).content.decode()
    assert client.post(url, {**data, "base_url": "http://192.168.1.20:8188"}).status_code == 302


def test_a_listed_workflow_shows_in_the_admin_catalog_where_an_operator_can_retire_it(
        client_for, owner, team, comfy, admin_user, client):
    upload(client_for(owner), team, comfy, (FIXTURES / "ltxv_t2v_api.json").read_bytes())
    client_for(owner).post(map_url(team, comfy, ComfyWorkflow.objects.get()), mapping_data())
    client.force_login(admin_user)
    page = client.get(reverse("admin:generation_catalogmodel_changelist") + "?kind=comfyui").content.decode()
    assert "ltx-video-2b" in page and "LTX-Video 2B" in page


def test_node_ids_that_only_look_like_numbers_are_listed_after_the_numbered_ones(client_for, owner, team, comfy):
    """"²" is a digit to Python and int() refuses it; 5000 digits are past what int() reads: listing the
    inputs of such a workflow must not fail."""
    graph = json.loads((FIXTURES / "ltxv_t2v_api.json").read_bytes())
    graph["²"] = {"class_type": "PrimitiveInt", "inputs": {"value": 1}}
    graph["9" * 5000] = {"class_type": "PrimitiveFloat", "inputs": {"value": 0.5}}
    graph["10"] = {"class_type": "PrimitiveString", "inputs": {"value": "ten"}}
    client = client_for(owner)
    response = upload(client, team, comfy, json.dumps(graph).encode())
    assert response.status_code == 302

    page = client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("node 9 · ") < html.index("node 10 · PrimitiveString") < html.index("node ² · PrimitiveInt")


# --- A workflow that extends takes ----------------------------------------------------------------


def test_the_guess_finds_a_source_video_loader():
    guess = guess_inputs(workflow_fixture("ltxv_extend_api.json"))
    assert guess["source_video"] == ["10", "video"] and "image" not in guess


def test_mapping_a_source_video_declares_the_model_extends_takes_by_its_lengths(client_for, owner, team, comfy):
    client = client_for(owner)
    upload(client, team, comfy, (FIXTURES / "ltxv_extend_api.json").read_bytes(), name="LTX extend")
    workflow = ComfyWorkflow.objects.get()
    data = mapping_data(input_width="11|width", input_height="11|height", input_length="11|length",
                        input_fps="6|frame_rate", input_source_video="10|video")

    assert client.post(map_url(team, comfy, workflow), data).status_code == 302

    model = CatalogModel.objects.get(connection=comfy)
    assert (model.extend_seconds, model.extend_returns) == ([2, 3, 4], "new")
    assert "Source video (the take it extends)" in client.get(map_url(team, comfy, workflow)).content.decode()


def test_a_workflow_cannot_both_extend_a_take_and_end_on_a_frame(client_for, owner, team, comfy):
    client = client_for(owner)
    upload(client, team, comfy, (FIXTURES / "ltxv_extend_api.json").read_bytes(), name="LTX extend")
    workflow = ComfyWorkflow.objects.get()
    data = mapping_data(input_width="11|width", input_height="11|height", input_length="11|length",
                        input_source_video="10|video", input_image="10|video", input_end_image="3|text")

    page = client.post(map_url(team, comfy, workflow), data).content.decode()

    assert "it cannot end on an end frame as well" in page
    assert not CatalogModel.objects.filter(connection=comfy).exists()

"""Start and end frames on each provider's wire, against the strict fakes.

Every adapter maps a take's start frame and, where the model takes one, its end frame onto
exactly the fields its provider defines; the fakes refuse anything else. A take without
continuity sends, byte for byte, what it sent before continuity existed: the digests below
were taken from the adapters as they were.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re

import httpx
import pytest
from PIL import Image

from generation.providers.base import ProviderError, RenderRequest
from generation.providers.comfyui import ComfyUIProvider, Workflow
from generation.providers.fal import FalProvider
from generation.providers.http import make_client
from generation.providers.openai_videos import OpenAIVideosProvider
from generation.providers.replicate import ReplicateProvider
from generation.providers.runway import RunwayProvider
from generation.providers.veo import VeoProvider
from tests.fakes.comfyui_server import fresh_server, workflow_fixture

PROMPT = "A harbour at dawn, mist on the water."
KEY = "6b1f3c52-9d1e-4f7a-8a39-2f0d3c1e5b77"


def png(colour, size=(1280, 720)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def start(tmp_path):
    path = tmp_path / "reference.png"
    path.write_bytes(png((200, 40, 40)))
    return path


@pytest.fixture
def end(tmp_path):
    path = tmp_path / "end.png"
    path.write_bytes(png((40, 40, 200)))
    return path


def request(model, **changes) -> RenderRequest:
    fields = {"prompt": PROMPT, "model": model, "seconds": 8, "size": "1280x720", "idempotency_key": KEY}
    return RenderRequest(**{**fields, **changes})


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- Without continuity: what every adapter sent before, byte for byte ------------------------

@pytest.fixture
def veo(veo_server):
    return VeoProvider(base_url=veo_server.url, api_key=veo_server.api_key,
                       client=make_client(base_url=veo_server.url, headers={}, read=5.0), sleep=lambda s: None)


@pytest.fixture
def replicate(provider_server):
    return ReplicateProvider(base_url=provider_server.replicate_base, api_key=provider_server.api_key,
                             client=make_client(base_url=provider_server.replicate_base, headers={}, read=5.0),
                             sleep=lambda s: None)


@pytest.fixture
def fal(fal_server):
    return FalProvider(base_url=fal_server.url, api_key=fal_server.api_key,
                       client=make_client(base_url=fal_server.url, headers={}, read=5.0), sleep=lambda s: None)


@pytest.fixture
def runway(runway_server):
    return RunwayProvider(base_url=runway_server.url, api_key=runway_server.api_key,
                          client=make_client(base_url=runway_server.url, headers={}, read=5.0), sleep=lambda s: None)


@pytest.fixture
def gateway(provider_server):
    return OpenAIVideosProvider(base_url=provider_server.openai_base, api_key=provider_server.api_key,
                                client=make_client(base_url=provider_server.openai_base, headers={}, read=5.0),
                                sleep=lambda s: None)


T2V_INPUTS = {"prompt": ["3", "text"], "negative_prompt": ["4", "text"], "width": ["5", "width"],
              "height": ["5", "height"], "length": ["5", "length"], "fps": ["9", "frame_rate"],
              "seed": ["7", "seed"]}
I2V_INPUTS = {**T2V_INPUTS, "width": ["11", "width"], "height": ["11", "height"], "length": ["11", "length"],
              "image": ["10", "image"]}


@pytest.fixture
def comfy_server():
    return fresh_server()


def comfy_with(comfy_server, workflows):
    return ComfyUIProvider(base_url=comfy_server.url, workflows=workflows.get,
                           client=make_client(base_url=comfy_server.url, headers={}, read=5.0), sleep=lambda s: None)


def test_veo_sends_a_text_take_and_a_start_frame_take_as_before(veo_server, veo, start):
    veo.submit(request("veo-3.1-generate-preview"))
    veo.submit(request("veo-3.1-generate-preview", seconds=6, input_reference=start))

    text, image = (r.body for r in veo_server.seen("POST", r"/v1beta/models/.*:predictLongRunning"))
    assert digest(text) == "4f7e48dfbe01c393cf2e7998b9b8ade24dd75f6258577876d95643c6204f5456"
    assert digest(image) == "8124101023e93672c3ca06abae87a53ea864c593d0a67c407b5b6c8b92ddf683"


def test_replicate_sends_a_text_take_and_a_start_frame_take_as_before(provider_server, replicate, start):
    replicate.submit(request("google/veo-3.1"))
    replicate.submit(request("google/veo-3.1", seconds=6, input_reference=start))

    text, image = (r.body for r in provider_server.seen("POST", r".*/models/google/veo-3\.1/predictions"))
    assert digest(text) == "442bae157354a665e9913a4271ec9d3311fd36ff59cfad0bc5985f95d0f92243"
    assert digest(image) == "3af0bf70980dc2d275bba41fc34a9bb611c1f15ae7c6206494f58aacf2c4d8d8"


def test_fal_sends_a_text_take_and_a_start_frame_take_as_before(fal_server, fal, start):
    fal.submit(request("fal-ai/veo3.1"))
    fal.submit(request("fal-ai/veo3.1", seconds=6, input_reference=start))

    (text,) = fal_server.seen("POST", r"/fal-ai/veo3\.1")
    (image,) = fal_server.seen("POST", r"/fal-ai/veo3\.1/image-to-video")
    assert digest(text.body) == "12a206434691c43ab955df23046a2946cdadd63652325a7aa35c10d615e53991"
    assert digest(image.body) == "c17cbdced4ce4ffe852731dd572f55ac89e4483b6f82c3f988116474ae530bce"


def test_runway_sends_a_text_take_and_a_start_frame_take_as_before(runway_server, runway, start):
    runway.submit(request("veo3.1"))
    runway.submit(request("gen4_turbo", seconds=5, input_reference=start))

    (text,) = runway_server.seen("POST", "/v1/text_to_video")
    (image,) = runway_server.seen("POST", "/v1/image_to_video")
    assert digest(text.body) == "878340414f77ebec400d600d8a09792399c70c1f4365c18c7e4a82b1e6532528"
    assert digest(image.body) == "618108444b1b9518e9d1046635a530827fdc977d6d11de504520452fd7b4ef6d"


def test_the_openai_format_sends_a_start_frame_take_as_before(provider_server, gateway, tmp_path):
    reference = tmp_path / "reference.png"
    reference.write_bytes(png((200, 40, 40), size=(720, 1280)))
    gateway.submit(request("sora-2", seconds=4, size="720x1280", input_reference=reference))

    (create,) = provider_server.seen("POST", r".*/videos")
    parts = re.split(rb"--[0-9a-f]{32}", create.body)
    assert digest(b"".join(parts)) == "f8425a4b80d6ca2402ba87bbcf8cb9e4277059191629bdc5ef684daf27f35a4e"


def test_comfyui_sends_a_start_frame_take_as_before(comfy_server, start):
    workflow = Workflow(graph=workflow_fixture("ltxv_i2v_api.json"), inputs=I2V_INPUTS, frames_rule="8n+1", fps=24)
    comfy_with(comfy_server, {"ltxv-i2v": workflow}).submit(
        request("ltxv-i2v", seconds=4, size="768x512", input_reference=start))

    (upload,) = [r for r in comfy_server.requests if r.path == "/upload/image"]
    (prompt,) = [r for r in comfy_server.requests if r.path == "/prompt"]
    assert digest(prompt.body) == "75336f912158adcd4d43df88e4260e844d7fe91d7f56c4fa85f73f1b0a083e3d"
    assert upload.fields["image"][0] == f"studio-{KEY}.png"


# --- With a start and an end frame: each provider's own fields ---------------------------------

def data_uri(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def inline(path) -> dict:
    return {"bytesBase64Encoded": base64.b64encode(path.read_bytes()).decode(), "mimeType": "image/png"}


def test_veo_sends_the_end_frame_as_last_frame_beside_the_image(veo_server, veo, start, end):
    veo.submit(request("veo-3.1-generate-preview", input_reference=start, end_frame=end))

    (create,) = veo_server.seen("POST", r"/v1beta/models/.*:predictLongRunning")
    assert create.json == {
        "instances": [{"prompt": PROMPT, "image": inline(start), "lastFrame": inline(end)}],
        "parameters": {"durationSeconds": 8, "aspectRatio": "16:9", "resolution": "720p"},
    }


def test_veo_refuses_an_end_frame_without_a_start_frame_before_sending(veo_server, veo, end):
    with pytest.raises(ProviderError, match="only after a first frame"):
        veo.submit(request("veo-3.1-generate-preview", end_frame=end))
    assert veo_server.seen("POST", r".*") == []


def test_the_veo_fake_refuses_a_last_frame_alone_and_a_field_veo_does_not_define(veo_server, veo, end):
    body = {"instances": [{"prompt": PROMPT, "lastFrame": inline(end)}], "parameters": {}}
    answer = httpx.post(f"{veo_server.url}/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                        headers={"x-goog-api-key": veo_server.api_key}, json=body)
    assert answer.status_code == 400 and "lastFrame requires image" in answer.text
    body = {"instances": [{"prompt": PROMPT, "image": inline(end), "endFrame": inline(end)}], "parameters": {}}
    answer = httpx.post(f"{veo_server.url}/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                        headers={"x-goog-api-key": veo_server.api_key}, json=body)
    assert answer.status_code == 400 and "endFrame" in answer.text


def test_replicate_sends_image_and_last_frame_and_no_likeness_beside_them(provider_server, replicate, start, end,
                                                                          tmp_path):
    face = tmp_path / "anna.png"
    face.write_bytes(png((90, 90, 90), size=(64, 64)))
    replicate.submit(request("google/veo-3.1", input_reference=start, end_frame=end, character_images=(face,)))

    (create,) = provider_server.seen("POST", r".*/models/google/veo-3\.1/predictions")
    assert create.json == {"input": {
        "prompt": PROMPT, "duration": 8, "aspect_ratio": "16:9", "resolution": "720p", "generate_audio": True,
        "image": data_uri(start), "last_frame": data_uri(end)}}


@pytest.mark.parametrize("changes", [{"seconds": 4}, {"size": "720x1280"}])
def test_beside_a_start_and_end_frame_veo_gets_no_likeness_so_its_likeness_rule_refuses_nothing(
        provider_server, replicate, veo_server, veo, start, end, tmp_path, changes):
    # Veo 3.1 keeps a likeness only in 8-second 16:9 takes, and takes no references beside a frame: with
    # both frames the cast travels in the prompt, so a short or portrait take is sent, on either wire.
    face = tmp_path / "anna.png"
    face.write_bytes(png((90, 90, 90), size=(64, 64)))
    take = {"input_reference": start, "end_frame": end, "character_images": (face,), **changes}
    replicate.submit(request("google/veo-3.1", **take))
    veo.submit(request("veo-3.1-generate-preview", **take))

    (create,) = provider_server.seen("POST", r".*/models/google/veo-3\.1/predictions")
    assert "reference_images" not in create.json["input"] and create.json["input"]["last_frame"] == data_uri(end)
    (create,) = veo_server.seen("POST", r"/v1beta/models/.*:predictLongRunning")
    assert "referenceImages" not in create.json["instances"][0] and "lastFrame" in create.json["instances"][0]


def test_replicate_refuses_an_end_frame_for_a_model_whose_inputs_it_does_not_map(provider_server, replicate, start,
                                                                                  end):
    with pytest.raises(ProviderError, match="no end frame to wan-video/wan-2.7-t2v"):
        replicate.submit(request("wan-video/wan-2.7-t2v", input_reference=start, end_frame=end))
    assert provider_server.seen("POST", r".*/predictions") == []


def test_the_replicate_fake_holds_veos_documented_restrictions(provider_server, start):
    def create(inputs):
        return httpx.post(f"{provider_server.replicate_base}/models/google/veo-3.1/predictions",
                          headers={"Authorization": f"Bearer {provider_server.api_key}"}, json={"input": inputs})

    alone = create({"prompt": PROMPT, "last_frame": data_uri(start)})
    mixed = create({"prompt": PROMPT, "image": data_uri(start), "reference_images": [data_uri(start)]})
    short = create({"prompt": PROMPT, "duration": 4, "reference_images": [data_uri(start)]})
    assert alone.status_code == mixed.status_code == short.status_code == 422
    assert "last_frame requires image" in alone.text
    assert "cannot be combined with image" in mixed.text
    assert "8 second 16:9" in short.text


def test_fal_sends_both_frames_to_the_first_last_frame_endpoint(fal_server, fal, start, end):
    fal.submit(request("fal-ai/veo3.1/fast", seconds=6, input_reference=start, end_frame=end))

    (create,) = fal_server.seen("POST", r"/fal-ai/veo3\.1/fast/first-last-frame-to-video")
    assert create.json == {"prompt": PROMPT, "duration": "6s", "aspect_ratio": "16:9", "resolution": "720p",
                           "generate_audio": True, "first_frame_url": data_uri(start),
                           "last_frame_url": data_uri(end)}


def test_fal_refuses_an_end_frame_where_the_model_has_no_first_last_frame_endpoint(fal_server, fal, start, end):
    with pytest.raises(ProviderError, match="no endpoint taking a start and an end frame"):
        fal.submit(request("bytedance/seedance-2.0/text-to-video", input_reference=start, end_frame=end))
    assert fal_server.seen("POST", r".*") == []


def test_the_fal_fake_refuses_an_image_url_on_the_first_last_frame_endpoint(fal_server, start):
    answer = httpx.post(f"{fal_server.url}/fal-ai/veo3.1/first-last-frame-to-video",
                        headers={"Authorization": f"Key {fal_server.api_key}"},
                        json={"prompt": PROMPT, "image_url": data_uri(start), "last_frame_url": data_uri(start)})
    assert answer.status_code == 422 and "image_url" in answer.text and "first_frame_url" in answer.text


def test_runway_sends_the_frames_as_prompt_image_positions(runway_server, runway, start, end):
    runway.submit(request("veo3.1", input_reference=start, end_frame=end))

    (create,) = runway_server.seen("POST", "/v1/image_to_video")
    assert create.json == {"model": "veo3.1", "promptText": PROMPT, "ratio": "1280:720", "duration": 8,
                           "promptImage": [{"uri": data_uri(start), "position": "first"},
                                           {"uri": data_uri(end), "position": "last"}]}


def test_runway_refuses_an_end_frame_for_a_model_that_takes_a_first_frame_only(runway_server, runway, start, end):
    with pytest.raises(ProviderError, match="cannot end on a frame"):
        runway.submit(request("gen4.5", seconds=5, input_reference=start, end_frame=end))
    assert runway_server.seen("POST", r".*") == []


def test_the_runway_fake_refuses_a_last_position_on_a_first_frame_model(runway_server, start):
    answer = httpx.post(f"{runway_server.url}/v1/image_to_video", json={
        "model": "gen4_turbo", "ratio": "1280:720", "duration": 5,
        "promptImage": [{"uri": data_uri(start), "position": "first"}, {"uri": data_uri(start), "position": "last"}]},
        headers={"Authorization": f"Bearer {runway_server.api_key}", "X-Runway-Version": "2024-11-06"})
    assert answer.status_code == 400 and "position" in answer.text


def test_the_openai_format_takes_no_end_frame(provider_server, gateway, start, end):
    with pytest.raises(ProviderError, match="start frame only"):
        gateway.submit(request("sora-2", input_reference=start, end_frame=end))
    assert provider_server.seen("POST", r".*/videos") == []


FLF_INPUTS = {**I2V_INPUTS, "end_image": ["12", "image"]}


def test_comfyui_uploads_both_frames_and_fills_the_end_frame_role(comfy_server, start, end):
    workflow = Workflow(graph=workflow_fixture("ltxv_flf_api.json"), inputs=FLF_INPUTS, frames_rule="8n+1", fps=24)
    comfy_with(comfy_server, {"ltxv-flf": workflow}).submit(
        request("ltxv-flf", seconds=4, size="768x512", input_reference=start, end_frame=end))

    uploads = {r.fields["image"][0]: r.fields["image"][2] for r in comfy_server.requests if r.path == "/upload/image"}
    assert uploads == {f"studio-{KEY}.png": start.read_bytes(), f"studio-{KEY}-end.png": end.read_bytes()}
    (prompt,) = [r for r in comfy_server.requests if r.path == "/prompt"]
    graph = json.loads(prompt.body)["prompt"]
    assert graph["10"]["inputs"]["image"] == f"studio-{KEY}.png"
    assert graph["12"]["inputs"]["image"] == f"studio-{KEY}-end.png"


def test_comfyui_refuses_an_end_frame_workflow_without_an_end_frame(comfy_server, start):
    workflow = Workflow(graph=workflow_fixture("ltxv_flf_api.json"), inputs=FLF_INPUTS)
    with pytest.raises(ProviderError, match="ends on an end frame"):
        comfy_with(comfy_server, {"ltxv-flf": workflow}).submit(
            request("ltxv-flf", seconds=4, size="768x512", input_reference=start))
    assert [r for r in comfy_server.requests if r.path == "/prompt"] == []


def test_comfyui_refuses_an_end_frame_a_workflow_has_no_input_for(comfy_server, start, end):
    workflow = Workflow(graph=workflow_fixture("ltxv_i2v_api.json"), inputs=I2V_INPUTS)
    with pytest.raises(ProviderError, match="no end frame input"):
        comfy_with(comfy_server, {"ltxv-i2v": workflow}).submit(
            request("ltxv-i2v", seconds=4, size="768x512", input_reference=start, end_frame=end))

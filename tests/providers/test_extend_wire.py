"""Extending a take on each provider's wire, against the strict fakes.

Each adapter sends exactly what its provider defines for an extension, and the fakes refuse anything
else: the OpenAI format's multipart `prompt`, `seconds` and `video[id]` (openai-python's
VideoExtendParams, not the `video_id` some write-ups name), fal's extend-video endpoint with the clip
as a data URI, Veo's previous generation as `instances[0].video.uri`, and a ComfyUI workflow's
"source video" input filled with the uploaded clip.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from generation.models import PrevizJob
from generation.providers.base import ExtendRequest, JobProbe, ProviderError, RenderRequest
from generation.providers.comfyui import ComfyUIProvider, Workflow, frames_for
from generation.providers.fal import FalProvider
from generation.providers.http import make_client
from generation.providers.local_previz import LocalPrevizProvider
from generation.providers.openai_videos import OpenAIVideosProvider
from generation.providers.veo import VeoProvider
from tests.fakes.comfyui_server import fresh_server, workflow_fixture
from tests.fakes.provider_server import FIXTURE

PROMPT = "The mist lifts; a gull lands on the rail."
KEY = "0d6f1c52-9d1e-4f7a-8a39-2f0d3c1e5b77"


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "extended.mp4"
    path.write_bytes(FIXTURE.read_bytes())
    return path


def extend_request(model, **changes) -> ExtendRequest:
    fields = {"prompt": PROMPT, "model": model, "seconds": 7, "size": "1280x720", "idempotency_key": KEY,
              "source_seconds": 8.0}
    return ExtendRequest(**{**fields, **changes})


# --- OpenAI-format gateways: POST /videos/extensions -------------------------------------------

@pytest.fixture
def gateway(provider_server):
    return OpenAIVideosProvider(base_url=provider_server.openai_base, api_key=provider_server.api_key,
                                client=make_client(base_url=provider_server.openai_base, headers={}, read=5.0),
                                sleep=lambda s: None)


def finished_video(provider, job_id: str) -> None:
    for _ in range(10):
        if provider.poll(job_id).status == "succeeded":
            return
    raise AssertionError("the fake never finished the video")


def test_the_openai_format_extends_a_video_by_reference_with_the_sdks_fields(provider_server, gateway):
    video_id = gateway.submit(RenderRequest(prompt="A harbour at dawn.", model="sora-2", seconds=8, size="1280x720"))
    finished_video(gateway, video_id)

    job_id = gateway.extend(extend_request("sora-2", seconds=8, source_job_id=video_id))

    (sent,) = provider_server.seen("POST", r"/openai/v1/videos/extensions")
    assert sent.fields == {"prompt": PROMPT, "seconds": "8", "video[id]": video_id}
    assert sent.headers["idempotency-key"] == KEY
    finished_video(gateway, job_id)
    listed = httpx.get(f"{provider_server.openai_base}/videos/{job_id}",
                       headers={"Authorization": f"Bearer {provider_server.api_key}"}).json()
    assert listed["seconds"] == "16"  # the stitched whole: the gateway returns the whole clip


def test_the_openai_format_fake_refuses_video_id_and_a_length_the_api_lacks(provider_server, gateway):
    video_id = gateway.submit(RenderRequest(prompt="A harbour at dawn.", model="sora-2", seconds=8, size="1280x720"))
    finished_video(gateway, video_id)
    auth = {"Authorization": f"Bearer {provider_server.api_key}"}

    by_name = httpx.post(f"{provider_server.openai_base}/videos/extensions", headers=auth,
                         files={"prompt": (None, PROMPT), "seconds": (None, "8"), "video_id": (None, video_id)})
    seven = httpx.post(f"{provider_server.openai_base}/videos/extensions", headers=auth,
                       files={"prompt": (None, PROMPT), "seconds": (None, "7"), "video[id]": (None, video_id)})

    assert by_name.status_code == 400 and by_name.json()["error"]["param"] == "video_id"
    assert seven.status_code == 400 and seven.json()["error"]["param"] == "seconds"


def test_the_openai_format_says_when_the_gateway_no_longer_has_the_video(provider_server, gateway):
    with pytest.raises(ProviderError, match="no longer has the video to extend") as caught:
        gateway.extend(extend_request("sora-2", seconds=4, source_job_id="video_gone"))
    assert caught.value.code == "expired"


# --- fal: the model's extend-video endpoint ----------------------------------------------------

@pytest.fixture
def fal(fal_server):
    return FalProvider(base_url=fal_server.url, api_key=fal_server.api_key,
                       client=make_client(base_url=fal_server.url, headers={}, read=5.0), sleep=lambda s: None)


def test_fal_sends_the_take_as_a_data_uri_to_the_extend_video_endpoint(fal_server, fal, clip):
    fal.extend(extend_request("fal-ai/veo3.1", source_video=clip))

    (sent,) = fal_server.seen("POST", r"/fal-ai/veo3\.1/extend-video")
    assert sent.json == {"prompt": PROMPT, "duration": "7s", "aspect_ratio": "16:9", "resolution": "720p",
                         "generate_audio": True,
                         "video_url": "data:video/mp4;base64," + base64.b64encode(clip.read_bytes()).decode()}


def test_fal_fast_extends_at_720p_only_and_refuses_before_sending(fal_server, fal, clip):
    with pytest.raises(ProviderError, match="Fast extends 720p videos only"):
        fal.extend(extend_request("fal-ai/veo3.1/fast", size="1920x1080", source_video=clip))
    with pytest.raises(ProviderError, match="at most 8 seconds; this take is 15.0 s long"):
        fal.extend(extend_request("fal-ai/veo3.1", source_video=clip, source_seconds=15.0))
    with pytest.raises(ProviderError, match="by 7 seconds, not 4"):
        fal.extend(extend_request("fal-ai/veo3.1", seconds=4, source_video=clip))
    assert fal_server.seen("POST", r".*") == []


def test_the_fal_fake_refuses_an_image_on_the_extend_endpoint_and_a_video_that_is_not_one(fal_server, clip):
    auth = {"Authorization": f"Key {fal_server.api_key}"}
    video = "data:video/mp4;base64," + base64.b64encode(clip.read_bytes()).decode()
    image = httpx.post(f"{fal_server.url}/fal-ai/veo3.1/extend-video", headers=auth,
                       json={"prompt": PROMPT, "video_url": video, "image_url": "https://example.com/a.png"})
    garbage = httpx.post(f"{fal_server.url}/fal-ai/veo3.1/extend-video", headers=auth,
                         json={"prompt": PROMPT, "video_url": "data:video/mp4;base64," + base64.b64encode(b"x" * 99).decode()})
    assert image.status_code == 422 and "image_url" in image.text
    assert garbage.status_code == 422 and "video_url" in garbage.text


# --- Veo on the Gemini API: the previous generation's video ---------------------------------------

@pytest.fixture
def veo(veo_server):
    return VeoProvider(base_url=veo_server.url, api_key=veo_server.api_key,
                       client=make_client(base_url=veo_server.url, headers={}, read=5.0), sleep=lambda s: None)


def test_veo_extends_its_own_video_by_the_uri_of_the_generation_that_made_it(veo_server, veo):
    operation = veo.submit(RenderRequest(prompt="A harbour at dawn.", model="veo-3.1-generate-preview", seconds=8,
                                         size="1280x720"))
    finished_video(veo, operation)

    veo.extend(extend_request("veo-3.1-generate-preview", source_job_id=operation))

    first, second = (r.json for r in veo_server.seen("POST", r"/v1beta/models/.*:predictLongRunning"))
    uri = veo_server.finish(veo_server.operations[operation])["response"]["generateVideoResponse"][
        "generatedSamples"][0]["video"]["uri"]
    assert second == {"instances": [{"prompt": PROMPT, "video": {"uri": uri}}], "parameters": {"resolution": "720p"}}


def test_veo_refuses_before_sending_what_google_would_refuse(veo_server, veo):
    with pytest.raises(ProviderError, match="720p videos only, not 1920x1080"):
        veo.extend(extend_request("veo-3.1-generate-preview", size="1920x1080", source_job_id="x"))
    with pytest.raises(ProviderError, match="by 7 seconds, not 8"):
        veo.extend(extend_request("veo-3.1-generate-preview", seconds=8, source_job_id="x"))
    assert veo_server.seen("POST", r".*") == []


def test_veo_says_when_google_no_longer_has_the_video(veo_server, veo):
    with pytest.raises(ProviderError, match="keeps a video two days") as caught:
        veo.extend(extend_request("veo-3.1-generate-preview",
                                  source_job_id="models/veo-3.1-generate-preview/operations/op404x1"))
    assert caught.value.code == "expired"
    assert veo_server.seen("POST", r".*") == []


def test_the_veo_fake_refuses_a_length_and_a_video_veo_did_not_make(veo_server, veo):
    operation = veo.submit(RenderRequest(prompt="A harbour at dawn.", model="veo-3.1-generate-preview", seconds=8,
                                         size="1280x720"))
    finished_video(veo, operation)
    uri = veo_server.finish(veo_server.operations[operation])["response"]["generateVideoResponse"][
        "generatedSamples"][0]["video"]["uri"]

    def create(instance, parameters):
        return httpx.post(f"{veo_server.url}/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                          headers={"x-goog-api-key": veo_server.api_key},
                          json={"instances": [instance], "parameters": parameters})

    with_length = create({"prompt": PROMPT, "video": {"uri": uri}}, {"durationSeconds": 8})
    stranger = create({"prompt": PROMPT, "video": {"uri": "https://example.com/mine.mp4"}}, {})
    assert with_length.status_code == 400 and "durationSeconds" in with_length.text
    assert stranger.status_code == 400 and "generated by Veo" in stranger.text


# --- ComfyUI: a workflow with a source video input ---------------------------------------------

EXTEND_INPUTS = {"prompt": ["3", "text"], "negative_prompt": ["4", "text"], "width": ["11", "width"],
                 "height": ["11", "height"], "length": ["11", "length"], "fps": ["6", "frame_rate"],
                 "seed": ["7", "seed"], "source_video": ["10", "video"]}


def comfy_with(server, workflows):
    return ComfyUIProvider(base_url=server.url, workflows=workflows.get,
                           client=make_client(base_url=server.url, headers={}, read=5.0), sleep=lambda s: None)


def test_comfyui_uploads_the_take_and_fills_the_source_video_input(clip):
    server = fresh_server()
    workflow = Workflow(graph=workflow_fixture("ltxv_extend_api.json"), inputs=EXTEND_INPUTS, frames_rule="8n+1",
                        fps=24)
    comfy_with(server, {"ltxv-extend": workflow}).extend(
        extend_request("ltxv-extend", seconds=4, size="768x512", source_video=clip))

    (upload,) = [r for r in server.requests if r.path == "/upload/image"]
    assert upload.fields["image"] == (f"studio-{KEY}-source.mp4", "video/mp4", clip.read_bytes())
    (prompt,) = [r for r in server.requests if r.path == "/prompt"]
    body = json.loads(prompt.body)
    assert body["prompt_id"] == KEY and prompt.accepted
    graph = body["prompt"]
    assert graph["10"]["inputs"]["video"] == f"studio-{KEY}-source.mp4"
    assert graph["11"]["inputs"]["length"] == frames_for(4, 24, "8n+1") == 97
    assert graph["3"]["inputs"]["text"] == PROMPT


def test_comfyui_refuses_to_extend_with_a_workflow_without_a_source_video_and_to_render_with_one(clip):
    server = fresh_server()
    plain = Workflow(graph=workflow_fixture(), inputs={"prompt": ["3", "text"]})
    extender = Workflow(graph=workflow_fixture("ltxv_extend_api.json"), inputs=EXTEND_INPUTS)
    provider = comfy_with(server, {"ltxv-t2v": plain, "ltxv-extend": extender})

    with pytest.raises(ProviderError, match="no source video input"):
        provider.extend(extend_request("ltxv-t2v", seconds=4, size="768x512", source_video=clip))
    with pytest.raises(ProviderError, match="continues a take"):
        provider.submit(RenderRequest(prompt=PROMPT, model="ltxv-extend", seconds=4, size="768x512"))
    assert [r for r in server.requests if r.path in ("/prompt", "/upload/image")] == []


# --- The local previz: the continuation, drawn offline -----------------------------------------

@pytest.mark.django_db
def test_the_previz_books_a_job_for_the_new_seconds_only():
    recipe = {"extend_of": {"last_frame": {"original": "frames/1/1/1/last.png", "fit": "crop"}}}
    job_id = LocalPrevizProvider().extend(extend_request("previz-animatic-1", seconds=3, recipe=recipe))

    job = PrevizJob.objects.get(pk=job_id)
    assert (job.spec["seconds"], job.spec["size"], job.spec["prompt"]) == (3, "1280x720", PROMPT)
    assert job.spec["recipe"]["extend_of"]["last_frame"]["original"] == "frames/1/1/1/last.png"
    with pytest.raises(ProviderError, match="1 to 20 seconds, not 25"):
        LocalPrevizProvider().extend(extend_request("previz-animatic-1", seconds=25))


def test_an_extension_whose_answer_was_lost_is_found_in_the_gateways_list(provider_server, gateway):
    video_id = gateway.submit(RenderRequest(prompt="A harbour at dawn.", model="sora-2", seconds=8, size="1280x720"))
    finished_video(gateway, video_id)
    job_id = gateway.extend(extend_request("sora-2", seconds=8, source_job_id=video_id))
    probe = JobProbe(model="sora-2", size="1280x720", seconds=8, prompt=PROMPT,
                     created_after=datetime.now(timezone.utc) - timedelta(minutes=2), exclude_ids=frozenset({video_id}),
                     extends=video_id)

    assert gateway.find_job(probe) == job_id
    # The list shows the stitched length (16 s): matched by seconds alone, the extension would be missed.
    assert gateway.find_job(replace(probe, extends="")) is None

"""The ComfyUI adapter against a local server that speaks ComfyUI's routes and validates like it."""

from __future__ import annotations

import copy
import io
import time
import uuid
from datetime import UTC, datetime

import pytest
from PIL import Image

from generation.providers.base import JobProbe, ProviderError, RenderRequest
from generation.providers.comfyui import ComfyUIProvider, Workflow, frames_for, seed_for
from generation.providers.http import make_client
from tests.fakes.comfyui_server import fresh_server, workflow_fixture

T2V_INPUTS = {"prompt": ["3", "text"], "negative_prompt": ["4", "text"], "width": ["5", "width"],
              "height": ["5", "height"], "length": ["5", "length"], "fps": ["9", "frame_rate"],
              "seed": ["7", "seed"]}
I2V_INPUTS = {**T2V_INPUTS, "width": ["11", "width"], "height": ["11", "height"], "length": ["11", "length"],
              "image": ["10", "image"]}


def t2v(**changes) -> Workflow:
    return Workflow(**{"graph": workflow_fixture(), "inputs": T2V_INPUTS, "frames_rule": "8n+1", "fps": 24,
                       **changes})


def scene(**changes) -> RenderRequest:
    fields = {"prompt": "A harbour at dawn, mist on the water.", "model": "ltxv-t2v", "seconds": 4,
              "size": "768x512", "idempotency_key": str(uuid.uuid4())}
    return RenderRequest(**{**fields, **changes})


@pytest.fixture
def comfy_server():
    return fresh_server()


@pytest.fixture
def comfy(comfy_server):
    def make(workflows=None, *, api_key=""):
        workflows = workflows if workflows is not None else {"ltxv-t2v": t2v()}
        return ComfyUIProvider(base_url=comfy_server.url, workflows=workflows.get, api_key=api_key,
                               client=make_client(base_url=comfy_server.url, headers={}, read=5.0),
                               sleep=lambda s: None)
    return make


def wait_for(provider, job_id, statuses=("succeeded", "failed", "canceled"), timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = provider.poll(job_id)
        if state.status in statuses:
            return state
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} never reached {statuses}")


def test_it_renders_a_take_from_submit_to_download(comfy, comfy_server, tmp_path):
    provider = comfy()
    request = scene()

    job_id = provider.submit(request)
    state = wait_for(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert job_id == request.idempotency_key  # the job's name is the take's key
    assert state.status == "succeeded" and state.provider_seconds is not None
    assert (tmp_path / "video.mp4").read_bytes() == comfy_server.video
    view = comfy_server.seen("GET", "/view")[0]
    assert view.query["filename"].startswith("LTXVideo_") and view.query["filename"].endswith(".mp4")
    assert (view.query["subfolder"], view.query["type"]) == ("", "output")


def test_it_fills_the_mapped_inputs_into_a_copy_of_the_graph(comfy, comfy_server):
    workflow = t2v()
    original = copy.deepcopy(workflow.graph)
    comfy({"ltxv-t2v": workflow}).submit(scene(prompt="Gulls over the pier", seconds=4, size="768x512"))

    sent = comfy_server.seen("POST", "/prompt")[0].json
    graph = sent["prompt"]
    assert graph["3"]["inputs"]["text"] == "Gulls over the pier"
    assert (graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"]) == (768, 512)
    assert graph["5"]["inputs"]["length"] == 97  # 4 s × 24 fps = 96 → LTX's nearest 8n+1
    assert graph["9"]["inputs"]["frame_rate"] == 24
    assert graph["7"]["inputs"]["seed"] != original["7"]["inputs"]["seed"]
    assert graph["4"]["inputs"]["text"] == original["4"]["inputs"]["text"]  # no negative prompt asked
    assert workflow.graph == original  # the team's template is untouched
    assert set(sent) == {"prompt", "client_id", "prompt_id"}


@pytest.mark.parametrize("seconds, fps, rule, frames", [
    (4, 24, "8n+1", 97), (5, 24, "8n+1", 121), (2, 25, "8n+1", 49), (5, 16, "4n+1", 81), (3, 24, "any", 72),
])
def test_frame_counts_follow_the_models_rule(seconds, fps, rule, frames):
    assert frames_for(seconds, fps, rule) == frames


def test_the_same_take_gets_the_same_seed_and_another_take_another(comfy, comfy_server):
    provider = comfy()
    key = str(uuid.uuid4())
    provider.submit(scene(idempotency_key=key))
    comfy_server.wait_idle()
    seeds = [g["7"]["inputs"]["seed"] for g in comfy_server.created()]
    assert seeds[0] < 2**32
    assert seeds[0] == seed_for(key) != seed_for(str(uuid.uuid4()))


@pytest.mark.parametrize("seed, sent", [
    (42, 42), ("42", 42), (0, 0), (2**64 - 1, 2**64 - 1),
    ("²", None), ("١٧", None), ("9" * 5000, None), (2**64, None), ("-1", None), ("", None),
])
def test_a_recipes_own_seed_is_sent_when_comfyui_takes_it_and_the_takes_seed_otherwise(comfy, comfy_server,
                                                                                     seed, sent):
    key = str(uuid.uuid4())
    comfy().submit(scene(idempotency_key=key, recipe={"parameters": {"seed": seed}}))
    comfy_server.wait_idle()
    (graph,) = comfy_server.created()
    assert graph["7"]["inputs"]["seed"] == (sent if sent is not None else seed_for(key))


def test_a_reference_image_is_uploaded_under_our_name_and_fed_to_load_image(comfy, comfy_server, tmp_path):
    image = tmp_path / "evil name.png"
    Image.new("RGB", (768, 512), (10, 20, 30)).save(image)
    workflow = Workflow(graph=workflow_fixture("ltxv_i2v_api.json"), inputs=I2V_INPUTS, frames_rule="8n+1", fps=24)
    request = scene(model="ltxv-i2v", input_reference=image)

    job_id = comfy({"ltxv-i2v": workflow}).submit(request)

    upload = comfy_server.seen("POST", "/upload/image")[0]
    filename, content_type, data = upload.fields["image"]
    assert filename == f"studio-{request.idempotency_key}.png" and content_type == "image/png"
    assert Image.open(io.BytesIO(data)).size == (768, 512)
    assert upload.fields["overwrite"] == "true"
    assert comfy_server.created()[0]["10"]["inputs"]["image"] == filename
    assert wait_for(comfy({"ltxv-i2v": workflow}), job_id).status == "succeeded"


def test_an_image_workflow_without_a_reference_image_says_so(comfy):
    workflow = Workflow(graph=workflow_fixture("ltxv_i2v_api.json"), inputs=I2V_INPUTS)
    with pytest.raises(ProviderError, match="reference image") as caught:
        comfy({"ltxv-i2v": workflow}).submit(scene(model="ltxv-i2v"))
    assert caught.value.code == "invalid_request"


def test_a_bad_graph_is_refused_with_comfyuis_node_errors_in_words(comfy, comfy_server):
    graph = workflow_fixture()
    del graph["3"]["inputs"]["text"]
    broken = t2v(graph=graph, inputs={k: v for k, v in T2V_INPUTS.items() if k != "prompt"})

    with pytest.raises(ProviderError) as caught:
        comfy({"ltxv-t2v": broken}).submit(scene())

    assert caught.value.code == "invalid_request"
    assert "node 3 (CLIPTextEncode): Required input is missing: text" in caught.value.message
    assert "Prompt outputs failed validation" in caught.value.message
    assert comfy_server.created() == []


def test_a_missing_custom_node_is_named(comfy):
    graph = workflow_fixture()
    graph["9"]["class_type"] = "VHS_VideoCombineX"
    with pytest.raises(ProviderError, match=r"node VHS_VideoCombineX does not exist.*custom node installed"):
        comfy({"ltxv-t2v": t2v(graph=graph)}).submit(scene())


def test_a_size_below_the_nodes_minimum_is_refused_in_words(comfy):
    with pytest.raises(ProviderError, match=r"node 5 \(EmptyLTXVLatentVideo\): Value 32 smaller than min of 64"):
        comfy().submit(scene(size="32x512"))


def test_an_unknown_workflow_is_a_retired_or_unknown_model(comfy, comfy_server):
    with pytest.raises(ProviderError, match="unknown or retired") as caught:
        comfy().submit(scene(model="deleted-workflow"))
    assert caught.value.code == "model_unknown"
    assert comfy_server.seen("POST", "/prompt") == []


def test_a_proxy_in_front_wants_the_key_and_gets_it(comfy, comfy_server):
    comfy_server.api_key = "proxy-secret-123"
    with pytest.raises(ProviderError) as caught:
        comfy().submit(scene())
    assert caught.value.code == "auth"
    job_id = comfy(api_key="proxy-secret-123").submit(scene())
    assert wait_for(comfy(api_key="proxy-secret-123"), job_id).status == "succeeded"


def test_a_throttling_proxy_is_rate_limited_and_retried(comfy, comfy_server):
    comfy_server.prompt_replies = [(429, {"error": "slow down"})] * 5
    with pytest.raises(ProviderError) as caught:
        comfy().submit(scene())
    assert caught.value.code == "rate_limited" and caught.value.retryable


def test_a_server_error_on_create_is_never_sent_again_but_reported_as_maybe_created(comfy, comfy_server):
    # A 5xx may come after the server queued the prompt: a second create could run the job twice.
    # The pipeline looks the job up by the name we gave it (find_job) instead of resending.
    comfy_server.prompt_replies = [(500, {"error": "boom"})]
    with pytest.raises(ProviderError) as caught:
        comfy().submit(scene())
    assert caught.value.code == "timeout" and "may or may not have been created" in caught.value.message
    assert len(comfy_server.seen("POST", "/prompt")) == 1


def test_it_says_queued_while_another_job_holds_the_gpu_and_running_once_it_runs(comfy, comfy_server):
    provider = comfy()
    comfy_server.job_seconds = 0.6
    first = provider.submit(scene())
    second = provider.submit(scene())
    time.sleep(0.1)

    assert provider.poll(first).status == "running"
    assert provider.poll(second).status == "queued"
    assert wait_for(provider, second).status == "succeeded"


def test_a_failed_run_says_which_node_failed_and_why(comfy, comfy_server):
    comfy_server.outcome = "oom"
    provider = comfy()
    state = wait_for(provider, provider.submit(scene()))
    assert state.status == "failed"
    assert "node 7 (KSampler)" in str(state.error) and "ran out of memory" in str(state.error)


def test_cancel_deletes_a_pending_job_from_the_queue(comfy, comfy_server):
    provider = comfy()
    comfy_server.job_seconds = 0.5
    provider.submit(scene())
    waiting = provider.submit(scene())
    time.sleep(0.05)

    assert provider.cancel(waiting) is True
    assert comfy_server.seen("POST", "/queue")[0].json == {"delete": [waiting]}
    assert comfy_server.interrupts == []  # the job running for someone else was left alone
    assert provider.poll(waiting).status == "failed"  # gone: neither queued nor in the history


def test_cancel_interrupts_only_our_running_job(comfy, comfy_server):
    provider = comfy()
    comfy_server.job_seconds = 5
    job_id = provider.submit(scene())
    time.sleep(0.1)

    assert provider.cancel(job_id) is True
    assert comfy_server.interrupts == [job_id]
    assert wait_for(provider, job_id).status == "canceled"


def test_cancel_of_a_finished_job_is_a_no_op(comfy, comfy_server):
    provider = comfy()
    job_id = provider.submit(scene())
    wait_for(provider, job_id)
    assert provider.cancel(job_id) is False


def test_a_job_the_server_forgot_fails_in_words(comfy):
    state = comfy().poll(str(uuid.uuid4()))
    assert state.status == "failed" and "no longer knows this job" in str(state.error)


def test_a_result_deleted_from_the_output_folder_is_expired(comfy, comfy_server, tmp_path):
    provider = comfy()
    job_id = provider.submit(scene())
    wait_for(provider, job_id)
    comfy_server.files.clear()
    with pytest.raises(ProviderError) as caught:
        provider.download(job_id, "video", tmp_path / "video.mp4")
    assert caught.value.code == "expired" and not (tmp_path / "video.mp4").exists()


def test_a_workflow_that_saves_no_video_says_which_node_to_add(comfy, comfy_server, tmp_path):
    comfy_server.outcome = "no-video"
    provider = comfy()
    job_id = provider.submit(scene())
    wait_for(provider, job_id)
    with pytest.raises(ProviderError, match="saved no video") as caught:
        provider.download(job_id, "video", tmp_path / "video.mp4")
    assert caught.value.code == "bad_download"


def test_find_job_finds_our_job_by_the_name_we_gave_it(comfy, comfy_server):
    provider = comfy()
    request = scene()
    provider.submit(request)
    probe = {"model": "ltxv-t2v", "size": "768x512", "seconds": 4, "prompt": request.prompt,
             "created_after": datetime.now(UTC)}

    assert provider.find_job(JobProbe(**probe, idempotency_key=request.idempotency_key)) == request.idempotency_key
    assert provider.find_job(JobProbe(**probe, idempotency_key=str(uuid.uuid4()))) is None
    assert provider.facts.job_list_is_complete  # not found means never created


def test_test_connection_names_the_version_and_gpu(comfy):
    message = str(comfy().test_connection())
    assert "ComfyUI 0.3.68" in message and "RTX 4090" in message

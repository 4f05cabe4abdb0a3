"""Each adapter reads the models its provider publishes, in the catalog's terms, from a strict fake that
serves the listing as the provider publishes it: what a schema says is read, what it does not say stays
unknown, and what the studio cannot send is named, never guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from generation.providers.base import ProviderError, RenderRequest, Shot
from generation.providers.comfyui import ComfyUIProvider, Workflow
from generation.providers.fal import FalProvider
from generation.providers.http import make_client
from generation.providers.openai_videos import OpenAIVideosProvider
from generation.providers.replicate import ReplicateProvider
from generation.providers.runway import RunwayProvider
from generation.providers.schemas import mapped_input
from tests.fakes.comfyui_server import FIXTURES
from tests.fakes.fal_server import KLING_SHOT, PUBLISHED, STRING, VEO_PUBLISHED
from tests.fakes.provider_server import URI

LITE = "fal-ai/veo3.1/lite"
HD = ("1280x720", "720x1280", "1920x1080", "1080x1920")


def by_id(listing) -> dict:
    return {m.model_id: m for m in listing.models}


# --- fal: the model search, each endpoint's OpenAPI schema, the price list ---------------------------


@pytest.fixture
def fal(fal_server):
    return FalProvider(base_url=fal_server.url, api_key=fal_server.api_key, api_url=fal_server.api_url,
                       client=make_client(base_url=fal_server.url, headers={}, read=5.0), sleep=lambda s: None)


def publish_lite(fal_server, **changes):
    fal_server.published[LITE] = ("Veo 3.1 Lite", "text-to-video", "Veo31Lite", {**VEO_PUBLISHED, **changes})
    fal_server.prices[LITE] = (0.05, "second")


def test_it_reads_a_new_fal_endpoint_from_its_schema_with_fals_price(fal_server, fal):
    publish_lite(fal_server)

    lite = by_id(fal.list_models(known=("fal-ai/veo3.1",)))[LITE]

    assert (lite.display_name, lite.sizes, lite.durations) == ("Veo 3.1 Lite", HD, (4, 6, 8))
    assert (lite.input_kinds, lite.has_audio, lite.end_frame) == (("text",), True, False)
    assert lite.price_per_second == Decimal("0.05")
    assert lite.input_map == {"prompt": "prompt", "duration": {"field": "duration", "format": "seconds"},
                              "aspect_ratio": {"field": "aspect_ratio", "choices": ["9:16", "16:9", "1:1"]},
                              "resolution": {"field": "resolution", "choices": ["720p", "1080p"]},
                              "audio": "generate_audio"}
    assert lite.unmapped == ("1:1",)  # offered, but the studio cannot tell its pixel size
    assert lite.not_sent == ("auto_fix", "enhance_prompt", "negative_prompt", "seed")
    assert lite.blockers == ()


def test_it_pages_through_fals_search_and_finds_a_known_endpoint_outside_its_category(fal_server, fal):
    publish_lite(fal_server)  # seven text-to-video endpoints: four pages of two with their schemas

    listing = by_id(fal.list_models(known=("fal-ai/veo3.1", "fal-ai/veo3.1/image-to-video", "fal-ai/gone")))

    searches = fal_server.seen("GET", "/v1/models")
    assert [dict(r.query_items).get("cursor") for r in searches[:3]] == [None, "Mg==", "NA=="]
    assert [v for n, v in searches[-1].query_items if n == "endpoint_id"] == ["fal-ai/veo3.1/image-to-video",
                                                                             "fal-ai/gone"]
    assert "fal-ai/veo3.1/image-to-video" in listing  # still served, in another category
    assert "fal-ai/gone" not in listing  # fal no longer has it
    assert [v for n, v in fal_server.seen("GET", "/v1/models/pricing")[0].query_items] == [
        "fal-ai/veo3.1/fast", "bytedance/seedance-2.0/text-to-video", "fal-ai/kling-video/v3/pro/text-to-video",
        "wan/v2.6/text-to-video", "fal-ai/kling-video/v3/standard/text-to-video", LITE]


def test_a_known_fal_endpoint_says_its_lengths_sizes_and_shots_but_not_how_the_studio_sends_it(fal_server, fal):
    listing = by_id(fal.list_models(known=tuple(fal_server.published)))

    seedance = listing["bytedance/seedance-2.0/text-to-video"]
    assert seedance.sizes == ("1280x720", "720x1280")  # 480p or 720p only: fal renders no 1080p
    assert seedance.durations == tuple(range(4, 16))
    kling = listing["fal-ai/kling-video/v3/pro/text-to-video"]
    assert kling.sizes is None  # an aspect ratio, no resolution: its size is not said
    assert (kling.shot_timing, kling.shots_max, kling.shots_seconds_min, kling.shots_seconds_max,
            kling.shot_min_seconds) == ("exact", 6, 3, 15, 1)
    # Its frames go to sibling endpoints and its audio is what the adapter sends: not the schema's to say.
    assert (kling.input_kinds, kling.end_frame, kling.has_audio, kling.input_map) == (None, None, None, {})


def test_an_input_the_studio_cannot_fill_is_named_and_makes_the_model_one_it_cannot_add(fal_server, fal):
    fal_server.published["fal-ai/ltx-2/audio-to-video"] = ("LTX-2 audio to video", "text-to-video", "Ltx2Audio", {
        "prompt": (STRING, True), "audio_url": (STRING, True),
        "duration": ({"type": "integer"}, False)})  # an integer with no range: its lengths are not said

    ltx = by_id(fal.list_models())["fal-ai/ltx-2/audio-to-video"]

    assert ltx.blockers == (("required_input", "audio_url"),)
    assert ltx.durations is None and ltx.sizes is None
    assert ltx.price_per_second is None  # not on fal's price list: the owner gives one


def test_an_endpoint_fal_marks_deprecated_says_so(fal_server, fal):
    fal_server.deprecated.add("fal-ai/veo3.1/fast")
    assert by_id(fal.list_models(known=("fal-ai/veo3.1/fast",)))["fal-ai/veo3.1/fast"].deprecated


def test_a_wrong_fal_key_is_refused_even_by_the_search_that_needs_none(fal_server):
    publish_lite(fal_server)
    fal = FalProvider(base_url=fal_server.url, api_key="key-id:wrong", api_url=fal_server.api_url,
                      client=make_client(base_url=fal_server.url, headers={}, read=5.0), sleep=lambda s: None)
    with pytest.raises(ProviderError) as refused:
        fal.list_models()
    assert refused.value.code == "auth"  # a wrong key is refused even where none is needed


def test_a_new_fal_endpoint_is_booked_as_its_schema_says(fal_server, fal):
    publish_lite(fal_server)
    lite = by_id(fal.list_models())[LITE]

    job = fal.submit(RenderRequest(prompt="Mist over the harbour.", model=LITE, seconds=6, size="1080x1920",
                                   input_map=lite.input_map))

    sent = fal_server.seen("POST", "/" + LITE)[-1].json
    assert sent == {"prompt": "Mist over the harbour.", "duration": "6s", "aspect_ratio": "9:16",
                    "resolution": "1080p", "generate_audio": True}
    assert fal_server.accepted == 1 and job.split(" ")[0] in fal_server.jobs


KLING_STANDARD = "fal-ai/kling-video/v3/turbo/standard/text-to-video"
SHOTS = (Shot(prompt="Dawn on the quay.", seconds=2, start=0, scene_number=1),
         Shot(prompt="Boats leave.", seconds=1, start=2, scene_number=2),
         Shot(prompt="Gulls rise.", seconds=1, start=3, scene_number=3))


def publish_kling_standard(fal_server):
    """A Kling the adapter does not map by hand: its schema alone says it takes several shots."""
    _name, category, _schema, properties = PUBLISHED["fal-ai/kling-video/v3/pro/text-to-video"]
    fal_server.published[KLING_STANDARD] = ("Kling Video v3 Standard", category, "KlingVideoV3StandardTextToVideo",
                                            dict(properties))


def test_a_new_fal_endpoint_whose_schema_lists_shots_says_how_to_send_them(fal_server, fal):
    publish_kling_standard(fal_server)

    kling = by_id(fal.list_models())[KLING_STANDARD]

    assert (kling.shot_timing, kling.shots_max, kling.shots_seconds_min, kling.shots_seconds_max,
            kling.shot_min_seconds) == ("exact", 6, 3, 15, 1)
    assert kling.input_map["shots"] == {"field": "multi_prompt", "duration": "string", "seconds": list(range(1, 16)),
                                        "with_prompt": False, "type": {"field": "shot_type", "value": "customize"}}
    assert "multi_prompt" not in kling.not_sent and "shot_type" not in kling.not_sent


def test_a_new_fal_endpoint_whose_schema_lists_shots_is_booked_with_a_prompt_per_shot(fal_server, fal):
    publish_kling_standard(fal_server)
    kling = by_id(fal.list_models())[KLING_STANDARD]

    fal.submit(RenderRequest(prompt="Dawn. Boats. Gulls.", model=KLING_STANDARD, seconds=4, size="1920x1080",
                             shots=SHOTS, shot_timing="exact", input_map=kling.input_map))

    sent = fal_server.seen("POST", "/" + KLING_STANDARD)[-1].json
    assert sent == {"multi_prompt": [{"prompt": "Dawn on the quay.", "duration": "2"},
                                     {"prompt": "Boats leave.", "duration": "1"},
                                     {"prompt": "Gulls rise.", "duration": "1"}],
                    "shot_type": "customize", "duration": "4", "aspect_ratio": "16:9",
                    "generate_audio": True}  # and no prompt beside them: "either prompt or multi_prompt"
    assert fal_server.accepted == 1


def test_a_shot_the_schema_refuses_is_named_before_anything_is_sent(fal_server, fal):
    publish_kling_standard(fal_server)
    fal_server.published[KLING_STANDARD][3]["multi_prompt"] = (
        {"type": "array", "items": {**KLING_SHOT, "properties": {**KLING_SHOT["properties"], "prompt": {
            "type": "string", "maxLength": 12}}}, "maxItems": 6}, False)
    kling = by_id(fal.list_models())[KLING_STANDARD]

    problems = FalProvider.shot_problems(model_id=KLING_STANDARD, shots=list(SHOTS), input_map=kling.input_map)
    assert problems == ["Scene 1's prompt has 17 characters; a shot takes at most 12. Shorten it."]
    with pytest.raises(ProviderError, match="at most 12") as refused:
        fal.submit(RenderRequest(prompt="x", model=KLING_STANDARD, seconds=4, size="1920x1080", shots=SHOTS,
                                 shot_timing="exact", input_map=kling.input_map))
    assert refused.value.code == "invalid_request" and fal_server.accepted == 0


def test_a_new_fal_endpoint_whose_schema_lists_no_shots_refuses_a_shot_list(fal_server, fal):
    publish_lite(fal_server)
    lite = by_id(fal.list_models())[LITE]

    assert lite.shot_timing is None and "shots" not in lite.input_map  # the listing says nothing of shots
    assert FalProvider.shot_problems(model_id=LITE, shots=list(SHOTS), input_map=lite.input_map) == [
        "Its published schema lists no shots: choose a model that renders several shots."]
    with pytest.raises(ProviderError, match="takes no shot list"):
        fal.submit(RenderRequest(prompt="x", model=LITE, seconds=4, size="1280x720", shots=SHOTS,
                                 input_map=lite.input_map))
    assert fal_server.accepted == 0


def test_the_listing_goes_through_the_guarded_client(fal_server):
    fal = FalProvider(base_url=fal_server.url, api_key=fal_server.api_key, api_url="http://10.20.30.40/v1",
                      sleep=lambda s: None)
    with pytest.raises(ProviderError) as refused:
        fal.list_models()
    assert refused.value.code == "blocked_address"
    assert fal_server.requests == []


# --- Replicate: the text-to-video collection, each model's latest version's schema ---------------------


@pytest.fixture
def replicate(provider_server):
    return ReplicateProvider(api_key=provider_server.api_key, base_url=provider_server.replicate_base,
                             sleep=lambda s: None)


SEEDANCE = "bytedance/seedance-2-pro"


def publish_seedance(provider_server):
    provider_server.replicate_published[SEEDANCE] = ("Seedance 2 Pro", {
        "prompt": ({"type": "string"}, True),
        "image": ({**URI, "description": "First frame"}, False),
        "last_frame_image": ({**URI, "description": "Last frame, with image"}, False),
        "duration": ({"type": "integer", "minimum": 2, "maximum": 12, "default": 5}, False),
        "resolution": ({"type": "string", "enum": ["480p", "720p", "1080p"], "default": "1080p"}, False),
        "aspect_ratio": ({"type": "string", "enum": ["16:9", "4:3", "1:1", "9:16"], "default": "16:9"}, False),
        "camera_fixed": ({"type": "boolean", "default": False}, False)})
    provider_server.replicate_collection.append(SEEDANCE)


def test_it_reads_a_new_replicate_model_from_its_latest_versions_schema(provider_server, replicate):
    publish_seedance(provider_server)

    seedance = by_id(replicate.list_models(known=("google/veo-3.1",)))[SEEDANCE]

    assert seedance.sizes == HD and seedance.durations == tuple(range(2, 13))
    assert seedance.input_kinds == ("text", "image")
    assert seedance.end_frame is False  # "last_frame_image" is not a name the studio knows: it sends none
    assert seedance.not_sent == ("camera_fixed", "last_frame_image")
    assert seedance.unmapped == ("4:3", "1:1", "480p")
    assert seedance.price_per_second is None  # Replicate publishes no price per second
    assert seedance.input_map["duration"] == {"field": "duration", "format": "int"}


def test_a_known_replicate_model_left_out_of_the_collection_is_looked_up_and_one_deleted_is_gone(
        provider_server, replicate):
    provider_server.replicate_collection.remove("wan-video/wan-2.7-t2v")

    listing = by_id(replicate.list_models(known=("wan-video/wan-2.7-t2v", "old/model")))

    assert listing["wan-video/wan-2.7-t2v"].durations == tuple(range(2, 16))
    assert "old/model" not in listing
    assert [r.path for r in provider_server.requests] == ["/replicate/v1/collections/text-to-video",
                                                         "/replicate/v1/models/wan-video/wan-2.7-t2v",
                                                         "/replicate/v1/models/old/model"]


def test_a_new_replicate_model_is_booked_as_its_schema_says(provider_server, replicate, tmp_path):
    publish_seedance(provider_server)
    seedance = by_id(replicate.list_models())[SEEDANCE]
    frame = tmp_path / "start.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\nstart")

    replicate.submit(RenderRequest(prompt="Boats.", model=SEEDANCE, seconds=5, size="1280x720",
                                   input_reference=frame, input_map=seedance.input_map))

    sent = provider_server.seen("POST", f"/replicate/v1/models/{SEEDANCE}/predictions")[-1].json["input"]
    assert {k: v for k, v in sent.items() if k != "image"} == {"prompt": "Boats.", "duration": 5,
                                                               "aspect_ratio": "16:9", "resolution": "720p"}
    assert sent["image"].startswith("data:image/png;base64,")


def test_a_replicate_model_the_adapter_maps_by_hand_takes_no_shot_list(provider_server, replicate):
    assert ReplicateProvider.shot_problems(model_id="google/veo-3.1", shots=list(SHOTS)) == [
        "Replicate's google/veo-3.1 takes no shot list: choose a model that renders several shots."]
    with pytest.raises(ProviderError, match="takes no shot list"):
        replicate.submit(RenderRequest(prompt="x", model="google/veo-3.1", seconds=4, size="1280x720", shots=SHOTS))
    assert provider_server.seen("POST", "/replicate/v1/models/google/veo-3.1/predictions") == []


def test_an_end_frame_the_schema_gives_no_input_for_is_refused_before_anything_is_sent(tmp_path):
    frame = tmp_path / "end.png"
    frame.write_bytes(b"\x89PNG")
    with pytest.raises(ProviderError, match="takes no end frame"):
        mapped_input(RenderRequest(prompt="x", model="m/n", seconds=4, size="1280x720", input_reference=frame,
                                   end_frame=frame), {"prompt": "prompt", "image": "image"})


# --- an OpenAI-format gateway: GET /models, and LiteLLM's /model/info ---------------------------------


@pytest.fixture
def gateway(provider_server):
    return OpenAIVideosProvider(base_url=provider_server.openai_base, api_key=provider_server.api_key,
                                sleep=lambda s: None)


def test_a_plain_gateway_list_gives_names_only_left_for_the_owner(provider_server, gateway):
    provider_server.openai_listed = ["veo-3.1", "gpt-4o", "wan-2.7"]

    listing = gateway.list_models(known=("veo-3.1", "sora-2"))

    assert [m.model_id for m in listing.models] == ["veo-3.1"]  # sora-2: no longer served
    assert listing.unlisted == ("gpt-4o", "wan-2.7")  # a name says nothing of what it renders
    assert provider_server.seen("GET", "/openai/v1/model/info")  # asked, and the gateway has none


def test_a_litellm_gateway_says_which_models_make_video_and_what_a_second_costs(provider_server, gateway):
    provider_server.openai_listed = ["veo-3.1", "gpt-4o", "seedance-2"]
    provider_server.litellm_info = [
        {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"},
         "model_info": {"id": "a1", "db_model": False, "mode": "chat", "input_cost_per_token": 2.5e-06}},
        {"model_name": "seedance-2", "litellm_params": {"model": "volcengine/doubao-seedance-2-0"},
         "model_info": {"id": "b2", "db_model": False, "mode": "video_generation", "output_cost_per_second": 0.12}},
        {"model_name": "veo-3.1", "litellm_params": {"model": "gemini/veo-3.1-generate-preview"},
         "model_info": {"id": "c3", "db_model": False, "mode": "video_generation"}},
    ]

    listing = by_id(gateway.list_models(known=("veo-3.1",)))

    assert set(listing) == {"veo-3.1", "seedance-2"}  # the chat model is not a video model
    assert listing["seedance-2"].price_per_second == Decimal("0.12")
    assert listing["seedance-2"].sizes is None and listing["seedance-2"].durations is None  # not said


# --- Runway: the list shipped with the adapter -------------------------------------------------------


def test_runways_shipped_list_says_what_its_request_types_define():
    listing = by_id(RunwayProvider.list_models(None))

    veo = listing["veo3.1_fast"]
    assert (veo.sizes, veo.durations, veo.input_kinds, veo.end_frame) == (
        ("1280x720", "720x1280", "1080x1920", "1920x1080"), (4, 6, 8), ("text", "image"), True)
    assert listing["gen4_turbo"].input_kinds == ("image",)
    assert listing["kling3.0_pro"].durations is None  # the types give no lengths: the owner is asked
    # Aspect ratios ("16:9") are not sizes the studio can send as Runway's ratio.
    assert listing["hailuo3"].blockers == (("ratio_format", "adaptive, 21:9, 16:9, 4:3, 1:1, 3:4, 9:16"),)
    # The multi-shot recipe is listed too (so a check never takes it for gone), with the shots its params define.
    recipe = listing["multi_shot_video"]
    assert (recipe.durations, recipe.input_kinds, recipe.shot_timing, recipe.shots_max, recipe.shot_min_seconds) == (
        (5, 10, 15), ("text", "image"), "exact", 5, 1)
    assert recipe.sizes is None  # its ratios' tiers are priced by the catalog: the listing does not say


# --- ComfyUI: a workflow's nodes and model files, against what the server has installed ---------------


@pytest.fixture
def comfy(comfy_server):
    import json

    graph = json.loads((FIXTURES / "ltxv_t2v_api.json").read_text())
    workflow = Workflow(graph=graph, inputs={"prompt": ["3", "text"]})
    return ComfyUIProvider(base_url=comfy_server.url, workflows=lambda m: workflow if m == "ltx" else None,
                           sleep=lambda s: None)


def test_a_workflow_whose_nodes_and_files_are_installed_is_listed(comfy_server, comfy):
    listing = comfy.list_models(known=("ltx",))
    assert [m.model_id for m in listing.models] == ["ltx"] and listing.reasons == {}
    assert {r.path for r in comfy_server.requests} >= {"/object_info/CheckpointLoaderSimple",
                                                       "/object_info/VHS_VideoCombine"}


def test_a_workflow_is_gone_when_its_node_or_model_file_is_no_longer_installed(comfy_server, comfy):
    comfy_server.installed.discard("VHS_VideoCombine")
    assert comfy.list_models(known=("ltx",)).reasons == {
        "ltx": "node 9 (VHS_VideoCombine) is not installed on ComfyUI"}

    comfy_server.installed.add("VHS_VideoCombine")
    comfy_server.choices[("CheckpointLoaderSimple", "ckpt_name")].remove("ltx-video-2b-v0.9.5.safetensors")
    listing = comfy.list_models(known=("ltx",))
    assert listing.models == ()
    assert listing.reasons["ltx"] == ("node 1 (CheckpointLoaderSimple): ltx-video-2b-v0.9.5.safetensors is not "
                                      "among its ckpt_name files on ComfyUI")

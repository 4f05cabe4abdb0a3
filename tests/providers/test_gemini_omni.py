"""Gemini Omni Flash on the Gemini API connection, against a local server pair speaking the Interactions API
as the google-genai SDK's types define it."""

from __future__ import annotations

import base64
import os
import tracemalloc

import pytest

from generation.providers.base import ProviderError, RenderRequest
from generation.providers.http import make_client
from generation.providers.veo import VeoProvider
from tests.fakes.interactions_server import DECLINED, FAILURE
from tests.providers.helpers import poll_until_done

OMNI = "gemini-omni-1.2-flash"
PROMPT = "A lighthouse keeper climbs the stairs at dusk, lamp in hand."


def take(**changes) -> RenderRequest:
    return RenderRequest(**{"prompt": PROMPT, "model": OMNI, "seconds": 8, "size": "1280x720", **changes})


@pytest.fixture
def omni(interactions_server):
    def make(*, api_key=None):
        return VeoProvider(base_url=interactions_server.url, api_key=api_key or interactions_server.api_key,
                           client=make_client(base_url=interactions_server.url, headers={}), sleep=lambda s: None)

    return make


def image(tmp_path, name="frame.png", content=b"\x89PNG\r\n\x1a\n a frame"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_it_renders_an_omni_video_from_background_interaction_to_download(interactions_server, omni, tmp_path):
    provider = omni()

    job_id = provider.submit(take())
    states = poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert job_id.startswith("interactions/v1_omni")
    assert [s.status for s in states] == ["queued", "running", "succeeded"]
    assert (tmp_path / "video.mp4").read_bytes() == interactions_server.video
    assert interactions_server.accepted == {"success": 1}  # one create for one take
    assert list(tmp_path.iterdir()) == [tmp_path / "video.mp4"]  # no part file left behind


def test_it_sends_exactly_a_background_create_model_interaction(interactions_server, omni):
    omni().submit(take(seconds=6, size="720x1280"))

    assert interactions_server.seen("POST", "/v1beta/interactions")[0].json == {
        "model": OMNI, "input": PROMPT, "background": True,
        "generation_config": {"video_config": {"task": "text_to_video"}},
        "response_format": {"type": "video", "aspect_ratio": "9:16", "resolution": "720p", "duration": "6s"},
    }
    assert interactions_server.seen("POST", r"/v1beta/models/.*") == []  # not Veo's predictLongRunning


def test_a_start_frame_goes_inline_beside_the_prompt_and_its_bytes_are_not_taken_for_the_video(
        interactions_server, omni, tmp_path):
    provider = omni()
    frame = image(tmp_path)

    job_id = provider.submit(take(input_reference=frame))
    poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    sent = interactions_server.seen("POST", "/v1beta/interactions")[0].json
    assert sent["input"] == [{"type": "text", "text": PROMPT},
                             {"type": "image", "data": base64.b64encode(frame.read_bytes()).decode(),
                              "mime_type": "image/png"}]
    assert sent["generation_config"] == {"video_config": {"task": "image_to_video"}}
    # The answer echoes the start frame's base64 in its user_input step, before the video's.
    assert (tmp_path / "video.mp4").read_bytes() == interactions_server.video


@pytest.mark.parametrize("changes, words", [
    ({"size": "1024x1024"}, "not 1024x1024"),
    ({"seconds": 20}, "3 to 15 seconds, not 20"),
    ({"end_frame": "end.png"}, "no end frame"),
    ({"character_images": ("cast.png",)}, "no likeness references"),
])
def test_it_refuses_what_omni_cannot_carry_without_sending(interactions_server, omni, changes, words):
    with pytest.raises(ProviderError) as refused:
        omni().submit(take(**changes))

    assert refused.value.code == "invalid_request" and words in refused.value.message
    assert interactions_server.requests == []


def test_the_fake_refuses_a_field_the_interactions_types_do_not_define(interactions_server):
    import httpx

    response = httpx.post(f"{interactions_server.url}/v1beta/interactions",
                          headers={"x-goog-api-key": interactions_server.api_key},
                          json={"model": OMNI, "input": PROMPT, "background": True,
                                "response_format": {"type": "video", "fps": 24}})

    assert response.status_code == 400 and 'Unknown name "fps"' in response.json()["error"]["message"]


def test_a_failed_interaction_carries_googles_reason(interactions_server, omni):
    interactions_server.scenario = "failed"
    provider = omni()

    final = poll_until_done(provider, provider.submit(take()))[-1]

    assert final.status == "failed" and str(final.error) == f"Google could not make the video: {FAILURE}"
    # Google says a refused Veo video is free, not an Omni one: no code that would give the estimate back.
    assert final.error_code == ""


def test_an_interaction_that_ends_in_words_instead_of_a_video_says_what_the_model_answered(interactions_server, omni):
    interactions_server.scenario = "declined"
    provider = omni()

    final = poll_until_done(provider, provider.submit(take()))[-1]

    assert final.status == "failed" and DECLINED in str(final.error) and final.error_code == ""


def test_an_incomplete_interaction_fails_the_take_in_plain_words(interactions_server, omni):
    interactions_server.scenario = "incomplete"
    provider = omni()

    final = poll_until_done(provider, provider.submit(take()))[-1]

    assert final.status == "failed" and "incomplete" in str(final.error)


def test_an_interaction_google_forgot_fails_the_job(interactions_server, omni):
    interactions_server.scenario = "gone"
    provider = omni()

    state = provider.poll(provider.submit(take()))

    assert state.status == "failed" and "no longer knows this interaction" in str(state.error)


def test_an_unknown_omni_model_is_retired_or_unknown_without_pointing_at_vertex(interactions_server, omni):
    with pytest.raises(ProviderError) as refused:
        omni().submit(take(model="gemini-omni-0.9-flash"))

    assert refused.value.code == "model_unknown"
    assert "retired or unknown" in refused.value.message and "Vertex" not in refused.value.message


def test_a_wrong_key_is_an_authentication_error(interactions_server, omni):
    with pytest.raises(ProviderError) as refused:
        omni(api_key="AIzaSy-wrong").submit(take())

    assert refused.value.code == "auth" and "AIzaSy-wrong" not in refused.value.message


def test_a_video_delivered_as_a_uri_is_read_with_the_key_which_never_reaches_the_storage(
        interactions_server, omni, tmp_path):
    interactions_server.scenario = "uri"
    provider = omni()

    job_id = provider.submit(take())
    assert poll_until_done(provider, job_id)[-1].status == "succeeded"
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert (tmp_path / "video.mp4").read_bytes() == interactions_server.video
    assert interactions_server.seen("GET", r"/v1beta/files/.*:download")[0].headers["x-goog-api-key"]
    assert interactions_server.storage_requests
    assert all("x-goog-api-key" not in r.headers for r in interactions_server.storage_requests)


def test_the_inline_video_is_decoded_as_it_streams_never_held_whole(interactions_server, omni, tmp_path):
    interactions_server.video = os.urandom(12 * 1024 * 1024)  # 16 MiB of base64 in one JSON string
    provider = omni()
    job_id = provider.submit(take())
    poll_until_done(provider, job_id)  # the fake encodes its answer once, before we measure

    tracemalloc.start()
    try:
        provider.download(job_id, "video", tmp_path / "video.mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (tmp_path / "video.mp4").read_bytes() == interactions_server.video
    assert peak < 6 * 1024 * 1024  # a few 1 MiB reads, not the answer (16 MiB) nor the video (12 MiB)


def test_every_interaction_call_goes_through_the_outbound_guard(interactions_server, omni, settings):
    job_id = omni().submit(take())
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = []
    calls = len(interactions_server.requests)

    with pytest.raises(ProviderError) as refused:
        omni().poll(job_id)  # a fresh client, as every task builds: its connection is checked

    assert refused.value.code == "blocked_address" and "loopback" in refused.value.message
    assert len(interactions_server.requests) == calls


def test_an_omni_take_is_never_cancelled_at_google_and_the_facts_say_so(interactions_server, omni):
    provider = omni()
    job_id = provider.submit(take())

    assert provider.facts.cancels is False and provider.cancel(job_id) is False
    assert interactions_server.seen("POST", r"/v1beta/interactions/.*/cancel") == []

"""Kling 3.0 on fal as a family: Pro and Standard, from text or from a start frame, with or without audio, each
request checked by the strict fake against the fields fal's client types define for that endpoint."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from generation.providers.base import CharacterSet, JobProbe, ProviderError, RenderRequest, Shot
from generation.providers.fal import FalProvider
from generation.providers.http import make_client

PRO, STANDARD = "fal-ai/kling-video/v3/pro/text-to-video", "fal-ai/kling-video/v3/standard/text-to-video"
PRO_IMAGE, STANDARD_IMAGE = "fal-ai/kling-video/v3/pro/image-to-video", "fal-ai/kling-video/v3/standard/image-to-video"


@pytest.fixture
def fal(fal_server):
    return FalProvider(base_url=fal_server.url, api_key=fal_server.api_key, api_url=fal_server.api_url,
                       client=make_client(base_url=fal_server.url, headers={}, read=5.0), sleep=lambda s: None)


@pytest.fixture
def start(tmp_path):
    path = tmp_path / "reference.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n start")
    return path


@pytest.fixture
def end(tmp_path):
    path = tmp_path / "end.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n end")
    return path


def kling(model=PRO, **changes) -> RenderRequest:
    fields = dict(prompt="A harbour at dawn, mist on the water.", model=model, seconds=5, size="1920x1080",
                  generate_audio=True)
    return RenderRequest(**{**fields, **changes})


def uri(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def post(fal_server, endpoint, body):
    return httpx.post(f"{fal_server.url}/{endpoint}", headers={"Authorization": f"Key {fal_server.api_key}"},
                      json=body)


@pytest.mark.parametrize("model", [PRO, STANDARD])
def test_a_text_take_goes_to_the_tiers_text_to_video_endpoint_with_audio_as_booked(fal_server, fal, model):
    fal.submit(kling(model, size="1080x1920"))

    (create,) = fal_server.seen("POST", "/" + model)
    assert create.json == {"prompt": "A harbour at dawn, mist on the water.", "duration": "5", "aspect_ratio": "9:16",
                           "generate_audio": True}


def test_a_silent_booking_asks_fal_for_no_audio(fal_server, fal):
    fal.submit(kling(STANDARD, generate_audio=False))
    assert fal_server.seen("POST", "/" + STANDARD)[0].json["generate_audio"] is False


@pytest.mark.parametrize("model, endpoint", [(PRO, PRO_IMAGE), (STANDARD, STANDARD_IMAGE)])
def test_a_start_frame_goes_to_the_image_to_video_sibling_as_start_image_url_without_a_ratio(
        fal_server, fal, start, model, endpoint):
    fal.submit(kling(model, input_reference=start))

    (create,) = fal_server.seen("POST", "/" + endpoint)
    assert create.json == {"prompt": "A harbour at dawn, mist on the water.", "duration": "5",
                           "start_image_url": uri(start), "generate_audio": True}
    assert fal_server.seen("POST", "/" + model) == []


def test_the_frame_to_end_on_goes_as_end_image_url_beside_the_start_frame(fal_server, fal, start, end):
    fal.submit(kling(input_reference=start, end_frame=end))

    (create,) = fal_server.seen("POST", "/" + PRO_IMAGE)
    assert (create.json["start_image_url"], create.json["end_image_url"]) == (uri(start), uri(end))


def test_an_end_frame_without_a_start_frame_is_refused_before_anything_is_sent(fal_server, fal, end):
    with pytest.raises(ProviderError) as refused:
        fal.submit(kling(end_frame=end))
    assert refused.value.code == "invalid_request" and "start" in refused.value.message
    assert fal_server.requests == []


def test_several_shots_from_a_start_frame_go_as_multi_prompt_on_the_image_endpoint(fal_server, fal, start):
    shots = (Shot(prompt="Dawn on the quay.", seconds=3, start=0), Shot(prompt="Boats leave.", seconds=2, start=3))
    fal.submit(kling(STANDARD, input_reference=start, shots=shots))

    sent = fal_server.seen("POST", "/" + STANDARD_IMAGE)[0].json
    assert sent["multi_prompt"] == [{"prompt": "Dawn on the quay.", "duration": "3"},
                                    {"prompt": "Boats leave.", "duration": "2"}]
    assert sent["shot_type"] == "customize" and "prompt" not in sent and sent["start_image_url"] == uri(start)


def test_a_prompt_over_2500_characters_is_refused_before_anything_is_sent(fal_server, fal):
    prompt = "A gull circles the harbour. " * 90  # 2,520 characters

    assert FalProvider.prompt_problems(model_id=STANDARD, prompt=prompt) == [
        "Kling 3.0 on fal takes a prompt of at most 2,500 characters; this one has 2,520 (with the cast's "
        "descriptions, if any). Shorten the prompt."]
    assert FalProvider.prompt_problems(model_id=STANDARD, prompt=prompt[:2500]) == []
    with pytest.raises(ProviderError) as refused:
        fal.submit(kling(STANDARD, prompt=prompt))
    assert refused.value.code == "invalid_request"
    assert fal_server.requests == []


# --- the fake holds fal's schema for each endpoint ------------------------------------------------

@pytest.mark.parametrize("endpoint, body, field", [
    (PRO_IMAGE, {"prompt": "x", "start_image_url": "https://a/b.png", "aspect_ratio": "16:9"}, "aspect_ratio"),
    (PRO_IMAGE, {"prompt": "x", "image_url": "https://a/b.png"}, "image_url"),
    (STANDARD, {"prompt": "x", "elements": [{"frontal_image_url": "https://a/f.png",
                                             "reference_image_urls": ["https://a/r.png"]}]}, "elements"),
    (STANDARD, {"prompt": "x", "tail_image_url": "https://a/b.png"}, "tail_image_url"),
    (STANDARD, {"prompt": "x" * 2501}, "prompt"),
    (STANDARD_IMAGE, {"prompt": "x"}, "start_image_url"),
    (STANDARD_IMAGE, {"prompt": "x", "start_image_url": "https://a/b.png",
                      "elements": [{"frontal_image_url": "https://a/f.png"}]}, "elements"),
])
def test_the_fake_refuses_what_fals_schema_does_not_define_for_the_endpoint(fal_server, endpoint, body, field):
    answer = post(fal_server, endpoint, body)
    assert answer.status_code == 422
    assert ["body", field] in [problem["loc"] for problem in answer.json()["detail"]]


def test_the_fake_takes_an_image_set_element_on_the_image_endpoint(fal_server):
    answer = post(fal_server, STANDARD_IMAGE, {"prompt": "@Element1 walks the quay.",
                                               "start_image_url": "https://a/b.png",
                                               "elements": [{"frontal_image_url": "https://a/f.png",
                                                             "reference_image_urls": ["https://a/r.png"]}]})
    assert answer.status_code == 200, answer.text


# --- elements: reusable characters, on the image-to-video endpoint only -----------------------------

@pytest.fixture
def anna(tmp_path):
    views = []
    for name in ("front", "left", "right"):
        path = tmp_path / f"anna-{name}.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n " + name.encode())
        views.append(path)
    return CharacterSet(name="Anna", images=tuple(views))


def test_the_cast_goes_as_elements_beside_a_start_frame_and_is_named_in_the_prompt(fal_server, fal, start, anna):
    fal.submit(kling(input_reference=start, character_sets=(anna,)))

    sent = fal_server.seen("POST", "/" + PRO_IMAGE)[0].json
    assert sent["elements"] == [{"frontal_image_url": uri(anna.images[0]),
                                 "reference_image_urls": [uri(anna.images[1]), uri(anna.images[2])]}]
    assert sent["prompt"] == "A harbour at dawn, mist on the water.\n@Element1 is Anna."


def test_from_text_alone_no_elements_are_sent_as_the_text_endpoint_defines_none(fal_server, fal, anna):
    fal.submit(kling(character_sets=(anna,)))
    assert "elements" not in fal_server.seen("POST", "/" + PRO)[0].json


def test_a_cast_member_with_a_single_view_is_refused_before_anything_is_sent(fal_server, fal, start, anna):
    with pytest.raises(ProviderError) as refused:
        fal.submit(kling(input_reference=start, character_sets=(CharacterSet("Anna", anna.images[:1]),)))
    assert "Anna" in refused.value.message and fal_server.requests == []


def test_likeness_images_for_a_model_fal_sends_none_for_are_refused_not_dropped(fal_server, fal, anna):
    with pytest.raises(ProviderError):
        fal.submit(RenderRequest(prompt="x", model="fal-ai/veo3.1", seconds=8, size="1280x720",
                                 character_images=anna.images[:1]))
    assert fal_server.requests == []


def test_a_lost_kling_take_with_frames_and_elements_is_found_on_its_image_endpoint(fal_server, fal, start, end, anna):
    fal_server.job_seconds = 0.0  # fal lists a request once it has ended
    request = kling(STANDARD, input_reference=start, end_frame=end, character_sets=(anna,))
    sent = fal.submit(request)

    found = fal.find_job(JobProbe(model=STANDARD, size=request.size, seconds=5, prompt=request.prompt,
                                  created_after=datetime.now(UTC) - timedelta(minutes=1), request=request))

    assert found == sent  # the same body built again: one request, one charge
    assert fal_server.seen("GET", "/v1/models/requests/by-endpoint")[0].query["endpoint_id"] == STANDARD_IMAGE
    request_id = found.split(" ")[0]
    assert found == f"{request_id} /fal-ai/kling-video/requests/{request_id}"  # tracked on the app's root

"""The Google Veo adapter against a local server pair speaking the Gemini API's wire format."""

from __future__ import annotations

import base64

import httpx
import pytest

from generation.providers.base import ProviderError, RenderRequest
from generation.providers.http import UNCERTAIN, make_client
from generation.providers.veo import VeoProvider
from tests.fakes.veo_server import RAI_REASON
from tests.providers.helpers import poll_until_done

CREATE = r"/v1beta/models/veo-3\.1-generate-preview:predictLongRunning"
PROMPT = "A harbour at dawn, mist on the water."


def scene(**changes) -> RenderRequest:
    fields = {"prompt": PROMPT, "model": "veo-3.1-generate-preview", "seconds": 8, "size": "1280x720"}
    return RenderRequest(**{**fields, **changes})


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def veo(veo_server, sleeps):
    def make(*, api_key=None, read=5.0):
        return VeoProvider(
            base_url=veo_server.url, api_key=api_key or veo_server.api_key,
            client=make_client(base_url=veo_server.url, headers={}, read=read), sleep=sleeps.append,
        )

    return make


def image(tmp_path, name, content=b"\x89PNG\r\n\x1a\n a frame"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_it_renders_a_video_from_submit_to_download(veo_server, veo, tmp_path):
    provider = veo()

    job_id = provider.submit(scene())
    states = poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert job_id.startswith("models/veo-3.1-generate-preview/operations/")
    assert [s.status for s in states] == ["running", "running", "succeeded"]
    assert (tmp_path / "video.mp4").read_bytes() == veo_server.video
    assert veo_server.accepted == {"success": 1}


def test_it_sends_exactly_the_body_google_defines(veo_server, veo):
    veo().submit(scene(seconds=6, size="720x1280"))

    (create,) = veo_server.seen("POST", CREATE)
    assert create.headers["x-goog-api-key"] == veo_server.api_key
    assert "authorization" not in create.headers
    assert create.json == {
        "instances": [{"prompt": PROMPT}],
        "parameters": {"durationSeconds": 6, "aspectRatio": "9:16", "resolution": "720p"},
    }


def test_it_asks_for_1080p_at_eight_seconds(veo_server, veo):
    veo().submit(scene(size="1920x1080"))

    (create,) = veo_server.seen("POST", CREATE)
    assert create.json["parameters"] == {"durationSeconds": 8, "aspectRatio": "16:9", "resolution": "1080p"}


def test_it_refuses_1080p_shorter_than_eight_seconds_without_sending(veo_server, veo):
    with pytest.raises(ProviderError) as refused:
        veo().submit(scene(size="1080x1920", seconds=4))

    assert refused.value.code == "invalid_request"
    assert "1080p only at 8 seconds" in refused.value.message
    assert veo_server.requests == []


def test_it_sends_the_scene_image_as_the_start_frame_inline(veo_server, veo, tmp_path):
    frame = image(tmp_path, "reference.png")

    veo().submit(scene(input_reference=frame, seconds=4))

    (create,) = veo_server.seen("POST", CREATE)
    assert create.json["instances"][0]["image"] == {
        "bytesBase64Encoded": base64.b64encode(frame.read_bytes()).decode(), "mimeType": "image/png"}


def test_it_sends_at_most_three_cast_images_as_asset_references(veo_server, veo, tmp_path):
    cast = tuple(image(tmp_path, f"character-{i}.jpg", b"\xff\xd8\xff\xe0 face %d" % i) for i in range(4))

    veo().submit(scene(character_images=cast))

    (create,) = veo_server.seen("POST", CREATE)
    references = create.json["instances"][0]["referenceImages"]
    assert [r["referenceType"] for r in references] == ["ASSET"] * 3
    assert references[0]["image"] == {"bytesBase64Encoded": base64.b64encode(cast[0].read_bytes()).decode(),
                                      "mimeType": "image/jpeg"}


def test_with_a_start_frame_the_cast_is_not_sent_as_references(veo_server, veo, tmp_path):
    veo().submit(scene(input_reference=image(tmp_path, "reference.png"),
                       character_images=(image(tmp_path, "character-0.png"),)))

    (create,) = veo_server.seen("POST", CREATE)
    assert "referenceImages" not in create.json["instances"][0]
    assert veo_server.accepted == {"success": 1}


def test_it_refuses_cast_references_in_a_short_or_portrait_take(veo_server, veo, tmp_path):
    cast = (image(tmp_path, "character-0.png"),)

    with pytest.raises(ProviderError) as short:
        veo().submit(scene(character_images=cast, seconds=4))
    with pytest.raises(ProviderError) as portrait:
        veo().submit(scene(character_images=cast, size="720x1280"))

    assert "only in 8-second takes" in short.value.message
    assert "only in landscape (16:9)" in portrait.value.message
    assert veo_server.requests == []


def test_the_fake_refuses_a_field_google_does_not_define(veo_server):
    response = httpx.post(f"{veo_server.url}/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                          headers={"x-goog-api-key": veo_server.api_key},
                          json={"instances": [{"prompt": "x"}], "parameters": {"seed_value": 1}})

    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert 'Unknown name "seed_value"' in response.json()["error"]["message"]


def test_googles_own_refusal_is_passed_on_in_its_words(veo_server, veo, tmp_path):
    # Lite takes no likeness references; the catalog never asks, but if a caller did, Google says why.
    with pytest.raises(ProviderError) as refused:
        veo().submit(scene(model="veo-3.1-lite-generate-preview",
                           character_images=(image(tmp_path, "character-0.png"),)))

    assert refused.value.code == "invalid_request"
    assert "referenceImages isn't supported by this model" in refused.value.message
    assert veo_server.accepted == {}


def test_a_retired_or_unknown_model_says_so(veo_server, veo):
    with pytest.raises(ProviderError) as refused:
        veo().submit(scene(model="veo-2.9-imaginary"))

    assert refused.value.code == "model_unknown"
    assert "retired or unknown" in refused.value.message
    assert "add a Google Vertex AI connection under Providers" in refused.value.message
    assert veo_server.accepted == {}


@pytest.mark.parametrize("scenario, said", [
    ("method-moved", "only supported in Gemini Enterprise Agent Platform mode"),
    ("method-gone", "Method not found."),
])
def test_google_refusing_the_method_itself_says_veo_moved_and_names_the_vertex_connection(
        veo_server, veo, scenario, said):
    veo_server.scenario = scenario

    with pytest.raises(ProviderError) as refused:
        veo().submit(scene())

    assert refused.value.code == "model_unknown"
    assert refused.value.message.startswith("Google no longer takes Veo video jobs through the Gemini API")
    assert said in refused.value.message
    assert "add a Google Vertex AI connection under Providers" in refused.value.message
    assert veo_server.accepted == {}


def test_a_malformed_model_id_is_refused_without_asking(veo_server, veo):
    with pytest.raises(ProviderError) as refused:
        veo().submit(scene(model="../files/x"))

    assert refused.value.code == "model_unknown"
    assert veo_server.requests == []


def test_a_wrong_key_is_an_authentication_error_that_does_not_repeat_it(veo_server, veo):
    with pytest.raises(ProviderError) as refused:
        veo(api_key="AIzaSy-wrong-key-999").submit(scene())

    assert refused.value.code == "auth"
    assert "Google rejected the API key" in refused.value.message
    assert "AIzaSy-wrong-key-999" not in refused.value.message


def test_a_throttle_is_waited_out_as_google_asks_and_the_take_submitted_once(veo_server, veo, sleeps):
    veo_server.scenario = "throttled"

    veo().submit(scene())

    assert sleeps == [2.0]  # RetryInfo's retryDelay
    assert veo_server.accepted == {"throttled": 1}
    assert len(veo_server.seen("POST", CREATE)) == 2


def test_a_throttle_that_does_not_lift_is_rate_limited_and_retryable(veo_server, veo, sleeps):
    veo_server.scenario = "throttled-always"

    with pytest.raises(ProviderError) as refused:
        veo().submit(scene())

    assert refused.value.code == "rate_limited" and refused.value.retryable
    assert sleeps == [2.0, 2.0, 2.0]
    assert veo_server.accepted == {}


def test_a_throttled_poll_is_handed_back_to_be_rescheduled_not_waited_out(veo_server, veo, sleeps):
    veo_server.scenario = "throttled-poll"
    provider = veo()
    job_id = provider.submit(scene())

    with pytest.raises(ProviderError) as throttled:
        provider.poll(job_id)

    assert throttled.value.code == "rate_limited" and throttled.value.retryable
    assert throttled.value.retry_after == 2.0 and sleeps == []
    assert poll_until_done(provider, job_id)[-1].status == "succeeded"


def test_an_exhausted_daily_quota_is_reported_without_retrying(veo_server, veo, sleeps):
    veo_server.scenario = "quota"

    with pytest.raises(ProviderError) as refused:
        veo().submit(scene())

    assert refused.value.code == "quota" and not refused.value.retryable
    assert sleeps == [] and len(veo_server.seen("POST", CREATE)) == 1


def test_a_server_error_on_create_is_not_sent_again_but_reported_as_maybe_created(veo_server, veo, sleeps):
    # Google may have started the operation before failing: a second create could bill twice.
    veo_server.scenario = "server-error"

    with pytest.raises(ProviderError) as refused:
        veo().submit(scene())

    assert refused.value.code == "timeout" and "may or may not have been created" in refused.value.message
    assert len(veo_server.seen("POST", CREATE)) == 1


def test_a_create_whose_answer_timed_out_is_not_sent_again(veo_server, veo, sleeps):
    veo_server.scenario = "slow-create"

    with pytest.raises(ProviderError) as lost:
        veo(read=0.3).submit(scene())

    assert lost.value.code == "timeout" and lost.value.message == str(UNCERTAIN)
    assert veo_server.accepted == {"slow-create": 1}
    assert len(veo_server.seen("POST", CREATE)) == 1


def test_a_safety_filtered_video_fails_in_plain_words(veo_server, veo):
    veo_server.scenario = "rai-filtered"
    provider = veo()

    states = poll_until_done(provider, provider.submit(scene()))

    assert states[-1].status == "failed"
    assert str(states[-1].error).startswith("Refused by Google's safety filters")
    assert RAI_REASON in str(states[-1].error)
    assert states[-1].error_code == "moderation"  # Google bills no blocked video: the studio gives it back


def test_a_failed_operation_carries_googles_reason(veo_server, veo):
    veo_server.scenario = "failed"
    provider = veo()

    states = poll_until_done(provider, provider.submit(scene()))

    assert states[-1].status == "failed"
    assert "internal error" in str(states[-1].error)
    assert states[-1].error_code == ""  # not a refusal: Google ran the job


def test_an_operation_google_forgot_fails_the_job_saying_it_is_kept_two_days(veo_server, veo):
    veo_server.scenario = "gone"
    provider = veo()

    state = provider.poll(provider.submit(scene()))

    assert state.status == "failed" and "two days" in str(state.error)


def test_the_key_goes_to_the_api_but_never_to_the_storage_the_video_redirects_to(
        veo_server, veo, tmp_path):
    provider = veo()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    provider.download(job_id, "video", tmp_path / "video.mp4")

    (api_download,) = veo_server.seen("GET", r"/v1beta/files/file_\d+:download")
    assert api_download.headers["x-goog-api-key"] == veo_server.api_key
    (storage,) = veo_server.storage_requests
    assert "x-goog-api-key" not in storage.headers and "authorization" not in storage.headers
    assert veo_server.api_key not in str(storage.headers) + storage.path + str(storage.query)
    assert (tmp_path / "video.mp4").read_bytes() == veo_server.video


def test_an_expired_video_is_reported_as_expired(veo_server, veo, tmp_path):
    veo_server.scenario = "expired"
    provider = veo()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    with pytest.raises(ProviderError) as gone:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert gone.value.code == "expired"
    assert not (tmp_path / "video.mp4").exists()


def test_it_will_not_download_before_the_video_is_done(veo_server, veo, tmp_path):
    provider = veo()
    job_id = provider.submit(scene())

    with pytest.raises(ProviderError) as early:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert early.value.code == "bad_download"
    assert veo_server.storage_requests == []


def test_there_is_no_cancel_so_cancel_says_so_without_a_request(veo_server, veo):
    provider = veo()
    job_id = provider.submit(scene())
    before = len(veo_server.requests)

    assert provider.cancel(job_id) is False
    assert len(veo_server.requests) == before


def test_testing_the_connection_makes_one_cheap_authenticated_call(veo_server, veo):
    assert "accepts the key" in str(veo().test_connection())

    (listing,) = veo_server.seen("GET", r"/v1beta/models")
    assert listing.query == {"pageSize": "1"} and listing.headers["x-goog-api-key"] == veo_server.api_key


def test_a_base_url_pasted_with_its_version_works_too(veo_server, sleeps):
    provider = VeoProvider(base_url=f"{veo_server.url}/v1beta/", api_key=veo_server.api_key, sleep=sleeps.append)

    assert "accepts the key" in str(provider.test_connection())


def test_testing_with_a_wrong_key_says_the_key_is_wrong(veo_server, veo):
    with pytest.raises(ProviderError) as refused:
        veo(api_key="AIzaSy-wrong-key-999").test_connection()

    assert refused.value.code == "auth" and "Check the key in Google AI Studio" in refused.value.message

"""The fal adapter against a local server that speaks fal's queue API, and fal's webhook signatures."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import caches

from generation.providers import fal as fal_module
from generation.providers.base import JobProbe, ProviderError, RenderRequest
from generation.providers.fal import FalJob, FalProvider, verify_fal_webhook
from generation.providers.http import make_client
from generation.providers.webhooks import WebhookError
from tests.providers.helpers import poll_until_done

APP = r"/fal-ai/veo3\.1"
STATUS = APP + r"/requests/[0-9a-f-]{36}/status"


def scene(**changes) -> RenderRequest:
    fields = dict(prompt="A harbour at dawn, mist on the water.", model="fal-ai/veo3.1", seconds=8,
                  size="1280x720")
    return RenderRequest(**{**fields, **changes})


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def fal(fal_server, sleeps):
    def make(*, api_key=None, webhook_url=None):
        return FalProvider(base_url=fal_server.url, api_key=api_key or fal_server.api_key, webhook_url=webhook_url,
                           api_url=fal_server.api_url,
                           client=make_client(base_url=fal_server.url, headers={}, read=5.0), sleep=sleeps.append)
    return make


def test_it_renders_veo_from_submit_to_download(fal_server, fal, tmp_path):
    provider = fal()

    job_id = provider.submit(scene())
    states = poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert [(s.status, s.progress) for s in states] == [("queued", 0), ("running", 50), ("succeeded", 100)]
    assert states[-1].provider_seconds == 41.5
    assert (tmp_path / "video.mp4").read_bytes() == fal_server.video
    create = fal_server.seen("POST", APP)[0]
    assert create.json == {"prompt": "A harbour at dawn, mist on the water.", "duration": "8s",
                           "aspect_ratio": "16:9", "resolution": "720p", "generate_audio": True}
    assert create.headers["authorization"] == f"Key {fal_server.api_key}"
    assert "authorization" not in fal_server.seen("GET", r"/cdn/.*")[0].headers


def test_a_sub_path_endpoint_is_polled_where_fal_said_not_under_its_own_path(fal_server, fal):
    provider = fal()
    job_id = provider.submit(scene(model="fal-ai/veo3.1/fast"))
    poll_until_done(provider, job_id)
    assert fal_server.seen("POST", APP + r"/fast")
    assert len(fal_server.seen("GET", STATUS)) == 3  # the app root, as fal's status_url says


def test_the_job_id_keeps_fals_urls_and_starts_with_the_request_id(fal_server, fal):
    job_id = fal().submit(scene())
    job = FalJob.decode(job_id, fal_server.url)
    assert job_id.startswith(job.request_id + " ") and len(job_id) <= 200
    assert job.status_url == f"{fal_server.url}/fal-ai/veo3.1/requests/{job.request_id}/status"


def test_urls_that_do_not_follow_fals_usual_layout_are_kept_whole(fal_server, fal, tmp_path):
    fal_server.scenario = "custom-urls"
    provider = fal()
    job_id = provider.submit(scene())
    assert len(job_id.split(" ")) == 4
    assert poll_until_done(provider, job_id)[-1].status == "succeeded"
    provider.download(job_id, "video", tmp_path / "video.mp4")
    assert fal_server.seen("GET", r"/q/[0-9a-f-]{36}/state")


def test_urls_on_another_host_are_refused_so_the_key_stays_home(fal_server, fal):
    fal_server.scenario = "foreign-urls"
    with pytest.raises(ProviderError) as refused:
        fal().submit(scene())
    assert refused.value.code == "server" and "another host" in refused.value.message


def test_a_start_frame_goes_to_the_image_to_video_endpoint_as_a_data_uri(fal_server, fal, tmp_path):
    frame = tmp_path / "reference.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n fake png")
    fal().submit(scene(input_reference=frame))
    create = fal_server.seen("POST", APP + "/image-to-video")[0].json
    assert create["image_url"] == "data:image/png;base64," + base64.b64encode(frame.read_bytes()).decode()


@pytest.mark.parametrize("model, seconds, duration", [
    ("bytedance/seedance-2.0/text-to-video", 12, "12"),
    ("fal-ai/kling-video/v3/pro/text-to-video", 3, "3"),
])
def test_seedance_and_kling_take_their_own_inputs(fal_server, fal, model, seconds, duration):
    provider = fal()
    assert poll_until_done(provider, provider.submit(scene(model=model, seconds=seconds)))[-1].status == "succeeded"
    assert fal_server.requests[0].json["duration"] == duration


@pytest.mark.parametrize("size", ["1920x1080", "1080x1920"])
def test_seedance_at_1080p_is_refused_before_anything_is_sent(fal_server, fal, size):
    with pytest.raises(ProviderError) as refused:
        fal().submit(scene(model="bytedance/seedance-2.0/text-to-video", seconds=5, size=size))
    assert refused.value.code == "invalid_request" and "480p or 720p" in refused.value.message
    assert fal_server.requests == []


def test_the_fake_refuses_seedance_at_1080p_as_fal_does(fal_server):
    import httpx

    response = httpx.post(f"{fal_server.url}/bytedance/seedance-2.0/text-to-video",
                          headers={"Authorization": f"Key {fal_server.api_key}"},
                          json={"prompt": "x", "duration": "5", "resolution": "1080p"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "resolution"]


def test_a_webhook_url_is_passed_as_fal_webhook(fal_server, fal):
    fal(webhook_url="https://studio.example/webhooks/tok/").submit(scene())
    assert fal_server.requests[0].query == {"fal_webhook": "https://studio.example/webhooks/tok/"}


def test_an_unknown_endpoint_is_reported_as_unknown_or_retired(fal_server, fal):
    with pytest.raises(ProviderError) as refused:
        fal().submit(scene(model="fal-ai/veo2.9"))
    assert refused.value.code == "model_unknown" and "unknown or retired" in refused.value.message
    assert fal_server.accepted == 0


def test_a_validation_error_names_the_field_in_plain_words(fal_server, fal):
    with pytest.raises(ProviderError) as refused:
        fal().submit(scene(seconds=5))
    assert refused.value.code == "invalid_request"
    assert refused.value.message == "fal refused the request: duration: Invalid value '5s'"


def test_a_moderation_failure_says_so(fal_server, fal):
    fal_server.scenario = "moderation"
    provider = fal()
    state = poll_until_done(provider, provider.submit(scene()))[-1]
    assert state.status == "failed" and str(state.error).startswith("Refused by the provider's moderation")
    assert state.error_code == "moderation"  # the studio decides from it whether the job is billed


def test_a_rate_limit_is_waited_out_and_the_request_created_once(fal_server, fal, sleeps):
    fal_server.scenario = "throttled"
    fal().submit(scene())
    assert fal_server.accepted == 1 and len(sleeps) == 1


def test_a_5xx_on_submit_is_not_sent_again_but_reported_as_maybe_created(fal_server, fal):
    # The queue may have accepted the request before failing: a second submit could bill twice.
    fal_server.scenario = "server-error"
    with pytest.raises(ProviderError) as failed:
        fal().submit(scene())
    assert failed.value.code == "timeout" and "may or may not have been created" in failed.value.message
    assert len(fal_server.seen("POST", APP)) == 1


def test_a_wrong_key_is_an_authentication_error(fal_server, fal):
    with pytest.raises(ProviderError) as refused:
        fal(api_key="wrong-key:123456").submit(scene())
    assert refused.value.code == "auth" and "wrong-key:123456" not in refused.value.message
    with pytest.raises(ProviderError):
        fal(api_key="wrong-key:123456").test_connection()
    assert str(fal().test_connection()) == "fal accepted the key."


def test_an_expired_result_is_reported_as_expired(fal_server, fal, tmp_path):
    fal_server.scenario = "expired"
    provider = fal()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)
    with pytest.raises(ProviderError) as gone:
        provider.download(job_id, "video", tmp_path / "video.mp4")
    assert gone.value.code == "expired" and not (tmp_path / "video.mp4").exists()


def test_cancel_puts_the_cancel_url_and_a_finished_request_cannot_be_cancelled(fal_server, fal):
    provider = fal()
    job_id = provider.submit(scene())
    assert provider.cancel(job_id) is True
    assert provider.poll(job_id).status == "canceled"
    finished = provider.submit(scene())
    poll_until_done(provider, finished)
    assert provider.cancel(finished) is False


# --- webhook signatures ------------------------------------------------------------------------

@pytest.fixture
def cache():
    store = caches["default"]
    store.delete("fal-webhook-jwks")
    yield store
    store.delete("fal-webhook-jwks")


def delivery(fal_server, request_id="0b9e6a4e-3f0c-4c55-9a52-6f1d2b7c8e90", **sign):
    body = json.dumps({"request_id": request_id, "status": "OK", "payload": {"video": {"url": "x"}}}).encode()
    return fal_server.sign_webhook(body, request_id=request_id, **sign), body


def verify(fal_server, headers, body, cache, **kwargs):
    return verify_fal_webhook(headers=headers, body=body, jwks_url=fal_server.jwks_url, cache=cache, **kwargs)


def test_a_webhook_signed_with_fals_key_verifies_and_the_key_set_is_cached(fal_server, cache, db):
    headers, body = delivery(fal_server)
    assert verify(fal_server, headers, body, cache) == headers["X-Fal-Webhook-Request-Id"]
    verify(fal_server, headers, body, cache)
    assert len(fal_server.seen("GET", r"/\.well-known/jwks\.json")) == 1


def test_a_tampered_body_or_a_stranger_key_is_refused(fal_server, cache, db):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    headers, body = delivery(fal_server)
    with pytest.raises(WebhookError):
        verify(fal_server, headers, body.replace(b"OK", b"ERROR"), cache)
    headers, body = delivery(fal_server, key=Ed25519PrivateKey.generate())
    with pytest.raises(WebhookError):
        verify(fal_server, headers, body, cache)


def test_a_stale_timestamp_is_refused(fal_server, cache, db):
    headers, body = delivery(fal_server, timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookError, match="too far"):
        verify(fal_server, headers, body, cache)


def test_a_rotated_key_is_fetched_once_when_no_cached_key_verifies(fal_server, cache, db):
    headers, body = delivery(fal_server)
    verify(fal_server, headers, body, cache)
    fal_server.rotate_keys()
    headers, body = delivery(fal_server)
    # Within a minute of the last fetch an unknown signature does not refetch (a forger cannot make us hammer fal)…
    with pytest.raises(WebhookError):
        verify(fal_server, headers, body, cache)
    # …after it, one refetch picks up the new key.
    assert verify(fal_server, headers, body, cache, now=time.time() + 61) == headers["X-Fal-Webhook-Request-Id"]
    assert len(fal_server.seen("GET", r"/\.well-known/jwks\.json")) == 2


# --- finding a request whose create answer was lost -------------------------------------------------

LISTING = r"/v1/models/requests/by-endpoint"


def probe(request: RenderRequest, *, since=None, exclude=()) -> JobProbe:
    """What the studio knows of a take whose create answer was lost: what it sends, and when it sent it."""
    return JobProbe(model=request.model, size=request.size, seconds=request.seconds, prompt=request.prompt,
                    created_after=since or datetime.now(UTC) - timedelta(minutes=1), exclude_ids=frozenset(exclude),
                    request=request)


@pytest.fixture
def ended_at_once(fal_server):
    fal_server.job_seconds = 0.0  # fal lists a request once it has ended
    return fal_server


def test_a_lost_request_is_found_in_its_endpoints_listing_by_the_input_the_studio_sent(
        ended_at_once, fal, tmp_path):
    provider = fal()
    job_id = provider.submit(scene())

    assert provider.find_job(probe(scene())) == job_id
    asked = ended_at_once.seen("GET", LISTING)[0]
    assert asked.query["endpoint_id"] == "fal-ai/veo3.1" and asked.query["expand"] == "payloads"
    assert asked.headers["authorization"] == f"Key {ended_at_once.api_key}"
    assert poll_until_done(provider, job_id)[-1].status == "succeeded"
    provider.download(job_id, "video", tmp_path / "video.mp4")
    assert (tmp_path / "video.mp4").read_bytes() == ended_at_once.video


def test_a_start_frame_take_is_found_on_its_image_endpoint_and_tracked_on_the_apps_root(
        ended_at_once, fal, tmp_path):
    frame = tmp_path / "start.png"
    frame.write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"))
    request = scene(input_reference=frame)
    provider = fal()
    sent = provider.submit(request)

    found = provider.find_job(probe(request))
    assert found == sent  # the same request id and the same addresses, under fal-ai/veo3.1/requests/
    assert ended_at_once.seen("GET", LISTING)[0].query["endpoint_id"] == "fal-ai/veo3.1/image-to-video"
    assert poll_until_done(provider, found)[-1].status == "succeeded"


def test_a_request_with_another_input_or_sent_before_the_create_is_not_the_takes(ended_at_once, fal):
    provider = fal()
    provider.submit(scene(prompt="A different shot of the harbour."))
    provider.submit(scene(seconds=4))
    earlier = provider.submit(scene())

    assert provider.find_job(probe(scene(), since=datetime.now(UTC) + timedelta(seconds=2))) is None
    assert provider.find_job(probe(scene())) == earlier


def test_the_listing_is_read_page_after_page(ended_at_once, fal, monkeypatch):
    monkeypatch.setattr(fal_module, "REQUESTS_PAGE", 2)
    provider = fal()
    ours = provider.submit(scene())  # ended first: the last of the newest-first listing
    for n in range(4):
        provider.submit(scene(prompt=f"Another shot, number {n}."))

    assert provider.find_job(probe(scene())) == ours
    pages = ended_at_once.seen("GET", LISTING)
    assert len(pages) == 3 and "cursor" not in pages[0].query
    assert [p.query.get("cursor") for p in pages[1:]] == ["Mg==", "NA=="]
    assert {p.query["limit"] for p in pages} == {"2"}


def test_another_accounts_identical_request_is_never_taken_for_ours(ended_at_once, fal):
    ended_at_once.other_keys.add("fal-key-id:another-team")
    theirs = fal(api_key="fal-key-id:another-team").submit(scene())  # the same request, sent first, by another team
    provider = fal()
    assert provider.find_job(probe(scene())) is None

    ours = provider.submit(scene())
    assert provider.find_job(probe(scene())) == ours != theirs


def test_a_request_another_take_owns_is_passed_over_for_the_next(ended_at_once, fal):
    provider = fal()
    first, second = provider.submit(scene()), provider.submit(scene())

    assert provider.find_job(probe(scene(), exclude=[first])) == second
    assert provider.find_job(probe(scene(), exclude=[first, second])) is None


def test_a_listing_fal_refuses_is_an_error_not_an_empty_list(ended_at_once, fal):
    with pytest.raises(ProviderError) as refused:
        fal(api_key="fal-key-id:wrong").find_job(probe(scene()))
    assert refused.value.code == "auth"


@pytest.mark.parametrize("query", ["order=desc", "sort=asc", "limit=101", "expand=billing", "status=done"])
def test_the_fake_listing_refuses_what_fal_does_not_define(fal_server, query):
    response = make_client(base_url=fal_server.url, headers={}, read=5.0).get(
        f"{fal_server.api_url}/models/requests/by-endpoint?endpoint_id=fal-ai/veo3.1&{query}",
        headers={"Authorization": f"Key {fal_server.api_key}"})
    assert response.status_code in (400, 422) and response.json()["detail"]


def test_a_listing_longer_than_the_studio_reads_is_no_answer_rather_than_not_listed(ended_at_once, fal, monkeypatch):
    monkeypatch.setattr(fal_module, "REQUESTS_PAGE", 1)
    monkeypatch.setattr(fal_module, "REQUESTS_PAGES", 2)
    provider = fal()
    for n in range(3):
        provider.submit(scene(prompt=f"Another shot, number {n}."))

    with pytest.raises(ProviderError) as unread:  # "not listed" would send the take a second time
        provider.find_job(probe(scene()))
    assert unread.value.retryable


def test_a_lost_extension_is_found_on_the_models_extend_endpoint(ended_at_once, fal, tmp_path):
    from generation.providers.base import ExtendRequest
    from tests.fakes.provider_server import FIXTURE

    clip = tmp_path / "take.mp4"
    clip.write_bytes(FIXTURE.read_bytes())
    request = ExtendRequest(prompt="The mist lifts; a gull lands on the rail.", model="fal-ai/veo3.1", seconds=7,
                            size="1280x720", source_seconds=8.0, source_video=clip)
    provider = fal()
    sent = provider.extend(request)

    lost = JobProbe(model=request.model, size=request.size, seconds=7, prompt=request.prompt,
                    created_after=datetime.now(UTC) - timedelta(minutes=1), request=request)
    assert provider.find_job(lost) == sent
    assert ended_at_once.seen("GET", LISTING)[0].query["endpoint_id"] == "fal-ai/veo3.1/extend-video"

"""The OpenAI Videos adapter against a local server that speaks the same wire format."""

from __future__ import annotations

from datetime import UTC

import httpx
import pytest

from generation.providers.base import ProviderError, RenderRequest
from generation.providers.http import UNCERTAIN, make_client
from generation.providers.openai_videos import OpenAIVideosProvider
from tests.providers.helpers import poll_until_done

CREATE = r"/openai/v1/videos"
POLL = r"/openai/v1/videos/job_\d+"



def scene(**changes) -> RenderRequest:
    fields = dict(prompt="A harbour at dawn, mist on the water.", model="sora-2", seconds=8,
                  size="1280x720")
    return RenderRequest(**{**fields, **changes})


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def gateway(provider_server, sleeps):
    def make(*, auth_style="bearer", api_key=None, read=5.0):
        return OpenAIVideosProvider(
            base_url=provider_server.openai_base,
            api_key=api_key or provider_server.api_key,
            auth_style=auth_style,
            name="Test gateway",
            client=make_client(base_url=provider_server.openai_base, headers={}, read=read),
            sleep=sleeps.append,
        )

    return make


def test_it_renders_a_video_from_submit_to_download(provider_server, gateway, tmp_path):
    provider = gateway()

    job_id = provider.submit(scene())
    states = poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert [s.status for s in states] == ["queued", "running", "running", "succeeded"]
    progress = [s.progress for s in states]
    assert progress == sorted(progress) and progress[-1] == 100
    assert (tmp_path / "video.mp4").read_bytes() == provider_server.video
    assert provider_server.accepted == {"success": 1}



def test_it_reports_how_long_the_job_ran_by_the_providers_clock(provider_server, gateway):
    provider = gateway()
    job_id = provider.submit(scene())
    job = provider_server.jobs[job_id]
    job.created_wall, job.completed_wall = 1_790_000_000.0, 1_790_000_042.0

    states = poll_until_done(provider, job_id)

    assert states[-1].provider_seconds == 42  # completed_at − created_at
    assert all(s.provider_seconds is None for s in states[:-1])

def test_it_sends_seconds_as_a_string_field_in_multipart(provider_server, gateway):
    gateway().submit(scene(seconds=12, size="720x1280"))

    (create,) = provider_server.seen("POST", CREATE)
    assert create.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert create.fields == {
        "prompt": "A harbour at dawn, mist on the water.", "model": "sora-2",
        "seconds": "12", "size": "720x1280",
    }


def test_it_uploads_the_input_reference_as_an_image_file(provider_server, gateway, tmp_path):
    image = tmp_path / "first-frame.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\r\n--not-a-boundary\r\n")

    gateway().submit(scene(input_reference=image))

    (create,) = provider_server.seen("POST", CREATE)
    assert create.fields["input_reference"] == ("first-frame.png", "image/png", image.read_bytes())
    assert create.fields["seconds"] == "8"


def test_it_authenticates_with_a_bearer_token(provider_server, gateway):
    gateway().submit(scene())

    (create,) = provider_server.seen("POST", CREATE)
    assert create.headers["authorization"] == f"Bearer {provider_server.api_key}"
    assert "api-key" not in create.headers


def test_it_authenticates_with_an_api_key_header_like_azure(provider_server, gateway):
    provider_server.openai_auth = "api-key"

    gateway(auth_style="api-key").submit(scene())

    (create,) = provider_server.seen("POST", CREATE)
    assert create.headers["api-key"] == provider_server.api_key
    assert "authorization" not in create.headers


def test_it_reports_a_wrong_key_without_repeating_it(provider_server, gateway):
    with pytest.raises(ProviderError) as error:
        gateway(api_key="sk-wrong-key-123456").submit(scene())

    assert error.value.code == "auth"
    assert error.value.message == "Authentication failed: check the API key for Test gateway."
    assert "sk-wrong" not in str(error.value)
    assert provider_server.accepted == {}


def test_it_reports_a_retired_model_as_unknown(provider_server, gateway):
    with pytest.raises(ProviderError) as error:
        gateway().submit(scene(model="sora-2-2025-10-06"))

    assert error.value.code == "model_unknown"
    assert error.value.message == (
        "The model “sora-2-2025-10-06” is unknown or retired at this provider."
    )
    assert not error.value.retryable


def test_it_passes_on_the_providers_reason_for_a_bad_request(provider_server, gateway):
    with pytest.raises(ProviderError) as error:
        gateway().submit(scene(seconds=5))

    assert error.value.code == "invalid_request"
    assert error.value.message == (
        "Test gateway refused the request: Invalid value: '5'. "
        "Supported values are: '4', '8', '12'."
    )


def test_it_reports_a_moderation_refusal_as_a_failed_job(provider_server, gateway):
    provider_server.scenario = "moderation"
    provider = gateway()

    states = poll_until_done(provider, provider.submit(scene()))

    assert states[-1].status == "failed"
    assert str(states[-1].error) == (
        "Refused by the provider's moderation: Your request was blocked by our moderation system."
    )
    assert states[-1].error_code == "moderation"  # the studio decides from it whether the job is billed
    assert provider_server.accepted == {"moderation": 1}


def test_it_honours_the_poll_after_header(provider_server, gateway):
    provider_server.scenario = "poll-after"
    provider = gateway()

    state = provider.poll(provider.submit(scene()))

    assert state.poll_after == 2.5


@pytest.mark.parametrize("scenario, wait", [("throttled", 2.0), ("throttled-ms", 1.5)])
def test_it_waits_as_long_as_a_throttle_asks_then_submits_once(
    provider_server, gateway, sleeps, scenario, wait
):
    provider_server.scenario = scenario

    job_id = gateway().submit(scene())

    assert job_id in provider_server.jobs
    assert sleeps == [wait]
    assert len(provider_server.seen("POST", CREATE)) == 2
    assert provider_server.accepted == {scenario: 1}


def test_it_does_not_resubmit_a_create_whose_answer_timed_out(provider_server, gateway, sleeps):
    provider_server.scenario = "slow-create"

    with pytest.raises(ProviderError) as error:
        gateway(read=0.3).submit(scene())

    assert error.value.code == "timeout"
    assert error.value.message == str(UNCERTAIN)
    assert not error.value.retryable
    assert len(provider_server.seen("POST", CREATE)) == 1
    assert provider_server.accepted == {"slow-create": 1}  # it exists, and we said so
    assert sleeps == []


def test_it_retries_a_poll_whose_answer_timed_out(provider_server, gateway, sleeps):
    provider_server.scenario = "slow-poll"
    provider = gateway(read=0.3)
    job_id = provider.submit(scene())

    state = provider.poll(job_id)

    assert state.status == "running"
    assert len(provider_server.seen("GET", POLL)) == 2
    assert len(sleeps) == 1


def test_it_never_resends_a_create_the_gateway_answered_with_a_server_error(provider_server, gateway, sleeps):
    provider_server.scenario = "server-error"

    with pytest.raises(ProviderError) as error:
        gateway().submit(scene())

    # The gateway may have forwarded it before failing: the outcome is unknown, and the caller
    # looks for the job (find_job) before any second create.
    assert (error.value.code, error.value.retryable) == ("timeout", False)
    assert "answered HTTP 503 after receiving the request" in error.value.message
    assert len(provider_server.seen("POST", CREATE)) == 1
    assert sleeps == []


def test_a_create_forwarded_then_failed_exists_once_and_can_be_found(provider_server, gateway, sleeps):
    from datetime import datetime, timedelta

    from generation.providers.base import JobProbe

    provider_server.scenario = "forward-then-fail"
    provider = gateway()
    sent = datetime.now(UTC) - timedelta(minutes=2)

    with pytest.raises(ProviderError) as error:
        provider.submit(scene())
    found = provider.find_job(JobProbe(model="sora-2", size="1280x720", seconds=8,
                                       prompt=scene().prompt, created_after=sent))

    assert error.value.code == "timeout"
    assert list(provider_server.jobs) == [found]  # exactly one job, and it is ours
    assert len(provider_server.seen("POST", CREATE)) == 1


class FailsToConnectFirst(httpx.HTTPTransport):
    """The first request never reaches the server (as when a gateway refuses the connection)."""

    def __init__(self):
        super().__init__()
        self.refused = 0

    def handle_request(self, request):
        if not self.refused:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return super().handle_request(request)


def test_it_retries_a_create_that_never_connected_with_the_same_idempotency_key(provider_server, sleeps):
    transport = FailsToConnectFirst()
    provider = OpenAIVideosProvider(
        base_url=provider_server.openai_base, api_key=provider_server.api_key, name="Test gateway",
        client=httpx.Client(base_url=provider_server.openai_base, transport=transport), sleep=sleeps.append)

    job_id = provider.submit(scene(idempotency_key="5b0c6f1e-take-key"))

    assert transport.refused == 1 and len(sleeps) == 1
    assert list(provider_server.jobs) == [job_id]
    (create,) = provider_server.seen("POST", CREATE)
    assert create.headers["idempotency-key"] == "5b0c6f1e-take-key"


def test_it_sends_the_same_idempotency_key_on_every_attempt_of_a_create(provider_server, gateway, sleeps):
    provider_server.scenario = "throttled"

    gateway().submit(scene(idempotency_key="take-key-1"))

    creates = provider_server.seen("POST", CREATE)
    assert len(creates) == 2 and sleeps == [2.0]  # after the 429, as long as Retry-After said
    assert [c.headers.get("idempotency-key") for c in creates] == ["take-key-1", "take-key-1"]
    assert provider_server.accepted == {"throttled": 1}


def test_a_remix_carries_its_takes_idempotency_key(provider_server, gateway):
    provider = gateway()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    provider.remix(job_id, "Dusk.", idempotency_key="remix-key")

    (remix,) = provider_server.seen("POST", rf"/openai/v1/videos/{job_id}/remix")
    assert remix.headers["idempotency-key"] == "remix-key"


def test_it_sends_no_characters_to_a_model_that_does_not_declare_them(provider_server, gateway):
    job_id = gateway().submit(scene(provider_characters=("char_1",)))

    (create,) = provider_server.seen("POST", CREATE)
    assert set(create.fields) == {"prompt", "model", "seconds", "size"}
    assert job_id in provider_server.jobs


def test_the_strict_gateway_refuses_characters_it_was_not_told_it_accepts(provider_server, gateway):
    provider_server.characters["char_1"] = "Maya"

    with pytest.raises(ProviderError) as error:
        gateway().submit(scene(prompt="Maya on the pier.", provider_characters=("char_1",),
                               declared_fields=frozenset({"characters"})))

    assert error.value.code == "invalid_request"
    assert "Unrecognized request argument supplied: characters[][id]" in error.value.message
    assert provider_server.accepted == {}


def test_it_sends_characters_and_extra_fields_a_model_declares(provider_server, gateway):
    provider_server.gateway_fields = {"characters[][id]", "quality"}
    provider_server.characters["char_1"] = "Maya"

    gateway().submit(scene(prompt="Maya on the pier.", provider_characters=("char_1",),
                           declared_fields=frozenset({"characters"}), extra_fields=(("quality", "high"),)))

    (create,) = provider_server.seen("POST", CREATE)
    assert create.fields["characters[][id]"] == ["char_1"]
    assert create.fields["quality"] == "high"


def test_it_reports_an_empty_quota_without_retrying(provider_server, gateway, sleeps):
    provider_server.scenario = "quota"

    with pytest.raises(ProviderError) as error:
        gateway().submit(scene())

    assert error.value.code == "quota"
    assert not error.value.retryable
    assert "out of quota or credit" in error.value.message
    assert len(provider_server.seen("POST", CREATE)) == 1
    assert sleeps == []


def test_it_reports_a_result_that_expired(provider_server, gateway, tmp_path):
    provider_server.scenario = "expired"
    provider = gateway()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    with pytest.raises(ProviderError) as error:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert error.value.code == "expired"
    assert error.value.message == "The provider no longer has this result (it expired)."
    assert list(tmp_path.iterdir()) == []


def test_it_rejects_a_truncated_download_and_leaves_no_file(provider_server, gateway, tmp_path):
    provider_server.scenario = "truncated"
    provider = gateway()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    with pytest.raises(ProviderError) as error:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert error.value.code == "bad_download"
    assert error.value.retryable
    assert list(tmp_path.iterdir()) == []  # neither the video nor a .part file


def test_it_keeps_the_key_from_a_cdn_the_content_redirects_to(provider_server, gateway, tmp_path):
    provider_server.scenario = "redirect"
    provider_server.openai_auth = "api-key"  # httpx would not strip this one by itself
    provider = gateway(auth_style="api-key")
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    provider.download(job_id, "video", tmp_path / "video.mp4")

    (cdn,) = provider_server.seen("GET", r"/files/.*")
    assert "api-key" not in cdn.headers and "authorization" not in cdn.headers
    assert (tmp_path / "video.mp4").read_bytes() == provider_server.video


def test_it_downloads_the_thumbnail_variant_as_webp(provider_server, gateway, tmp_path):
    provider = gateway()
    job_id = provider.submit(scene())
    for _ in range(provider_server.polls_to_finish):
        provider.poll(job_id)

    provider.download(job_id, "thumbnail", tmp_path / "thumbnail.webp")

    assert provider.has_thumbnail is True
    assert (tmp_path / "thumbnail.webp").read_bytes() == provider_server.thumbnail
    assert provider_server.seen("GET", rf"/openai/v1/videos/{job_id}/content")[-1].query == {"variant": "thumbnail"}


def test_it_refuses_variants_the_api_does_not_have(provider_server, gateway, tmp_path):
    with pytest.raises(ProviderError) as error:
        gateway().download("job_1", "poster", tmp_path / "poster")
    assert error.value.code == "invalid_request"
    assert provider_server.requests == []


def test_it_reports_a_job_the_provider_forgot_as_failed(provider_server, gateway):
    state = gateway().poll("job_that_never_was")

    assert state.status == "failed"
    assert str(state.error) == "The provider no longer knows this job."


def test_it_remixes_a_finished_video(provider_server, gateway):
    provider = gateway()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    remix_id = provider.remix(job_id, "The same harbour at dusk.")

    (remix,) = provider_server.seen("POST", rf"/openai/v1/videos/{job_id}/remix")
    assert remix.json == {"prompt": "The same harbour at dusk."}
    assert provider_server.jobs[remix_id].fields["remix_of"] == job_id


def test_it_checks_the_connection(provider_server, gateway):
    message = str(gateway().test_connection())

    assert message == "Connected to Test gateway: the key works and the Videos API answers."
    (listing,) = provider_server.seen("GET", CREATE)
    assert listing.query == {"limit": "1"}


def test_it_has_no_cancel_but_can_delete_and_list(gateway):
    provider = gateway()
    assert (provider.facts.cancels, provider.facts.deletes_finished, provider.facts.lists_jobs) == (False, True, True)


def test_it_deletes_a_finished_video_once_and_deleting_again_is_harmless(provider_server, gateway):
    provider = gateway()
    job_id = provider.submit(scene())

    assert provider.delete(job_id) is False  # still queued: the API deletes finished videos only
    poll_until_done(provider, job_id)
    assert provider.delete(job_id) is True
    assert provider.delete(job_id) is True  # already gone

    assert provider_server.deleted == [job_id] and job_id not in provider_server.jobs


# --- finding a lost create in the gateway's list, paged as the SDK pages ---------------------------

@pytest.fixture
def many_videos(provider_server):
    """Ours (sent a minute ago), then 150 newer videos of other takes: ours is on the second page."""
    from datetime import datetime, timedelta

    from generation.providers.base import JobProbe

    fields = {"prompt": "A harbour at dawn, mist on the water.", "model": "sora-2", "seconds": "8",
              "size": "1280x720"}
    ours = provider_server.new_job("sora-2", dict(fields))
    for n in range(150):
        provider_server.new_job("sora-2", {**fields, "prompt": f"Another scene, number {n}."})
    probe = JobProbe(model="sora-2", size="1280x720", seconds=8, prompt=fields["prompt"],
                     created_after=datetime.now(UTC) - timedelta(minutes=1))
    return ours.id, probe


@pytest.mark.parametrize("knob, pages", [
    ("opaque_cursors", 2),  # a page of 100, then the rest, which says has_more: false
    ("omits_has_more", 3),  # without has_more, on until a page comes back empty
])
def test_it_pages_the_video_list_as_the_sdk_does(provider_server, lax_gateway, gateway, many_videos, knob, pages):
    setattr(lax_gateway, knob, True)
    ours, probe = many_videos

    assert gateway().find_job(probe) == ours

    listings = provider_server.seen("GET", CREATE)
    assert len(listings) == pages
    first_last_id = lax_gateway.cursor(sorted(provider_server.jobs.values(), key=lambda j: j.created)[-100].id)
    assert listings[1].query["after"] == first_last_id  # the next page starts after the page's last_id


def test_it_stops_paging_when_the_gateway_says_there_is_no_more(provider_server, gateway, many_videos):
    ours, probe = many_videos
    assert gateway().find_job(probe) == ours
    assert len(provider_server.seen("GET", CREATE)) == 2  # has_more was false on the second page

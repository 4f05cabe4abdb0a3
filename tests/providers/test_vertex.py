"""Veo on Vertex AI against a local server trio speaking Google's wire: the token service, Vertex AI and
Cloud Storage (tests/fakes/vertex_server.py)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from generation.providers.base import ProviderError, RenderRequest
from generation.providers.google_auth import TokenSource
from generation.providers.vertex import VertexProvider
from tests.fakes.vertex_server import RAI_REASON, pem_of
from tests.providers.helpers import poll_until_done

MODEL = "veo-3.1-fast-generate-001"
BASE = r"/v1/projects/harbour-films-1/locations/us-central1/publishers/google/models/veo-3\.1-fast-generate-001"
CREATE = BASE + ":predictLongRunning"
FETCH = BASE + ":fetchPredictOperation"
PROMPT = "A harbour at dawn, mist on the water."
BUCKET = "gs://harbour-renders/takes"


def take(**changes) -> RenderRequest:
    fields = {"prompt": PROMPT, "model": MODEL, "seconds": 8, "size": "1280x720",
              "idempotency_key": "3f6c0a52-take-key"}
    return RenderRequest(**{**fields, **changes})


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def vertex(vertex_server, sleeps):
    def make(**changes):
        options = dict(service_account=vertex_server.key_json(), project=vertex_server.project,
                       region="us-central1", base_url=vertex_server.url, storage_url=vertex_server.storage_url,
                       sleep=sleeps.append)
        return VertexProvider(**{**options, **changes})

    return make


def image(tmp_path, name, content=b"\x89PNG\r\n\x1a\n a frame"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_it_renders_a_video_from_submit_to_download_with_one_token(vertex_server, vertex, tmp_path):
    provider = vertex()

    job_id = provider.submit(take())
    states = poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert job_id.startswith("projects/harbour-films-1/locations/us-central1/publishers/google/models/"
                             f"{MODEL}/operations/")
    assert [s.status for s in states] == ["running", "running", "succeeded"]
    assert (tmp_path / "video.mp4").read_bytes() == vertex_server.video
    assert not (tmp_path / "video.mp4.part").exists()
    assert vertex_server.accepted == {"success": 1}
    # One token for the create, three fetches and the download: minted once, then reused.
    assert len(vertex_server.token_requests) == 1


def test_it_sends_exactly_the_body_googles_sdk_sends_for_vertex(vertex_server, vertex):
    vertex().submit(take(seconds=6, size="720x1280"))

    (create,) = vertex_server.seen("POST", CREATE)
    assert create.headers["authorization"].startswith("Bearer ya29.")
    assert "x-goog-api-key" not in create.headers
    assert create.json == {
        "instances": [{"prompt": PROMPT}],
        "parameters": {"durationSeconds": 6, "aspectRatio": "9:16", "resolution": "720p", "sampleCount": 1,
                       "generateAudio": True},
    }


def test_it_books_sound_as_the_catalog_says_and_sends_a_seed_the_recipe_pins(vertex_server, vertex):
    vertex().submit(take(generate_audio=False, recipe={"parameters": {"seed": 4242}}))

    (create,) = vertex_server.seen("POST", CREATE)
    assert create.json["parameters"]["generateAudio"] is False
    assert create.json["parameters"]["seed"] == 4242


def test_it_polls_with_fetch_predict_operation_on_the_operations_own_model(vertex_server, vertex):
    provider = vertex()
    job_id = provider.submit(take())

    provider.poll(job_id)

    (fetch,) = vertex_server.seen("POST", FETCH)
    assert json.loads(fetch.body) == {"operationName": job_id}


def test_it_sends_the_start_and_end_frames_inline(vertex_server, vertex, tmp_path):
    vertex().submit(take(input_reference=image(tmp_path, "start.png"), end_frame=image(tmp_path, "end.png")))

    instance = vertex_server.seen("POST", CREATE)[0].json["instances"][0]
    assert instance["image"]["mimeType"] == instance["lastFrame"]["mimeType"] == "image/png"
    assert base64.b64decode(instance["lastFrame"]["bytesBase64Encoded"]).startswith(b"\x89PNG")
    assert "referenceImages" not in instance


def test_it_sends_the_casts_likeness_as_asset_references_only_without_frames(vertex_server, vertex, tmp_path):
    faces = tuple(image(tmp_path, f"face-{i}.png") for i in range(4))

    vertex().submit(take(character_images=faces))
    vertex().submit(take(character_images=faces, input_reference=image(tmp_path, "start.png")))

    first, second = (r.json["instances"][0] for r in vertex_server.seen("POST", CREATE))
    assert [r["referenceType"] for r in first["referenceImages"]] == ["ASSET"] * 3
    assert "referenceImages" not in second


def test_it_refuses_1080p_shorter_than_eight_seconds_without_sending(vertex_server, vertex):
    with pytest.raises(ProviderError) as refused:
        vertex().submit(take(size="1920x1080", seconds=4))

    assert "1080p only at 8 seconds" in refused.value.message
    assert vertex_server.requests == [] and vertex_server.token_requests == []


def test_it_reads_an_inline_video_whose_base64_slashes_are_escaped(vertex_server, vertex, tmp_path):
    vertex_server.escape_slashes = True
    vertex_server.polls_to_finish = 1
    provider = vertex()
    job_id = provider.submit(take())

    assert provider.poll(job_id).status == "succeeded"
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert (tmp_path / "video.mp4").read_bytes() == vertex_server.video


def test_with_an_output_bucket_google_writes_there_and_the_studio_reads_it_with_the_token(
        vertex_server, vertex, tmp_path):
    provider = vertex(output_uri=BUCKET)
    job_id = provider.submit(take())
    poll_until_done(provider, job_id)

    provider.download(job_id, "video", tmp_path / "video.mp4")

    (create,) = vertex_server.seen("POST", CREATE)
    assert create.json["parameters"]["storageUri"] == f"{BUCKET}/3f6c0a52-take-key/"
    assert (tmp_path / "video.mp4").read_bytes() == vertex_server.video
    (read,) = vertex_server.storage_requests
    assert read.path.startswith("/storage/v1/b/harbour-renders/o/takes%2F3f6c0a52-take-key%2F")
    assert read.query == {"alt": "media"} and read.headers["authorization"].startswith("Bearer ya29.")


def test_a_video_gone_from_the_bucket_fails_as_expired(vertex_server, vertex, tmp_path):
    vertex_server.scenario = "expired"
    provider = vertex(output_uri=BUCKET)
    job_id = provider.submit(take())
    poll_until_done(provider, job_id)

    with pytest.raises(ProviderError) as failed:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert failed.value.code == "expired"
    assert not (tmp_path / "video.mp4").exists()


def test_a_bucket_the_service_account_cannot_read_is_named_with_the_role_it_needs(vertex_server, vertex, tmp_path):
    vertex_server.readable_buckets = set()
    provider = vertex(output_uri=BUCKET)
    job_id = provider.submit(take())
    poll_until_done(provider, job_id)

    with pytest.raises(ProviderError) as failed:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert failed.value.code == "auth"
    assert "Storage Object Viewer role on the bucket harbour-renders" in failed.value.message


def test_it_reads_only_the_connections_own_bucket(vertex_server, vertex, tmp_path):
    job_id = vertex(output_uri=BUCKET).submit(take())
    moved = vertex(output_uri="gs://another-bucket")
    poll_until_done(moved, job_id)

    with pytest.raises(ProviderError) as refused:
        moved.download(job_id, "video", tmp_path / "video.mp4")

    assert "outside the connection's bucket gs://another-bucket" in refused.value.message
    assert vertex_server.storage_requests == []


def test_a_model_vertex_does_not_serve_is_retired_or_unknown(vertex_server, vertex):
    with pytest.raises(ProviderError) as refused:
        vertex().submit(take(model="veo-3.0-generate-001"))

    assert refused.value.code == "model_unknown"
    assert "retired or unknown at Vertex AI in us-central1" in refused.value.message


def test_another_project_is_refused_naming_the_role_the_service_account_needs(vertex_server, vertex):
    with pytest.raises(ProviderError) as refused:
        vertex(project="someone-elses-7").submit(take())

    assert refused.value.code == "auth"
    assert "roles/aiplatform.user" in refused.value.message
    assert vertex_server.client_email in refused.value.message
    assert vertex_server.accepted == {}


def test_a_safety_filtered_video_fails_as_a_moderation_refusal_in_googles_words(vertex_server, vertex):
    vertex_server.scenario = "rai-filtered"
    provider = vertex()

    state = poll_until_done(provider, provider.submit(take()))[-1]

    assert (state.status, state.error_code) == ("failed", "moderation")
    assert str(state.error).startswith("Refused by Google's safety filters") and RAI_REASON in str(state.error)


def test_a_failed_operation_says_why(vertex_server, vertex):
    vertex_server.scenario = "failed"
    provider = vertex()

    state = poll_until_done(provider, provider.submit(take()))[-1]

    assert state.status == "failed" and "internal error" in str(state.error)


def test_an_operation_google_forgot_fails_the_take(vertex_server, vertex):
    vertex_server.scenario = "gone"
    provider = vertex()

    state = provider.poll(provider.submit(take()))

    assert state.status == "failed" and "no longer knows this job" in str(state.error)


def test_a_per_minute_quota_is_waited_out_and_the_video_is_created_once(vertex_server, vertex, sleeps):
    vertex_server.scenario = "throttled"

    vertex().submit(take())

    assert vertex_server.accepted == {"throttled": 1} and len(vertex_server.seen("POST", CREATE)) == 2
    assert sleeps == [2.0]


def test_a_quota_that_stays_exhausted_is_a_retryable_refusal(vertex_server, vertex, sleeps):
    vertex_server.scenario = "throttled-always"

    with pytest.raises(ProviderError) as refused:
        vertex().submit(take())

    assert (refused.value.code, refused.value.retryable) == ("rate_limited", True)
    assert vertex_server.accepted == {} and len(sleeps) == 3


def test_a_create_answered_with_a_server_error_is_never_sent_again_blindly(vertex_server, vertex):
    vertex_server.scenario = "server-error"

    with pytest.raises(ProviderError) as unclear:
        vertex().submit(take())

    assert unclear.value.code == "timeout"
    assert len(vertex_server.seen("POST", CREATE)) == 1


def test_an_accepted_create_without_an_operation_name_is_not_resubmitted(vertex_server, vertex):
    vertex_server.scenario = "no-name"

    with pytest.raises(ProviderError) as failed:
        vertex().submit(take())

    assert failed.value.code == "server" and "Check your Google Cloud billing" in failed.value.message
    assert vertex_server.accepted == {"no-name": 1}


# ---- tokens -----------------------------------------------------------------------------

def test_two_adapters_of_one_service_account_share_one_token(vertex_server, vertex):
    vertex().submit(take())
    vertex().submit(take())

    assert len(vertex_server.token_requests) == 1
    first, second = (r.headers["authorization"] for r in vertex_server.seen("POST", CREATE))
    assert first == second


def test_a_token_near_its_end_is_minted_again_before_it_is_used(vertex_server, vertex):
    clock = Clock(1_900_000_000.0)
    vertex_server.clock = clock
    provider = vertex(clock=clock)
    provider.submit(take())

    clock.now += 3599 - 300  # five minutes left: still good
    provider.submit(take())
    clock.now += 100  # under google-auth's 3 min 45 s: mint a new one
    provider.submit(take())

    assert len(vertex_server.token_requests) == 2
    tokens = [r.headers["authorization"] for r in vertex_server.seen("POST", CREATE)]
    assert tokens[0] == tokens[1] != tokens[2]


def test_a_token_google_stopped_accepting_is_replaced_once_and_the_call_goes_through(vertex_server, vertex):
    provider = vertex()
    provider.submit(take())
    vertex_server.tokens.clear()  # revoked, or the service's clock disagrees

    provider.submit(take())

    assert vertex_server.accepted == {"success": 2}
    assert len(vertex_server.token_requests) == 2


def test_a_key_google_refuses_fails_in_words_without_the_key(vertex_server, vertex):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_json = vertex_server.key_json(key=stranger)

    with pytest.raises(ProviderError) as refused:
        vertex(service_account=key_json).submit(take())

    assert refused.value.code == "auth"
    assert "Google refused the service account key" in refused.value.message
    assert "Invalid JWT Signature" in refused.value.message
    assert pem_of(stranger).splitlines()[1] not in refused.value.message
    assert vertex_server.requests == []


def test_the_token_endpoint_goes_through_the_outbound_guard_too(vertex_server, vertex, settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = []

    with pytest.raises(ProviderError) as refused:
        vertex().submit(take())

    assert refused.value.code == "blocked_address"
    assert "loopback" in refused.value.message
    assert vertex_server.token_requests == [] and vertex_server.requests == []


def test_a_token_source_never_puts_the_private_key_in_a_repr(vertex_server):
    source = TokenSource(key_json=vertex_server.key_json(), client=None, provider_name="Vertex")

    assert "PRIVATE KEY" not in repr(source.account)


# ---- test connection --------------------------------------------------------------------

def test_testing_the_connection_names_the_account_project_and_region(vertex_server, vertex):
    message = str(vertex().test_connection())

    assert vertex_server.client_email in message and "harbour-films-1" in message and "us-central1" in message
    (listed,) = vertex_server.seen("GET", r"/v1/projects/harbour-films-1/locations/us-central1/endpoints")
    assert listed.query == {"pageSize": "1"}


def test_testing_a_connection_to_the_wrong_project_says_what_to_grant(vertex_server, vertex):
    with pytest.raises(ProviderError) as refused:
        vertex(project="someone-elses-7").test_connection()

    assert "roles/aiplatform.user" in refused.value.message and "someone-elses-7" in refused.value.message

"""The Replicate adapter against a local server that speaks Replicate's wire format."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from generation.providers.base import ProviderError, RenderRequest
from generation.providers.http import UNCERTAIN, make_client
from generation.providers.replicate import ReplicateProvider, generic_input
from tests.providers.helpers import poll_until_done

VEO_CREATE = r"/replicate/v1/models/google/veo-3\.1/predictions"
POLL = r"/replicate/v1/predictions/job_\d+"



def scene(**changes) -> RenderRequest:
    fields = dict(prompt="A harbour at dawn, mist on the water.", model="google/veo-3.1",
                  seconds=8, size="1280x720")
    return RenderRequest(**{**fields, **changes})


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def replicate(provider_server, sleeps):
    def make(*, api_key=None, read=5.0, webhook_url=None):
        return ReplicateProvider(
            base_url=provider_server.replicate_base,
            api_key=api_key or provider_server.api_key,
            webhook_url=webhook_url,
            client=make_client(base_url=provider_server.replicate_base, headers={}, read=read),
            sleep=sleeps.append,
        )

    return make


def test_it_renders_a_veo_video_from_submit_to_download(provider_server, replicate, tmp_path):
    provider = replicate()

    job_id = provider.submit(scene())
    states = poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    assert [s.status for s in states] == ["queued", "running", "running", "succeeded"]
    assert [s.progress for s in states] == [0, 25, 50, 100]  # read from the logs' "NN%"
    assert (tmp_path / "video.mp4").read_bytes() == provider_server.video
    assert provider_server.accepted == {"success": 1}



def test_it_reports_how_long_the_prediction_ran_by_replicates_clock(provider_server, replicate):
    provider = replicate()
    job_id = provider.submit(scene())
    job = provider_server.jobs[job_id]
    job.created_wall, job.completed_wall = 1_790_000_000.25, 1_790_000_031.75

    states = poll_until_done(provider, job_id)

    assert states[-1].provider_seconds == pytest.approx(31.5)

def test_it_reports_the_billed_compute_time_and_cost_replicate_gives(provider_server, replicate):
    provider = replicate()
    job_id = provider.submit(scene())
    provider_server.jobs[job_id].billing = {"predict_time": 42.5, "cost": 3.2}

    final = poll_until_done(provider, job_id)[-1]

    assert final.billed_seconds == pytest.approx(42.5)
    assert final.billed_cost == Decimal("3.2")


def test_it_reports_no_billing_when_replicate_gives_none(provider_server, replicate):
    provider = replicate()
    final = poll_until_done(provider, provider.submit(scene()))[-1]

    assert final.billed_cost is None and final.billed_seconds is None


def test_it_maps_our_request_onto_veos_inputs(provider_server, replicate):
    replicate().submit(scene(seconds=6, size="1080x1920"))

    (create,) = provider_server.seen("POST", VEO_CREATE)
    assert create.headers["authorization"] == f"Bearer {provider_server.api_key}"
    assert create.json == {"input": {
        "prompt": "A harbour at dawn, mist on the water.", "duration": 6,
        "aspect_ratio": "9:16", "resolution": "1080p", "generate_audio": True,
    }}


def test_it_sends_a_start_frame_to_veo_as_a_data_uri(provider_server, replicate, tmp_path):
    image = tmp_path / "first-frame.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0 a start frame")

    replicate().submit(scene(input_reference=image))

    (create,) = provider_server.seen("POST", VEO_CREATE)
    encoded = base64.b64encode(image.read_bytes()).decode()
    assert create.json["input"]["image"] == f"data:image/jpeg;base64,{encoded}"


def test_it_maps_our_request_onto_wans_inputs_and_takes_a_list_output(
    provider_server, replicate, tmp_path
):
    provider = replicate()

    job_id = provider.submit(scene(model="wan-video/wan-2.7-t2v", seconds=12))
    poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    (create,) = provider_server.seen("POST", r"/replicate/v1/models/wan-video/.*")
    assert create.json["input"] == {
        "prompt": "A harbour at dawn, mist on the water.", "duration": 12,
        "resolution": "720p", "aspect_ratio": "16:9",
    }
    assert (tmp_path / "video.mp4").read_bytes() == provider_server.video


def test_it_sends_only_prompt_and_duration_to_a_model_it_does_not_know():
    assert generic_input(scene(model="acme/new-video")) == {
        "prompt": "A harbour at dawn, mist on the water.", "duration": 8,
    }


def test_it_asks_for_a_completion_webhook_when_one_is_configured(provider_server, replicate):
    replicate(webhook_url="https://studio.example/hooks/replicate").submit(scene())

    (create,) = provider_server.seen("POST", VEO_CREATE)
    assert create.json["webhook"] == "https://studio.example/hooks/replicate"
    assert create.json["webhook_events_filter"] == ["completed"]


def test_it_never_sends_the_key_to_the_output_host(provider_server, replicate, tmp_path):
    provider = replicate()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    provider.download(job_id, "video", tmp_path / "video.mp4")

    (download,) = provider_server.seen("GET", r"/files/.*")
    assert download.headers["host"].startswith("localhost:")  # another origin, like a CDN
    assert "authorization" not in download.headers


def test_it_reports_a_wrong_key_without_repeating_it(provider_server, replicate):
    with pytest.raises(ProviderError) as error:
        replicate(api_key="r8_wrong_key_123456").submit(scene())

    assert error.value.code == "auth"
    assert error.value.message == "Authentication failed: check the API key for Replicate."
    assert provider_server.accepted == {}


def test_it_reports_an_unknown_model(provider_server, replicate):
    with pytest.raises(ProviderError) as error:
        replicate().submit(scene(model="google/veo-2-retired"))

    assert error.value.code == "model_unknown"
    assert error.value.message == (
        "The model “google/veo-2-retired” is unknown or retired at this provider."
    )


def test_it_refuses_a_malformed_model_id_without_asking(provider_server, replicate):
    with pytest.raises(ProviderError) as error:
        replicate().submit(scene(model="../account"))

    assert error.value.code == "model_unknown"
    assert provider_server.requests == []


def test_it_passes_on_replicates_validation_detail(provider_server, replicate):
    with pytest.raises(ProviderError) as error:
        replicate().submit(scene(seconds=5))

    assert error.value.code == "invalid_request"
    assert error.value.message == (
        "Replicate refused the request: - input.duration: invalid value 5"
    )


def test_it_reports_a_moderation_refusal_as_a_failed_job(provider_server, replicate):
    provider_server.scenario = "moderation"
    provider = replicate()

    states = poll_until_done(provider, provider.submit(scene()))

    assert states[-1].status == "failed"
    assert str(states[-1].error).startswith("Refused by the provider's moderation: The input or output")
    assert states[-1].error_code == "moderation"  # the studio decides from it whether the job is billed
    assert provider_server.accepted == {"moderation": 1}


def test_it_cancels_a_running_prediction(provider_server, replicate):
    provider = replicate()
    job_id = provider.submit(scene())

    assert provider.cancel(job_id) is True
    assert provider.poll(job_id).status == "canceled"
    assert provider.cancel("job_that_never_was") is False


def test_it_waits_as_long_as_a_throttle_asks_then_submits_once(provider_server, replicate, sleeps):
    provider_server.scenario = "throttled"

    replicate().submit(scene())

    assert sleeps == [2.0]
    assert len(provider_server.seen("POST", VEO_CREATE)) == 2
    assert provider_server.accepted == {"throttled": 1}


def test_it_reports_missing_credit_without_retrying(provider_server, replicate, sleeps):
    provider_server.scenario = "quota"

    with pytest.raises(ProviderError) as error:
        replicate().submit(scene())

    assert error.value.code == "quota"
    assert not error.value.retryable
    assert "insufficient credit" in error.value.message
    assert len(provider_server.seen("POST", VEO_CREATE)) == 1


def test_it_does_not_resubmit_a_create_whose_answer_timed_out(provider_server, replicate, sleeps):
    provider_server.scenario = "slow-create"

    with pytest.raises(ProviderError) as error:
        replicate(read=0.3).submit(scene())

    assert (error.value.code, error.value.message, error.value.retryable) == (
        "timeout", str(UNCERTAIN), False)
    assert len(provider_server.seen("POST", VEO_CREATE)) == 1
    assert provider_server.accepted == {"slow-create": 1}


def test_it_retries_a_poll_whose_answer_timed_out(provider_server, replicate, sleeps):
    provider_server.scenario = "slow-poll"
    provider = replicate(read=0.3)

    state = provider.poll(provider.submit(scene()))

    assert state.status == "running"
    assert len(provider_server.seen("GET", POLL)) == 2


def test_it_does_not_resend_a_create_answered_with_a_server_error(provider_server, replicate, sleeps):
    provider_server.scenario = "server-error"

    with pytest.raises(ProviderError) as error:
        replicate().submit(scene())

    # The outcome is unknown: the studio looks for the prediction before any second create.
    assert (error.value.code, error.value.retryable) == ("timeout", False)
    assert len(provider_server.seen("POST", VEO_CREATE)) == 1
    assert provider_server.accepted == {}


def test_it_reports_an_output_that_expired(provider_server, replicate, tmp_path):
    provider_server.scenario = "expired"
    provider = replicate()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    with pytest.raises(ProviderError) as error:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert error.value.code == "expired"
    assert list(tmp_path.iterdir()) == []


def test_it_rejects_a_truncated_output_and_leaves_no_file(provider_server, replicate, tmp_path):
    provider_server.scenario = "truncated"
    provider = replicate()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)

    with pytest.raises(ProviderError) as error:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert (error.value.code, error.value.retryable) == ("bad_download", True)
    assert list(tmp_path.iterdir()) == []


def test_it_will_not_download_before_the_prediction_succeeded(provider_server, replicate, tmp_path):
    provider = replicate()
    job_id = provider.submit(scene())

    with pytest.raises(ProviderError) as error:
        provider.download(job_id, "video", tmp_path / "video.mp4")

    assert error.value.code == "bad_download"
    assert provider_server.seen("GET", r"/files/.*") == []


def test_it_names_the_account_when_the_connection_works(replicate):
    assert str(replicate().test_connection()) == "Connected to Replicate as harbour-films."


def test_it_fetches_the_accounts_webhook_signing_secret(provider_server, replicate):
    assert replicate().webhook_secret() == provider_server.replicate_webhook_secret
    (request,) = provider_server.seen("GET", r"/replicate/v1/webhooks/default/secret")
    assert request.headers["authorization"] == f"Bearer {provider_server.api_key}"


def test_testing_a_replicate_connection_without_a_secret_fetches_it_once(
        provider_server, team, owner, settings):
    from generation.providers import connections, webhook_url_for

    settings.PUBLIC_BASE_URL = "https://studio.example"
    connection = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                               base_url=provider_server.replicate_base,
                                               api_key=provider_server.api_key)
    assert webhook_url_for(connection) is None  # no secret: Replicate would not be asked to call back

    connections.connection_test(connection.pk)

    connection.refresh_from_db()
    assert connection.last_test_ok is True
    assert connection.webhook_secret == provider_server.replicate_webhook_secret
    assert "Fetched the account's webhook signing secret" in connection.last_test_message
    assert webhook_url_for(connection) is not None  # so takes now ask for a signed callback

    connections.connection_test(connection.pk)  # a later test keeps the stored secret
    assert len(provider_server.seen("GET", r"/replicate/v1/webhooks/default/secret")) == 1


def test_a_secret_that_cannot_be_fetched_leaves_the_connection_working_and_says_so(
        provider_server, team, owner, monkeypatch):
    from generation.providers import connections

    monkeypatch.setattr(provider_server, "replicate_webhook_secret", "not-a-secret")
    connection = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                               base_url=provider_server.replicate_base,
                                               api_key=provider_server.api_key)

    connections.connection_test(connection.pk)

    connection.refresh_from_db()
    assert connection.last_test_ok is True
    assert not connection.webhook_secret_encrypted
    assert "could not be fetched" in connection.last_test_message


def test_adding_a_replicate_connection_tests_it_and_fetches_its_webhook_secret(
        provider_server, team, owner, client_for, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from generation.models import ProviderConnection

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(
            reverse("generation:connection_list", args=[team.pk]),
            {"kind": "replicate", "label": "Replicate", "base_url": provider_server.replicate_base,
             "auth_style": "bearer", "api_key": provider_server.api_key, "webhook_secret": ""}, follow=True)
    assert "fetching its webhook signing secret" in response.content.decode()
    connection = ProviderConnection.objects.get(team=team, label="Replicate")
    assert connection.last_test_ok is True
    assert connection.webhook_secret == provider_server.replicate_webhook_secret


def test_a_secret_pasted_while_the_test_ran_is_kept(provider_server, team, owner):
    from generation.models import ProviderConnection
    from generation.providers import connections, provider_for

    connection = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                               base_url=provider_server.replicate_base,
                                               api_key=provider_server.api_key)
    pasted = ProviderConnection.objects.get(pk=connection.pk)
    pasted.set_webhook_secret("whsec_cGFzdGVk")
    pasted.save()  # the owner saved their own secret while the test was fetching one

    message = connections._fetch_webhook_secret(connection, provider_for(connection))

    assert "kept" in str(message)
    assert ProviderConnection.objects.get(pk=connection.pk).webhook_secret == "whsec_cGFzdGVk"


# --- Veo 3.1's cast references follow Google's rule for the model ------------------------------------

@pytest.fixture
def likeness(tmp_path):
    path = tmp_path / "maya.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n maya")
    return path


def test_veo_gets_the_casts_likeness_in_an_eight_second_landscape_take(provider_server, replicate, likeness):
    replicate().submit(scene(character_images=(likeness,)))
    sent = provider_server.seen("POST", VEO_CREATE)[0].json["input"]
    assert sent["reference_images"] == ["data:image/png;base64," + base64.b64encode(likeness.read_bytes()).decode()]


def test_beside_a_start_frame_veo_gets_the_frame_and_no_likeness_images(provider_server, replicate, likeness,
                                                                         tmp_path):
    frame = tmp_path / "frame.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n frame")
    replicate().submit(scene(input_reference=frame, character_images=(likeness,)))
    sent = provider_server.seen("POST", VEO_CREATE)[0].json["input"]
    assert sent["image"].startswith("data:image/png;base64,") and "reference_images" not in sent


@pytest.mark.parametrize("changes, words", [
    ({"seconds": 4}, "only in 8-second takes, not 4"),
    ({"size": "720x1280"}, "only in landscape (16:9) takes"),
])
def test_veo_with_the_casts_likeness_is_refused_at_other_lengths_and_aspects_before_anything_is_sent(
        provider_server, replicate, likeness, changes, words):
    with pytest.raises(ProviderError) as refused:
        replicate().submit(scene(character_images=(likeness,), **changes))
    assert refused.value.code == "invalid_request" and words in refused.value.message
    assert provider_server.requests == []

"""The Runway adapter against a local server that speaks Runway's developer API."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest

from generation.providers.base import ProviderError, RenderRequest
from generation.providers.http import make_client
from generation.providers.runway import RunwayProvider
from tests.providers.helpers import poll_until_done

TASK = r"/v1/tasks/[0-9a-f-]{36}"


def scene(**changes) -> RenderRequest:
    fields = dict(prompt="A harbour at dawn, mist on the water.", model="gen4.5", seconds=5, size="1280x720")
    return RenderRequest(**{**fields, **changes})


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def runway(runway_server, sleeps):
    def make(*, api_key=None):
        return RunwayProvider(base_url=runway_server.url, api_key=api_key or runway_server.api_key,
                              client=make_client(base_url=runway_server.url, headers={}, read=5.0),
                              sleep=sleeps.append)
    return make


def test_it_renders_a_video_from_submit_to_download(runway_server, runway, tmp_path):
    provider = runway()

    job_id = provider.submit(scene())
    states = poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")

    # THROTTLED is Runway's "waiting for a free slot": users see it as queued.
    assert [(s.status, s.progress) for s in states] == [
        ("queued", 0), ("queued", 0), ("running", 40), ("succeeded", 100)]
    assert (tmp_path / "video.mp4").read_bytes() == runway_server.video
    create = runway_server.seen("POST", "/v1/text_to_video")[0]
    assert create.json == {"model": "gen4.5", "promptText": "A harbour at dawn, mist on the water.",
                           "ratio": "1280:720", "duration": 5}
    assert all(r.headers["x-runway-version"] == "2024-11-06" for r in runway_server.requests if r.path.startswith("/v1"))


def test_the_key_never_goes_to_the_cdn(runway_server, runway, tmp_path):
    provider = runway()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)
    provider.download(job_id, "video", tmp_path / "video.mp4")
    cdn = runway_server.seen("GET", r"/cdn/.*")[0]
    assert "authorization" not in cdn.headers and "x-runway-version" not in cdn.headers


def test_a_start_frame_goes_to_image_to_video_as_a_data_uri(runway_server, runway, tmp_path):
    frame = tmp_path / "reference.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n fake png")
    runway().submit(scene(model="gen4_turbo", input_reference=frame, recipe={"parameters": {"seed": 42}}))
    create = runway_server.seen("POST", "/v1/image_to_video")[0].json
    assert create["promptImage"] == "data:image/png;base64," + base64.b64encode(frame.read_bytes()).decode()
    assert create["seed"] == 42 and create["model"] == "gen4_turbo"


def test_gen4_turbo_without_a_start_frame_is_refused_before_anything_is_sent(runway_server, runway):
    with pytest.raises(ProviderError) as refused:
        runway().submit(scene(model="gen4_turbo"))
    assert refused.value.code == "invalid_request" and "start frame" in refused.value.message
    assert runway_server.requests == []


def test_an_unknown_model_is_reported_as_unknown_or_retired(runway_server, runway):
    with pytest.raises(ProviderError) as refused:
        runway().submit(scene(model="gen3a_turbo"))
    assert refused.value.code == "model_unknown" and "unknown or retired" in refused.value.message
    assert runway_server.accepted == 0


def test_a_size_the_model_does_not_render_is_refused_in_runways_words(runway_server, runway):
    with pytest.raises(ProviderError) as refused:
        runway().submit(scene(size="1024x1024"))
    assert refused.value.code == "invalid_request" and "Validation of body failed" in refused.value.message


def test_a_moderation_failure_says_so(runway_server, runway):
    runway_server.scenario = "moderation"
    provider = runway()
    state = poll_until_done(provider, provider.submit(scene()))[-1]
    assert state.status == "failed"
    assert str(state.error).startswith("Refused by the provider's moderation: Your prompt was flagged")
    assert state.error_code == "moderation"  # the studio decides from it whether the job is billed


def test_a_rate_limit_is_waited_out_and_the_task_created_once(runway_server, runway, sleeps):
    runway_server.scenario = "throttled"
    runway().submit(scene())
    assert runway_server.accepted == 1 and len(sleeps) == 1


def test_a_5xx_on_create_is_not_sent_again_but_reported_as_maybe_created(runway_server, runway, sleeps):
    # Runway may have created the task before failing: a second create could bill twice.
    runway_server.scenario = "server-error"
    with pytest.raises(ProviderError) as failed:
        runway().submit(scene())
    assert failed.value.code == "timeout" and "may or may not have been created" in failed.value.message
    assert len(runway_server.seen("POST", "/v1/text_to_video")) == 1


def test_running_out_of_credits_is_a_quota_error(runway_server, runway):
    runway_server.scenario = "no-credits"
    with pytest.raises(ProviderError) as refused:
        runway().submit(scene())
    assert refused.value.code == "quota" and "not have enough credits" in refused.value.message


def test_a_wrong_key_is_an_authentication_error_without_the_key(runway_server, runway):
    with pytest.raises(ProviderError) as refused:
        runway(api_key="key_wrong_123456").submit(scene())
    assert refused.value.code == "auth" and "key_wrong_123456" not in refused.value.message


def test_an_expired_output_url_is_reported_as_expired(runway_server, runway, tmp_path):
    runway_server.scenario = "expired"
    provider = runway()
    job_id = provider.submit(scene())
    poll_until_done(provider, job_id)
    with pytest.raises(ProviderError) as gone:
        provider.download(job_id, "video", tmp_path / "video.mp4")
    assert gone.value.code == "expired"
    assert not (tmp_path / "video.mp4").exists()


def test_a_task_runway_no_longer_knows_fails_the_poll_and_the_download_is_expired(runway, tmp_path):
    provider = runway()
    missing = "00000000-0000-0000-0000-000000000000"
    assert provider.poll(missing).status == "failed"
    with pytest.raises(ProviderError) as gone:
        provider.download(missing, "video", tmp_path / "video.mp4")
    assert gone.value.code == "expired"


def test_cancel_deletes_the_task(runway_server, runway):
    provider = runway()
    job_id = provider.submit(scene())
    assert provider.cancel(job_id) is True
    assert runway_server.seen("DELETE", TASK)
    assert provider.poll(job_id).status == "canceled"


def test_runway_cannot_list_tasks_so_a_lost_create_points_to_the_dashboard(runway):
    provider = runway()
    assert provider.find_job(None) is None and provider.facts.lists_jobs is False
    assert "dev.runwayml.com" in str(provider.job_listing_hint)


def test_testing_the_connection_reports_the_credit_balance(runway):
    assert str(runway().test_connection()) == "Connected to Runway: 1200 credits left."


def test_the_fake_refuses_a_field_runway_does_not_define(runway_server):
    response = httpx.post(f"{runway_server.url}/v1/text_to_video", headers={
        "Authorization": f"Bearer {runway_server.api_key}", "X-Runway-Version": "2024-11-06"},
        json={"model": "gen4.5", "promptText": "x", "ratio": "1280:720", "duration": 5, "size": "1280x720"})
    assert response.status_code == 400 and json.loads(response.content)["issues"][0]["path"] == ["size"]


# --- what a task cost ---------------------------------------------------------------------------

def test_a_finished_task_reports_what_runway_charged_for_it(runway_server, runway):
    runway_server.charge_credits = 57  # what Runway's task says, whatever the catalog estimated
    provider = runway()
    states = poll_until_done(provider, provider.submit(scene()))
    assert states[-1].status == "succeeded" and states[-1].billed_cost == Decimal("0.57")  # 1 credit = $0.01
    assert all(s.billed_cost is None for s in states[:-1])  # an estimate is not a charge


def test_a_moderated_task_reports_its_charge_too(runway_server, runway):
    # Runway charges a moderated generation like a finished one.
    runway_server.scenario = "moderation"
    provider = runway()
    state = poll_until_done(provider, provider.submit(scene(seconds=5)))[-1]
    assert state.status == "failed" and state.billed_cost == Decimal("0.60")  # 5 s × 12 credits


def test_a_canceled_task_reports_its_charge(runway_server, runway):
    provider = runway()
    job_id = provider.submit(scene(seconds=4))
    provider.cancel(job_id)
    state = provider.poll(job_id)
    assert state.status == "canceled" and state.billed_cost == Decimal("0.48")


def test_the_fake_answers_tasks_with_every_field_the_sdk_marks_required(runway_server, runway):
    # runwayml's TaskRetrieveResponse: id, createdAt, status; estimatedCost.credits while waiting or
    # running; cost.credits once ended; progress when running; output when succeeded; failure when failed.
    provider = runway()
    job_id = provider.submit(scene())
    headers = {"Authorization": f"Bearer {runway_server.api_key}", "X-Runway-Version": "2024-11-06"}
    tasks = [httpx.get(f"{runway_server.url}/v1/tasks/{job_id}", headers=headers).json() for _ in range(4)]
    required = {"PENDING": {"estimatedCost"}, "THROTTLED": {"estimatedCost"},
                "RUNNING": {"estimatedCost", "progress"}, "SUCCEEDED": {"cost", "output"}}
    for task in tasks:
        assert {"id", "createdAt", "status"} | required[task["status"]] <= set(task)
    assert [t["status"] for t in tasks] == ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED"]
    assert isinstance(tasks[-1]["cost"]["credits"], int)


# --- prompts Runway refuses ----------------------------------------------------------------------

@pytest.mark.parametrize("prompt", ["x" * 1001, "🎬" * 501])  # an emoji is two UTF-16 code units
def test_a_prompt_over_runways_limit_is_refused_before_anything_is_sent(runway_server, runway, prompt):
    with pytest.raises(ProviderError) as refused:
        runway().submit(scene(prompt=prompt))
    assert refused.value.code == "invalid_request" and "at most 1,000 characters" in refused.value.message
    assert runway_server.requests == []


@pytest.mark.parametrize("prompt", ["x" * 1000, "🎬" * 500])
def test_a_prompt_at_runways_limit_is_sent(runway_server, runway, prompt):
    runway().submit(scene(prompt=prompt))
    assert runway_server.accepted == 1


def test_seedance_takes_a_longer_prompt(runway_server, runway):
    assert RunwayProvider.prompt_problems(model_id="seedance2", prompt="x" * 3500) == []
    assert RunwayProvider.prompt_problems(model_id="seedance2", prompt="x" * 3501) != []
    runway().submit(scene(model="seedance2", prompt="x" * 2000))
    assert runway_server.accepted == 1


def test_a_refusal_names_each_field_runway_refused(runway_server, runway):
    with pytest.raises(ProviderError) as refused:
        runway().submit(scene(size="1024x1024", seconds=30))
    message = refused.value.message
    assert refused.value.code == "invalid_request"
    assert message.startswith("Runway refused the request: Validation of body failed: ")
    assert "ratio: Invalid ratio" in message and "duration: Invalid duration" in message

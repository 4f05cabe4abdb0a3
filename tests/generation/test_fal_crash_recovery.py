"""A take booked on fal whose worker died between sending the create and storing fal's answer is found
again in fal's request listing for its endpoint (by the exact input the studio sent, sent after the
booking), adopted and collected: one request, one video, one charge. A request the listing never shows
follows the rule for every provider whose job list is recent only (lookups.py): looked for all the
connection's window, then sent again with the same key."""

import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from generation.models import Render, Status
from generation.providers import connections, provider_for
from generation.renders import pipeline, services

CREATE = r"/fal-ai/veo3\.1"
LISTING = r"/v1/models/requests/by-endpoint"


@pytest.fixture
def fal_account(fal_server, settings):
    settings.FAL_JWKS_URL = fal_server.jwks_url
    settings.FAL_API_URL = fal_server.api_url
    cache.delete("fal-webhook-jwks")
    fal_server.job_seconds = 0.0  # each request ends at once: fal lists a request once it has ended
    return fal_server


@pytest.fixture
def fal(team, owner, fal_account):
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal",
                                         base_url=fal_account.url, api_key=fal_account.api_key)


def book(scene, connection, user, capture):
    with capture(execute=False):  # booked; its submit task never runs (the worker died)
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id="fal-ai/veo3.1",
                                         idempotency_key=uuid.uuid4())
    return take


def killed_while_sending(take, *, created: bool, tmp_path):
    """A worker killed mid-create: the take submitting with no request id, its lease run out; and, when fal
    had accepted the create, the request at fal, built exactly as the worker built it."""
    if created:
        provider_for(take.connection).submit(pipeline._request_for(take, Path(tmp_path)))
    past = timezone.now() - timedelta(seconds=31)
    Render.objects.filter(pk=take.pk).update(status=Status.SUBMITTING, submitted_at=past, first_sent_at=past,
                                             create_attempts=1, lease_until=past)


def sweep(capture):
    with capture(execute=True):
        return pipeline.renders_resume_stalled()


def test_a_take_whose_create_answer_was_lost_is_found_in_fals_listing_and_collected_once(
        fal, make_scene, editor, fal_account, django_capture_on_commit_callbacks, tmp_path):
    scene = make_scene(duration=4)
    take = book(scene, fal, editor, django_capture_on_commit_callbacks)
    killed_while_sending(take, created=True, tmp_path=tmp_path)

    assert sweep(django_capture_on_commit_callbacks)["adopted"] == 1
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    (request_id,) = fal_account.jobs
    assert take.provider_job_id == f"{request_id} /fal-ai/veo3.1/requests/{request_id}"
    assert len(fal_account.seen("POST", CREATE)) == 1  # never sent a second time
    assert fal_account.seen("GET", LISTING)[0].query["endpoint_id"] == "fal-ai/veo3.1"
    assert take.duration_seconds and take.video.size > len(fal_account.video)  # the one video, stored
    assert not take.billing_unconfirmed and take.cost == Decimal("1.6")
    scene.project.refresh_from_db()
    assert scene.project.render_spend == Decimal("1.6")  # charged once: $0.40 a second, four seconds


def test_a_create_fal_never_listed_is_sent_again_with_the_same_key_once_the_window_passed(
        fal, make_scene, editor, fal_account, django_capture_on_commit_callbacks, tmp_path, countdowns):
    countdowns.freeze()
    scene = make_scene(duration=4)
    take = book(scene, fal, editor, django_capture_on_commit_callbacks)
    killed_while_sending(take, created=False, tmp_path=tmp_path)

    assert sweep(django_capture_on_commit_callbacks)["looking"] == 1
    take.refresh_from_db()
    assert take.status == Status.CONFIRMING and take.create_attempts == 1
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.create_attempts == 2 and not take.billing_unconfirmed
    assert len(fal_account.seen("POST", CREATE)) == 1  # the first create never reached fal
    assert len(fal_account.seen("GET", LISTING)) > 3  # looked all window long first
    scene.project.refresh_from_db()
    assert scene.project.render_spend == Decimal("1.6")  # one take, booked once


def test_another_teams_identical_request_on_fal_is_never_adopted(
        fal, make_scene, editor, outsider, fal_account, django_capture_on_commit_callbacks, tmp_path, countdowns):
    countdowns.freeze()
    scene = make_scene(duration=4)
    fal_account.other_keys.add("fal-key-id:rival-pictures")
    rival = connections.connection_create(team=outsider.memberships.get().team, user=outsider, kind="fal",
                                          label="fal", base_url=fal_account.url, api_key="fal-key-id:rival-pictures")
    take = book(scene, fal, editor, django_capture_on_commit_callbacks)
    # Another team sends exactly the same input on its own fal account, just after ours was booked.
    provider_for(rival).submit(pipeline._request_for(take, Path(tmp_path)))
    killed_while_sending(take, created=False, tmp_path=tmp_path)

    sweep(django_capture_on_commit_callbacks)
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED and take.create_attempts == 2  # its own request, sent again
    rival_request = next(job.id for job in fal_account.jobs.values() if job.key == "fal-key-id:rival-pictures")
    assert not take.provider_job_id.startswith(rival_request)
    assert {job.key for job in fal_account.jobs.values()} == {fal_account.api_key, "fal-key-id:rival-pictures"}


def test_a_request_another_teams_take_holds_on_the_same_fal_account_is_never_adopted(
        fal, make_scene, editor, outsider, fal_account, django_capture_on_commit_callbacks, tmp_path, countdowns):
    """Two teams may paste keys of one fal account: its listing then shows both teams' requests."""
    from projects.storyboard import services as storyboard

    countdowns.freeze()
    rival_team = outsider.memberships.get().team
    shared_key = connections.connection_create(team=rival_team, user=outsider, kind="fal", label="fal",
                                               base_url=fal_account.url, api_key=fal_account.api_key)
    rival_scene = storyboard.scene_create(
        project=storyboard.project_create(team=rival_team, user=outsider, name="Rival Story"), user=outsider,
        title="Dawn", prompt="A harbour at dawn, mist on the water.", duration=4, size="1280x720",
        camera_notes="slow push-in")
    theirs = book(rival_scene, shared_key, outsider, django_capture_on_commit_callbacks)
    ours = book(make_scene(duration=4), fal, editor, django_capture_on_commit_callbacks)
    adapter = provider_for(fal)
    assert (adapter.build_input(pipeline._request_for(theirs, Path(tmp_path)))
            == adapter.build_input(pipeline._request_for(ours, Path(tmp_path))))  # fal sees the same input
    with django_capture_on_commit_callbacks(execute=True):  # their worker sends theirs and stores its id
        pipeline.render_submit(theirs.pk)
    theirs.refresh_from_db()
    assert theirs.status == Status.SUCCEEDED, theirs.error_message
    killed_while_sending(ours, created=False, tmp_path=tmp_path)

    sweep(django_capture_on_commit_callbacks)
    countdowns.run()

    ours.refresh_from_db()
    assert ours.status == Status.SUCCEEDED and ours.create_attempts == 2  # its own request, sent again
    assert ours.provider_job_id != theirs.provider_job_id
    assert len(fal_account.seen("POST", CREATE)) == 2

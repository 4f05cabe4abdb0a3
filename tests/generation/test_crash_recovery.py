"""A take whose create the provider accepted before its worker died is found again and finished;
one the provider's list never shows is sent again after the connection's look-up window; one whose
fate cannot be looked up is marked "unconfirmed — may be billed" with its cost kept. Never created twice."""

import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import Render, Status
from generation.providers import provider_for
from generation.renders import pipeline, services


def book(scene, connection, model_id, user, capture):
    with capture(execute=False):  # booked; its submit task is never run (the worker died)
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    return take


def killed_while_sending(take, *, created: bool, tmp_path):
    """What a worker killed mid-create leaves: the take submitting, its lease run out, no job id;
    and, when the provider had accepted the create, a job at the provider."""
    if created:
        request = pipeline._request_for(take, Path(tmp_path))
        provider_for(take.connection).submit(request)
    past = timezone.now() - timedelta(seconds=31)
    Render.objects.filter(pk=take.pk).update(status=Status.SUBMITTING, submitted_at=past, first_sent_at=past,
                                             create_attempts=1, lease_until=past)


def sweep(capture):
    with capture(execute=True):
        return pipeline.renders_resume_stalled()


@pytest.fixture
def four_seconds(make_scene):
    return make_scene(duration=4)


def test_an_accepted_create_is_found_in_the_gateway_list_and_finished_without_a_second_create(
        gateway, four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path):
    take = book(four_seconds, gateway, "veo-3.1", editor, django_capture_on_commit_callbacks)
    killed_while_sending(take, created=True, tmp_path=tmp_path)
    assert sweep(django_capture_on_commit_callbacks)["adopted"] == 1
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.provider_job_id == "job_1" or take.provider_job_id.startswith("job_")
    assert len(provider_server.seen("POST", r"/openai/v1/videos")) == 1  # one create, ever
    assert provider_server.seen("GET", r"/openai/v1/videos")[0].query["order"] == "desc"


def test_two_lost_takes_with_the_same_request_each_adopt_their_own_job(
        gateway, four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path):
    first = book(four_seconds, gateway, "veo-3.1", editor, django_capture_on_commit_callbacks)
    second = book(four_seconds, gateway, "veo-3.1", editor, django_capture_on_commit_callbacks)
    killed_while_sending(first, created=True, tmp_path=tmp_path)
    killed_while_sending(second, created=True, tmp_path=tmp_path)
    assert sweep(django_capture_on_commit_callbacks)["adopted"] == 2
    first.refresh_from_db(), second.refresh_from_db()
    assert {first.provider_job_id, second.provider_job_id} == set(provider_server.jobs)
    assert first.status == second.status == Status.SUCCEEDED


def test_a_create_the_provider_never_got_is_sent_again_once_its_list_stayed_empty_all_window(
        gateway, four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path, countdowns):
    countdowns.freeze()
    take = book(four_seconds, gateway, "veo-3.1", editor, django_capture_on_commit_callbacks)
    project = four_seconds.project
    killed_while_sending(take, created=False, tmp_path=tmp_path)

    assert sweep(django_capture_on_commit_callbacks)["looking"] == 1
    take.refresh_from_db()
    assert take.status == Status.CONFIRMING and take.create_attempts == 1
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.create_attempts == 2 and not take.billing_unconfirmed
    assert len(provider_server.seen("POST", r"/openai/v1/videos")) == 1  # the first never reached it
    assert len(provider_server.seen("GET", r"/openai/v1/videos")) > 3  # looked all window long first
    project.refresh_from_db()
    assert project.render_spend == Decimal("1.6")  # one take, booked once


def refusing_to_list(monkeypatch):
    from tests.fakes import provider_server as fake

    monkeypatch.setattr(fake, "openai_list", lambda server, h, r: fake.openai_error(
        h, 403, "Listing videos is not enabled on this gateway.", code="forbidden"))


def test_a_create_whose_fate_cannot_be_looked_up_is_unconfirmed_and_its_cost_stays_counted(
        gateway, four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path, client_for,
        monkeypatch):
    refusing_to_list(monkeypatch)
    take = book(four_seconds, gateway, "veo-3.1", editor, django_capture_on_commit_callbacks)
    project = four_seconds.project
    project.refresh_from_db()
    assert project.render_spend == Decimal("1.6")
    killed_while_sending(take, created=False, tmp_path=tmp_path)
    assert sweep(django_capture_on_commit_callbacks)["unconfirmed"] == 1
    take.refresh_from_db()
    assert take.status == Status.FAILED and take.billing_unconfirmed
    assert "GET " + provider_server.openai_base + "/videos" in take.error_message
    assert "Listing videos is not enabled on this gateway." in take.error_message
    project.refresh_from_db()
    assert project.render_spend == Decimal("1.6")  # never refunded: the provider may have billed it
    page = client_for(editor).get(reverse("projects:scene_panel", args=[project.pk, four_seconds.pk]))
    assert "Unconfirmed — may be billed" in page.content.decode()


def test_an_unconfirmed_take_says_so_on_every_surface_never_plain_failed(
        gateway, four_seconds, editor, owner, provider_server, django_capture_on_commit_callbacks, tmp_path,
        client_for, monkeypatch):
    from projects.models import Activity
    from projects.selectors import board_totals

    refusing_to_list(monkeypatch)
    take = book(four_seconds, gateway, "veo-3.1", editor, django_capture_on_commit_callbacks)
    project = four_seconds.project
    killed_while_sending(take, created=False, tmp_path=tmp_path)
    sweep(django_capture_on_commit_callbacks)
    hint = "GET " + provider_server.openai_base + "/videos"
    client = client_for(editor)

    panel = client.get(reverse("projects:scene_panel", args=[project.pk, four_seconds.pk])).content.decode()
    assert 'data-testid="take-status">Unconfirmed — may be billed</span>' in panel
    assert ">Failed</span>" not in panel and hint in panel
    assert "check its job list first" in panel  # retrying may pay twice: the button asks first
    board = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-status="unconfirmed">Unconfirmed — may be billed' in board
    assert 'data-testid="unconfirmed-spend" class="provenance-caution">incl. $1.60 unconfirmed' in board
    assert board_totals(project=project).unconfirmed == Decimal("1.6")  # the live channel's totals
    review_page = client.get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert 'data-testid="take-unconfirmed"' in review_page and "Unconfirmed — may be billed." in review_page
    assert hint in review_page
    feed = Activity.objects.filter(take=take).latest("pk").text
    assert feed.startswith(f"take {take.number} of {four_seconds.title} is unconfirmed: Unconfirmed — may be billed")
    project.refresh_from_db()
    assert project.render_spend == Decimal("1.6")


def test_a_replicate_prediction_is_found_in_the_account_list_and_finished(
        replicate, four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path):
    take = book(four_seconds, replicate, "google/veo-3.1", editor, django_capture_on_commit_callbacks)
    provider_server.scenario = "success"
    killed_while_sending(take, created=True, tmp_path=tmp_path)
    assert sweep(django_capture_on_commit_callbacks)["adopted"] == 1
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert len(provider_server.seen("POST", r"/replicate/v1/models/google/veo-3.1/predictions")) == 1
    assert provider_server.seen("GET", r"/replicate/v1/predictions")


def test_a_take_whose_worker_still_renews_its_lease_is_left_alone(
        gateway, four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path):
    take = book(four_seconds, gateway, "veo-3.1", editor, django_capture_on_commit_callbacks)
    long_ago = timezone.now() - timedelta(hours=1)
    Render.objects.filter(pk=take.pk).update(status=Status.SUBMITTING, submitted_at=long_ago, updated_at=long_ago,
                                             lease_until=timezone.now() + timedelta(seconds=20))
    assert sweep(django_capture_on_commit_callbacks)["unconfirmed"] == 0
    take.refresh_from_db()
    assert take.status == Status.SUBMITTING
    assert not provider_server.seen("GET", r"/openai/v1/videos")


def test_a_queued_take_nobody_picked_up_is_resubmitted_after_thirty_seconds_not_minutes(
        gateway, four_seconds, editor, provider_server, django_capture_on_commit_callbacks):
    take = book(four_seconds, gateway, "veo-3.1", editor, django_capture_on_commit_callbacks)
    Render.objects.filter(pk=take.pk).update(updated_at=timezone.now() - timedelta(seconds=31))
    assert sweep(django_capture_on_commit_callbacks)["resubmitted"] == 1
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert len(provider_server.seen("POST", r"/openai/v1/videos")) == 1

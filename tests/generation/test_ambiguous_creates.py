"""Unclear answers to a create: neither a second bill nor a take lost for nothing.

Behind a lax gateway (tests/fakes/lax_gateway.py) that ignores the Idempotency-Key, forwards slowly
and lists jobs late, on the test's clock: the studio looks for the job over the connection's window,
sends the create again only when the list kept showing nothing, fails without cost when nothing was
made, and finds, removes and shows a second job the gateway made anyway."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from generation.models import DuplicateCleanup, Render, Status
from generation.renders import lookups, pipeline, services

WINDOW = 300  # the gateway connection's look-up window (the default)


def render_on(connection, scene, user, capture, model_id="veo-3.1"):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


@pytest.fixture
def scene(make_scene):
    return make_scene(duration=4)


@pytest.fixture
def no_waits(monkeypatch):
    """Retries of a failing list wait nothing (they would sleep their backoff for real)."""
    import generation.providers

    monkeypatch.setattr(generation.providers, "_sleep", lambda seconds: None)


@pytest.fixture
def short_timeout(monkeypatch):
    """A read timeout shorter than the lax gateway's held answer, so a slow create times out at once."""
    from generation.providers import http

    real = http.make_client
    monkeypatch.setattr(http, "make_client", lambda **kw: real(**{**kw, "read": 0.1}))


def spend_of(scene) -> Decimal:
    scene.project.refresh_from_db()
    return scene.project.render_spend


def creates(provider_server, path=r"/openai/v1/videos"):
    return provider_server.seen("POST", path)


# --- (a) unclear answers, and a list that shows nothing ---------------------------------------------

def test_two_unclear_answers_and_a_list_empty_all_along_then_a_refusal_fail_the_take_without_cost(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, django_capture_on_commit_callbacks):
    lax_gateway.creates = ["500", "500", "refuse"]

    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    assert take.status == Status.CONFIRMING  # the worker is free; the next looks are countdowns
    assert spend_of(scene) == Decimal("1.6")  # booked while its fate is open
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.FAILED and not take.billing_unconfirmed
    assert take.status_label == "Failed"
    assert take.error_message.startswith("Gateway refused the request: The upstream provider refused the request.")
    assert "nothing was created, so nothing is counted for it" in take.error_message
    assert spend_of(scene) == 0  # given back: no provider ever made it
    # One key on every create; each resend came only after a whole window of empty looks.
    assert [r.headers["idempotency-key"] for r in creates(provider_server)] == [str(take.idempotency_key)] * 3
    first, second, third = lax_gateway.sent_at
    assert second - first >= WINDOW and third - second >= WINDOW
    assert lax_gateway.made == []


def test_two_unclear_answers_then_the_job_in_the_list_finish_the_take_with_one_job_billed(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, django_capture_on_commit_callbacks):
    # The first create was forwarded before the 502, and the gateway lists it only after 400 s: past the
    # first window, so the studio sends again (a 500, nothing forwarded), then sees the first job.
    lax_gateway.creates, lax_gateway.list_after = ["500-forwarded", "500"], 400

    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert lax_gateway.steps == ["500-forwarded", "500"]
    assert [take.provider_job_id] == lax_gateway.made == list(provider_server.jobs)  # one job, the take's
    assert take.duplicate_count == 0 and spend_of(scene) == Decimal("1.6")
    assert take.watch_lease_until is None  # watched a window after the resend, found nothing, stopped


def test_two_server_errors_then_an_accepted_create_finish_the_take_as_before(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, django_capture_on_commit_callbacks):
    lax_gateway.creates = ["500", "500", "ok"]

    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.create_attempts == 3 and lax_gateway.made == [take.provider_job_id]
    assert spend_of(scene) == Decimal("1.6")


def test_a_retry_after_a_failure_without_cost_books_its_cost_once(
        gateway, scene, editor, client_for, provider_server, lax_gateway, countdowns,
        django_capture_on_commit_callbacks):
    lax_gateway.creates = ["500", "500", "refuse"]
    failed = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run()
    assert spend_of(scene) == 0
    key = str(uuid.uuid4())

    client = client_for(editor)
    with django_capture_on_commit_callbacks(execute=True):
        for _click in range(2):  # a double click
            response = client.post(reverse("generation:render_retry", args=[failed.pk]), {"idempotency_key": key},
                                   HTTP_HX_REQUEST="true")
            assert response.status_code == 200

    retry = Render.objects.get(parent=failed)
    assert retry.status == Status.SUCCEEDED, retry.error_message
    assert spend_of(scene) == Decimal("1.6")  # the retry's cost, once; the failed take's was given back
    assert lax_gateway.made == [retry.provider_job_id]


def test_a_list_that_never_answers_all_window_leaves_the_take_unconfirmed_with_its_cost(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, monkeypatch, no_waits,
        django_capture_on_commit_callbacks):
    from tests.fakes import provider_server as fake

    monkeypatch.setattr(fake, "openai_list", lambda server, h, r: fake.openai_error(
        h, 503, "The server is overloaded.", kind="server_error"))
    lax_gateway.creates = ["500-forwarded"]

    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.FAILED and take.billing_unconfirmed
    assert take.error_message.startswith("Unconfirmed — may be billed: ")
    assert "job list did not answer in the 5 min the studio looked" in take.error_message
    assert len(creates(provider_server)) == 1  # never sent again blind
    assert spend_of(scene) == Decimal("1.6")


# --- (b) a gateway that forwards slowly and ignores the key --------------------------------------------

def test_a_timed_out_create_whose_job_lists_late_within_the_window_is_adopted_not_sent_again(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, short_timeout,
        django_capture_on_commit_callbacks):
    lax_gateway.creates, lax_gateway.list_after = ["slow"], 60

    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    assert take.status == Status.CONFIRMING
    ran = countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert len(creates(provider_server)) == 1 and [take.provider_job_id] == lax_gateway.made
    assert [name for name, *_ in ran] == ["look_up_render"] * len(ran)  # no resend, so no watch either
    found_after = ran[-1][2].timestamp() - lax_gateway.sent_at[0]
    assert 60 <= found_after < 2 * 60  # the gaps between looks grow, but never far past the job's listing


def test_a_lost_answer_is_looked_for_as_long_as_the_connection_says(
        gateway, scene, editor, client_for, owner, provider_server, lax_gateway, countdowns,
        django_capture_on_commit_callbacks):
    client_for(owner).post(reverse("generation:connection_edit", args=[gateway.team_id, gateway.pk]), {
        "label": gateway.label, "base_url": gateway.base_url, "auth_style": "bearer",
        "lookup_window_seconds": "900"})
    gateway.refresh_from_db()
    assert gateway.lookup_window_seconds == 900
    lax_gateway.creates, lax_gateway.list_after = ["drop"], 600  # the connection lost after sending

    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert len(creates(provider_server)) == 1  # found at 600 s: within this gateway's 15 minutes


def test_a_duplicate_the_gateway_makes_anyway_is_found_deleted_and_shown_on_the_take_and_in_spend(
        gateway, scene, editor, owner, client_for, provider_server, lax_gateway, countdowns, short_timeout,
        django_capture_on_commit_callbacks):
    # The first create times out and its job lists only after 400 s: the studio sends again after its
    # 300 s window, the gateway ignores the key and makes a second job, and the first one shows later.
    lax_gateway.creates, lax_gateway.list_after = ["slow", "ok"], 400

    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run()

    take.refresh_from_db()
    first, second = lax_gateway.made
    assert take.status == Status.SUCCEEDED and take.provider_job_id == second
    (duplicate,) = take.duplicates.all()
    assert duplicate.provider_job_id == first and duplicate.cleanup == DuplicateCleanup.DELETED
    assert provider_server.deleted == [first]  # deleted once it ended (the format has no cancel)
    assert not provider_server.seen("GET", rf"/openai/v1/videos/{first}/content")  # never downloaded
    assert (take.duplicate_count, take.duplicate_cost) == (1, Decimal("1.6"))
    assert spend_of(scene) == Decimal("3.2")  # both jobs were billed: both count
    assert take.watch_lease_until is None

    panel = client_for(editor).get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk]),
                                   HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="take-duplicate"' in panel
    assert f"A duplicate the provider created:</strong> job {first} was made for this take beside its own" in panel
    assert "Deleted by the studio once it ended." in panel
    spend = client_for(owner).get(reverse("generation:team_spend", args=[scene.project.team_id])).content.decode()
    assert 'data-testid="spend-total">$3.20<' in spend
    assert "incl. $1.60 for a duplicate the provider created" in spend
    assert 'data-testid="spend-duplicate-row"' in spend and first in spend


def test_a_duplicate_at_a_provider_with_a_cancel_is_canceled(
        replicate, scene, editor, provider_server, lax_gateway, countdowns, django_capture_on_commit_callbacks):
    lax_gateway.creates, lax_gateway.list_after = ["drop", "ok"], 400

    take = render_on(replicate, scene, editor, django_capture_on_commit_callbacks, model_id="google/veo-3.1")
    countdowns.run()

    take.refresh_from_db()
    first, second = lax_gateway.made
    assert take.status == Status.SUCCEEDED and take.provider_job_id == second
    assert take.duplicates.get().cleanup == DuplicateCleanup.CANCELED
    assert provider_server.seen("POST", rf"/replicate/v1/predictions/{first}/cancel")
    assert provider_server.jobs[first].canceled and not provider_server.jobs[second].canceled


def test_a_job_another_take_owns_is_never_taken_for_a_duplicate(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, short_timeout,
        django_capture_on_commit_callbacks):
    lax_gateway.creates, lax_gateway.list_after = ["500", "ok"], 0
    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run(until=WINDOW + 1)  # resent, and rendering: its watch runs
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED and take.watch_lease_until is not None
    lax_gateway.creates = ["ok"]
    other = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)  # the same request, again

    countdowns.run()

    take.refresh_from_db()
    assert other.provider_job_id != take.provider_job_id
    assert take.duplicate_count == 0 and provider_server.deleted == []


# --- a worker that dies, a task delivered twice ----------------------------------------------------------

def test_a_look_up_delivered_twice_looks_once(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, django_capture_on_commit_callbacks):
    lax_gateway.creates = ["500"]
    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    (_name, args, _due), = countdowns.pending
    looks = len(provider_server.seen("GET", r"/openai/v1/videos"))

    assert lookups.render_look_up(*args[:1], seq=args[1]) == "looking"
    assert lookups.render_look_up(*args[:1], seq=args[1]) == "taken"

    assert len(provider_server.seen("GET", r"/openai/v1/videos")) == looks + 1
    take.refresh_from_db()
    assert take.status == Status.CONFIRMING


def test_a_look_up_whose_countdown_was_lost_is_resumed_by_the_sweeper(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, django_capture_on_commit_callbacks):
    lax_gateway.creates, lax_gateway.list_after = ["500-forwarded"], 100
    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.drop()  # the worker holding the next look died with it
    countdowns.advance(120)

    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.renders_resume_stalled()["looking"] == 1
        assert pipeline.renders_resume_stalled()["looking"] == 0  # claimed: a second sweep leaves it
    countdowns.run()

    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    assert len(creates(provider_server)) == 1


def test_a_watch_whose_countdown_was_lost_is_resumed_by_the_sweeper(
        gateway, scene, editor, provider_server, lax_gateway, countdowns, short_timeout,
        django_capture_on_commit_callbacks):
    lax_gateway.creates, lax_gateway.list_after = ["slow", "ok"], 400
    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run(until=WINDOW + 10)  # resent; the watch has begun
    countdowns.drop()
    countdowns.advance(200)  # the first job shows meanwhile

    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.renders_resume_stalled()["watches"] == 1
    countdowns.run()

    take.refresh_from_db()
    assert take.duplicates.get().cleanup == DuplicateCleanup.DELETED


def test_a_take_being_looked_for_cannot_be_canceled(
        gateway, scene, editor, client_for, provider_server, lax_gateway, countdowns,
        django_capture_on_commit_callbacks):
    lax_gateway.creates = ["500"]
    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)

    response = client_for(editor).post(reverse("generation:render_cancel", args=[take.pk]), HTTP_HX_REQUEST="true")

    assert "still finding out whether the provider made this take" in response.content.decode()
    take.refresh_from_db()
    assert take.status == Status.CONFIRMING and spend_of(scene) == Decimal("1.6")
    panel = client_for(editor).get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk]),
                                   HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="take-looking"' in panel and 'data-testid="cancel-button"' not in panel
    assert "Checking with the provider" in panel


# --- the connection's window, and other teams ----------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ("10", "At least 30 seconds"),
    ("7200", "At most 3600 seconds"),
    ("five minutes", "Write the window as a whole number of seconds"),
])
def test_an_owner_is_told_why_a_look_up_window_is_refused(client_for, owner, gateway, value, message):
    response = client_for(owner).post(reverse("generation:connection_edit", args=[gateway.team_id, gateway.pk]), {
        "label": gateway.label, "base_url": gateway.base_url, "auth_style": "bearer", "lookup_window_seconds": value})

    assert response.status_code == 200 and message in response.content.decode()
    gateway.refresh_from_db()
    assert gateway.lookup_window_seconds == WINDOW


def test_another_teams_spend_page_shows_none_of_our_duplicates(
        gateway, scene, editor, outsider, client_for, provider_server, lax_gateway, countdowns, short_timeout,
        django_capture_on_commit_callbacks):
    lax_gateway.creates, lax_gateway.list_after = ["slow", "ok"], 400
    take = render_on(gateway, scene, editor, django_capture_on_commit_callbacks)
    countdowns.run()
    take.refresh_from_db()
    assert take.duplicate_count == 1
    rival = outsider.memberships.get().team

    page = client_for(outsider).get(reverse("generation:team_spend", args=[rival.pk])).content.decode()

    assert 'data-testid="spend-duplicate-row"' not in page and take.duplicates.get().provider_job_id not in page
    assert client_for(outsider).get(reverse("generation:team_spend", args=[scene.project.team_id])).status_code == 404

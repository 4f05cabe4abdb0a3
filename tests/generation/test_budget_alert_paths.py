"""Every booking path raises the same budget alerts, once per cap and level: a take booked from the
board, a re-render started from the review page, a batch, a retry and a remix.

Wan 2.7 on the priced gateway costs $2.00 a take; the team's budget is $6.00, so the first take is
33 %, the second 67 % and the third 100 % (both the 80 % and the 100 % alert at once)."""

import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from generation.models import Render, Status
from generation.renders import batch, services
from projects.models import BudgetAlert, Comment, Notification, NotificationKind
from projects.review import services as review

MONTH = f"{timezone.now():%B}"
AT_80 = f"Budget alert: the team's {MONTH} budget is 80 % committed ($6.00 of $6.00)"
AT_100 = f"Budget alert: the team's {MONTH} budget is spent ($6.00 of $6.00 committed)"
REFUSED = f"Budget alert: the team's {MONTH} budget is spent ($4.00 of $6.00 committed; a $2.00 booking was refused)"


@pytest.fixture
def gateway(priced_gateway):
    return priced_gateway


@pytest.fixture(autouse=True)
def unsent(monkeypatch):
    from generation.tasks import submit_render

    monkeypatch.setattr(submit_render, "delay_on_commit", lambda *a: None)  # booked takes stay booked, unsent


@pytest.fixture
def budget_of_6(team):
    team.monthly_budget = Decimal("6.00")
    team.save()


def book(scene, user, connection):
    return services.render_create(scene=scene, user=user, connection=connection, model_id="wan-2.7",
                                  idempotency_key=uuid.uuid4())[0]


def finished(take):
    """The provider made it: a take one can review, remix or (had it failed) retry."""
    Render.objects.filter(pk=take.pk).update(status=Status.SUCCEEDED, provider_job_id=f"job_{take.pk}")
    take.refresh_from_db()
    return take


def owners_alerts(owner):
    return list(Notification.objects.filter(recipient=owner, kind=NotificationKind.BUDGET)
                .order_by("pk").values_list("text", flat=True))


def alert_emails():
    return [m.subject for m in mail.outbox if "Budget alert" in m.subject]


@pytest.fixture
def two_booked(budget_of_6, make_scene, editor, gateway):
    """$4.00 of $6.00 committed (67 %: no alert yet); the second take finished, for review."""
    scene = make_scene(duration=4)
    book(scene, editor, gateway)
    return scene, finished(book(scene, editor, gateway))


# --- the review page ------------------------------------------------------------------

def test_a_re_render_from_the_review_decision_that_spends_the_budget_alerts_once(
        client_for, owner, editor, two_booked, django_capture_on_commit_callbacks):
    scene, take = two_booked
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(reverse("projects:take_decide", args=[take.pk]), {
            "decision": "changes", "note": "Warmer light", "rerender": "1", "prompt": "Dawn, warmer light.",
            "idempotency_key": str(uuid.uuid4())})

    assert response.status_code == 302 and scene.renders.count() == 3
    assert owners_alerts(owner) == [AT_80, AT_100]
    assert alert_emails() == [f"[Storyboard Studio] {AT_80}", f"[Storyboard Studio] {AT_100}"]
    assert BudgetAlert.objects.filter(level=100).count() == 1


def test_a_re_render_answering_a_comment_that_spends_the_budget_alerts_once(
        client_for, owner, editor, reviewer, two_booked, django_capture_on_commit_callbacks):
    scene, take = two_booked
    comment = review.take_request_changes(take=take, user=reviewer, note="Seagulls, please")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(reverse("projects:comment_rerender", args=[comment.pk]), {
            "prompt": "A harbour at dawn with seagulls.", "idempotency_key": str(uuid.uuid4())})

    assert response.status_code == 302 and scene.renders.count() == 3
    assert owners_alerts(owner) == [AT_80, AT_100]
    assert alert_emails() == [f"[Storyboard Studio] {AT_80}", f"[Storyboard Studio] {AT_100}"]


def test_a_re_render_from_review_refused_by_the_budget_still_tells_the_owners_it_is_used_up(
        client_for, owner, editor, team, two_booked, django_capture_on_commit_callbacks):
    scene, take = two_booked
    team.monthly_budget = Decimal("5.00")  # $4.00 committed: the next $2.00 take does not fit
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(reverse("projects:take_decide", args=[take.pk]), {
            "decision": "changes", "note": "Warmer light", "rerender": "1", "prompt": "Dawn, warmer light.",
            "idempotency_key": str(uuid.uuid4())})

    assert response.status_code == 422 and "Over the team&#x27;s" in response.content.decode()
    assert scene.renders.count() == 2 and not Comment.objects.exists()  # all or nothing, as before
    scene.refresh_from_db()
    assert scene.prompt != "Dawn, warmer light."
    spent = f"Budget alert: the team's {MONTH} budget is spent ($4.00 of $5.00 committed; a $2.00 booking was refused)"
    assert owners_alerts(owner) == [spent]
    assert alert_emails() == [f"[Storyboard Studio] {spent}"]


def test_a_re_render_answering_a_comment_refused_by_the_budget_alerts_too(
        client_for, owner, editor, reviewer, team, two_booked, django_capture_on_commit_callbacks):
    scene, take = two_booked
    comment = review.take_request_changes(take=take, user=reviewer, note="Seagulls, please")
    team.monthly_budget = Decimal("5.00")
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(reverse("projects:comment_rerender", args=[comment.pk]), {
            "prompt": "A harbour at dawn with seagulls.", "idempotency_key": str(uuid.uuid4())})

    assert scene.renders.count() == 2
    assert owners_alerts(owner) == [
        f"Budget alert: the team's {MONTH} budget is spent ($4.00 of $5.00 committed; a $2.00 booking was refused)"]


# --- the other booking paths --------------------------------------------------------------

def test_a_batch_that_spends_the_budget_alerts_once(owner, editor, project, make_scene, gateway, budget_of_6,
                                                    django_capture_on_commit_callbacks):
    scenes = [make_scene(title=f"Shot {i}", duration=4) for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                           scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())

    assert Render.objects.count() == 3
    assert owners_alerts(owner) == [AT_80, AT_100]
    assert len(alert_emails()) == 2


def test_a_retry_that_spends_the_budget_alerts_once(owner, editor, two_booked, django_capture_on_commit_callbacks):
    scene, take = two_booked
    Render.objects.filter(pk=take.pk).update(status=Status.FAILED)  # the provider had it: its $2.00 stays counted
    take.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.render_retry(render=take, user=editor, idempotency_key=uuid.uuid4())

    assert scene.renders.count() == 3
    assert owners_alerts(owner) == [AT_80, AT_100]
    assert len(alert_emails()) == 2


def test_a_remix_that_spends_the_budget_alerts_once(owner, editor, gateway, two_booked,
                                                    django_capture_on_commit_callbacks):
    gateway.models.filter(model_id="wan-2.7").update(supports_remix=True)
    scene, take = two_booked
    with django_capture_on_commit_callbacks(execute=True):
        services.render_remix(render=take, user=editor, prompt="Add gulls.", idempotency_key=uuid.uuid4())

    assert scene.renders.count() == 3
    assert owners_alerts(owner) == [AT_80, AT_100]
    assert len(alert_emails()) == 2


def test_a_remix_refused_by_the_budget_tells_the_owners_it_is_used_up(owner, editor, team, gateway, two_booked,
                                                                      django_capture_on_commit_callbacks):
    gateway.models.filter(model_id="wan-2.7").update(supports_remix=True)
    scene, take = two_booked
    team.monthly_budget = Decimal("5.00")
    team.save()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError, match="Over the team's"):
        services.render_remix(render=take, user=editor, prompt="Add gulls.", idempotency_key=uuid.uuid4())

    assert scene.renders.count() == 2
    assert owners_alerts(owner) == [
        f"Budget alert: the team's {MONTH} budget is spent ($4.00 of $5.00 committed; a $2.00 booking was refused)"]


# --- once per cap and level, whichever path gets there first ---------------------------------

def test_a_refusal_after_the_budget_was_spent_by_a_re_render_does_not_alert_again(
        client_for, owner, editor, make_scene, gateway, two_booked, django_capture_on_commit_callbacks):
    scene, take = two_booked
    with django_capture_on_commit_callbacks(execute=True):
        client_for(owner).post(reverse("projects:take_decide", args=[take.pk]), {
            "decision": "changes", "note": "Warmer light", "rerender": "1", "prompt": "Dawn, warmer light.",
            "idempotency_key": str(uuid.uuid4())})
        with pytest.raises(ValidationError, match="Over the team's"):
            book(make_scene(duration=4), editor, gateway)

    assert owners_alerts(owner) == [AT_80, AT_100]
    assert len(alert_emails()) == 2

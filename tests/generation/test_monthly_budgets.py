"""A team's monthly budget and each member's monthly cap: every booking path checks them with the
project's budget, the refusal names the budget and what is left, and owners hear at 80 % and 100 %."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from generation.models import Render, Status
from generation.renders import batch, services
from generation.spend import budget
from projects.models import Membership, Notification, NotificationKind, Role
from projects.storyboard import services as projects

MONTH = f"{timezone.now():%B}"


@pytest.fixture
def gateway(priced_gateway):
    return priced_gateway  # Wan 2.7: 4 s at $0.50 a second, $2.00 a take


def book(scene, user, connection, model_id="wan-2.7"):
    return services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                  idempotency_key=uuid.uuid4())[0]


def set_team_budget(team, amount):
    team.monthly_budget = Decimal(amount)
    team.save()


def set_member_cap(team, user, amount):
    Membership.objects.filter(team=team, user=user).update(monthly_budget=Decimal(amount))


def test_the_team_budget_counts_every_project_and_names_what_is_left(team, owner, project, make_scene, editor,
                                                                     gateway):
    set_team_budget(team, "5.00")
    other = projects.project_create(team=team, user=owner, name="Lighthouse")
    book(make_scene(duration=4), editor, gateway)
    book(make_scene(duration=4, project=other), editor, gateway)
    with pytest.raises(ValidationError) as refused:
        book(make_scene(duration=4), editor, gateway)
    assert refused.value.messages == [(f"Over the team's {MONTH} budget: $1.00 of $5.00 left, and this costs "
                                       "$2.00. An owner can raise it on the team page.")]
    assert Render.objects.count() == 2
    assert budget.team_month_spend(team.pk) == Decimal("4.00")


def test_last_months_takes_and_refunded_takes_do_not_count(team, project, make_scene, editor, gateway):
    set_team_budget(team, "4.00")
    scene = make_scene(duration=4)
    old = book(scene, editor, gateway)
    Render.objects.filter(pk=old.pk).update(created_at=budget.month_start() - timedelta(seconds=1))
    never_sent = book(scene, editor, gateway)
    never_sent.mark_failed("The take's inputs could not be prepared.")  # nobody billed for it
    book(scene, editor, gateway)
    book(scene, editor, gateway)  # $4.00 this month: exactly the budget
    assert budget.team_month_spend(team.pk) == Decimal("4.00")
    with pytest.raises(ValidationError, match="Over the team's"):
        book(scene, editor, gateway)


def test_a_take_the_provider_may_have_billed_stays_counted(team, project, make_scene, editor, gateway):
    set_team_budget(team, "2.00")
    scene = make_scene(duration=4)
    sent = book(scene, editor, gateway)
    Render.objects.filter(pk=sent.pk).update(provider_job_id="job_1")
    sent.refresh_from_db()
    sent.mark_failed("Refused by the provider")
    with pytest.raises(ValidationError, match=r"\$0.00 of \$2.00 left"):
        book(scene, editor, gateway)


def test_a_member_cap_holds_that_member_only(team, project, make_scene, editor, make_member, gateway):
    set_member_cap(team, editor, "3.00")
    scene = make_scene(duration=4)
    book(scene, editor, gateway)
    with pytest.raises(ValidationError) as refused:
        book(scene, editor, gateway)
    assert refused.value.messages == [
        f"Over eddie's {MONTH} cap: $1.00 of $3.00 left, and this costs $2.00. An owner can raise it on the team page."]
    colleague = make_member(team, Role.EDITOR, "carla")
    assert book(scene, colleague, gateway).cost == Decimal("2.00")


def test_every_cap_that_is_short_is_named(team, project, make_scene, editor, gateway):
    set_team_budget(team, "1.00")
    set_member_cap(team, editor, "1.50")
    project.budget = Decimal("0.50")
    project.save()
    with pytest.raises(ValidationError) as refused:
        book(make_scene(duration=4), editor, gateway)
    words = " ".join(refused.value.messages)
    assert f"Over the team's {MONTH} budget: $1.00 of $1.00 left" in words
    assert f"Over eddie's {MONTH} cap: $1.50 of $1.50 left" in words
    assert "Over budget: this costs $2.00, and $0.00 of Harbour Story's $0.50" in words
    assert not Render.objects.exists()


def test_free_previz_takes_render_when_the_month_is_spent(team, project, scene, editor, render_take):
    set_team_budget(team, "0")
    set_member_cap(team, editor, "0")
    assert render_take(scene).status == Status.SUCCEEDED


def test_a_batch_past_the_team_budget_books_nothing(team, project, make_scene, editor, gateway):
    set_team_budget(team, "3.00")
    scenes = [make_scene(title=f"Shot {i}", duration=4) for i in range(2)]
    with pytest.raises(ValidationError, match=r"Over the team's .* budget: \$3.00 of \$3.00 left, and this costs "
                                              r"\$4.00"):
        batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                           scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())
    assert not Render.objects.exists()


def test_a_retry_is_held_by_the_member_cap(team, project, make_scene, editor, gateway):
    set_member_cap(team, editor, "2.00")
    failed = book(make_scene(duration=4), editor, gateway)
    Render.objects.filter(pk=failed.pk).update(provider_job_id="job_1")
    failed.refresh_from_db()
    failed.mark_failed("Refused by the provider")  # billed, perhaps: its $2.00 stays counted
    with pytest.raises(ValidationError, match=r"Over eddie's .* cap: \$0.00 of \$2.00 left"):
        services.render_retry(render=failed, user=editor, idempotency_key=uuid.uuid4())
    assert Render.objects.count() == 1


def test_a_remix_is_held_by_the_team_budget(team, project, make_scene, editor, gateway):
    gateway.models.filter(model_id="wan-2.7").update(supports_remix=True)
    set_team_budget(team, "2.00")
    finished = book(make_scene(duration=4), editor, gateway)
    Render.objects.filter(pk=finished.pk).update(status=Status.SUCCEEDED, provider_job_id="job_1")
    finished.refresh_from_db()
    with pytest.raises(ValidationError, match=r"Over the team's .* budget: \$0.00 of \$2.00 left"):
        services.render_remix(render=finished, user=editor, prompt="Add gulls.", idempotency_key=uuid.uuid4())
    assert Render.objects.count() == 1


def test_owners_hear_once_at_80_and_once_at_100_percent(team, owner, project, make_scene, editor, gateway,
                                                        django_capture_on_commit_callbacks, monkeypatch):
    from generation.tasks import submit_render

    monkeypatch.setattr(submit_render, "delay_on_commit", lambda *a: None)  # the takes stay booked, unsent
    set_team_budget(team, "10.00")
    scene = make_scene(duration=4)

    def budget_notes():
        return list(Notification.objects.filter(recipient=owner, kind=NotificationKind.BUDGET)
                    .order_by("pk").values_list("text", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            book(scene, editor, gateway)  # $6.00: 60 %
    assert budget_notes() == []
    with django_capture_on_commit_callbacks(execute=True):
        book(scene, editor, gateway)  # $8.00: 80 %
        book(scene, editor, gateway)  # $10.00: 100 %
    assert budget_notes() == [
        f"Budget alert: the team's {MONTH} budget is 80 % committed ($8.00 of $10.00)",
        f"Budget alert: the team's {MONTH} budget is spent ($10.00 of $10.00 committed)",
    ]
    assert [m.to for m in mail.outbox if "Budget alert" in m.subject] == [[owner.email], [owner.email]]
    assert not Notification.objects.filter(recipient=editor, kind=NotificationKind.BUDGET).exists()

    # Raised, and reached again the same month: already told.
    set_team_budget(team, "12.00")
    with django_capture_on_commit_callbacks(execute=True):
        book(scene, editor, gateway)
    assert len(budget_notes()) == 2


def test_a_member_cap_warns_the_owners_with_the_members_name(team, owner, project, make_scene, editor, gateway):
    set_member_cap(team, editor, "2.50")
    book(make_scene(duration=4), editor, gateway)
    assert list(Notification.objects.filter(recipient=owner, kind=NotificationKind.BUDGET)
                .values_list("text", flat=True)) == [f"Budget alert: eddie's {MONTH} cap is 80 % committed ($2.00 of $2.50)"]


def test_a_refused_booking_tells_the_owners_the_budget_is_used_up_once(team, owner, project, make_scene, editor,
                                                                       gateway):
    """Takes rarely add up to a budget exactly: the first refusal is the 100 % alert."""
    set_team_budget(team, "3.00")
    scene = make_scene(duration=4)
    book(scene, editor, gateway)  # $2.00: 67 %
    for _ in range(2):
        with pytest.raises(ValidationError, match="Over the team's"):
            book(scene, editor, gateway)
    with pytest.raises(ValidationError, match="Over the team's"):
        batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                           scene_ids=[make_scene(duration=4).pk], idempotency_key=uuid.uuid4())
    assert list(Notification.objects.filter(recipient=owner, kind=NotificationKind.BUDGET)
                .values_list("text", flat=True)) == [
        f"Budget alert: the team's {MONTH} budget is spent ($2.00 of $3.00 committed; a $2.00 booking was refused)"]
    assert Render.objects.count() == 1


def test_a_refusal_by_the_batch_alone_also_alerts(team, owner, project, make_scene, editor, gateway):
    set_team_budget(team, "3.00")
    with pytest.raises(ValidationError):
        batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                           scene_ids=[make_scene(duration=4).pk, make_scene(duration=4).pk],
                           idempotency_key=uuid.uuid4())
    assert Notification.objects.filter(recipient=owner, kind=NotificationKind.BUDGET).count() == 1


def test_a_zero_cap_refuses_paid_takes_without_alerts(team, owner, project, make_scene, editor, gateway):
    set_team_budget(team, "0")
    with pytest.raises(ValidationError, match=r"\$0.00 of \$0.00 left"):
        book(make_scene(duration=4), editor, gateway)
    assert not Notification.objects.filter(kind=NotificationKind.BUDGET).exists()


def test_the_batch_plan_names_the_team_budget_it_would_break(client_for, team, project, make_scene, editor, gateway):
    from django.urls import reverse

    set_team_budget(team, "3.00")
    [make_scene(title=f"Shot {i}", duration=4) for i in range(2)]  # $4.00 together
    page = client_for(editor).get(reverse("generation:batch_render", args=[project.pk]),
                                  {"target": f"{gateway.pk}:wan-2.7", "scope": "all"}).content.decode()
    assert f"Over the team&#x27;s {MONTH} budget: $3.00 of $3.00 left, so nothing would be booked" in page
    assert 'data-testid="batch-button" disabled' in page


def test_a_take_billed_above_its_estimate_counts_at_what_was_billed(team, make_scene, editor, gateway):
    set_team_budget(team, "5.00")
    first = book(make_scene(duration=4), editor, gateway)  # estimated $2.00
    Render.objects.filter(pk=first.pk).update(billed_cost=Decimal("3.50"))  # the provider reported more
    assert budget.team_month_spend(team.pk) == Decimal("3.50")
    with pytest.raises(ValidationError) as refused:
        book(make_scene(duration=4), editor, gateway)
    assert "$1.50 of $5.00 left" in refused.value.messages[0]

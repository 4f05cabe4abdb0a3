"""A project's render budget: nothing that would spend past it is booked, by one click or many."""

import re
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.models import Render, Status
from generation.renders import batch, services
from generation.spend import budget


@pytest.fixture
def gateway(priced_gateway):
    return priced_gateway


def book(scene, user, connection, model_id="wan-2.7"):
    return services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                  idempotency_key=uuid.uuid4())[0]


def test_a_take_that_would_spend_past_the_budget_is_refused(project, make_scene, editor, gateway):
    project.budget = Decimal("5.00")
    project.save()
    scene = make_scene(duration=4)  # $2.00 a take
    book(scene, editor, gateway)
    book(scene, editor, gateway)
    with pytest.raises(ValidationError, match=r"Over budget: this costs \$2.00, and \$4.00 .* \$5.00 .*\$1.00 left"):
        book(scene, editor, gateway)
    assert Render.objects.filter(scene=scene).count() == 2
    assert budget.committed(project) == Decimal("4.00")


def test_free_previz_takes_render_even_when_the_budget_is_spent(project, make_scene, editor, gateway,
                                                               finished_take):
    book(make_scene(duration=4), editor, gateway)  # $2.00 committed…
    project.budget = Decimal("1.00")  # …then the owner lowered the budget below it
    project.save()
    take = finished_take(make_scene())
    assert take.status == Status.SUCCEEDED


def test_takes_that_never_reached_a_provider_do_not_count(project, make_scene, editor, gateway):
    project.budget = Decimal("2.00")
    project.save()
    scene = make_scene(duration=4)
    first = book(scene, editor, gateway)
    first.mark_failed("The take's inputs could not be prepared.")  # never sent: nobody billed for it
    second = book(scene, editor, gateway)
    Render.objects.filter(pk=second.pk).update(provider_job_id="job_1")
    second.refresh_from_db()
    second.mark_failed("Refused by the provider")  # sent: the provider may bill for it
    with pytest.raises(ValidationError, match="Over budget"):
        book(scene, editor, gateway)


def test_a_batch_past_the_budget_books_nothing_and_the_plan_says_so(client_for, project, make_scene, editor,
                                                                    gateway):
    project.budget = Decimal("3.00")
    project.save()
    scenes = [make_scene(title=f"Shot {i}", duration=4) for i in range(2)]  # $4.00 together
    target = f"{gateway.pk}:wan-2.7"
    url = reverse("generation:batch_render", args=[project.pk])
    plan_page = client_for(editor).get(url, {"target": target, "scope": "all"}).content.decode()
    assert "Over budget: $3.00 of the project" in plan_page
    assert re.search(r'data-testid="batch-button" disabled', plan_page)
    with pytest.raises(ValidationError, match="Over budget"):
        batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                           scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())
    assert not Render.objects.exists()


def test_owners_set_the_budget_on_the_storyboard_and_others_cannot(client_for, project, owner, editor):
    url = reverse("projects:project_budget", args=[project.pk])
    assert client_for(editor).post(url, {"budget": "1000"}).status_code == 403
    page = client_for(owner).post(url, {"budget": "250"}, follow=True).content.decode()
    assert "Render budget set to $250.00." in page and "$0.00 of $250.00 committed" in page
    page = client_for(owner).post(url, {"budget": "-5"}, follow=True).content.decode()
    assert "can&#x27;t be negative" in page
    project.refresh_from_db()
    assert project.budget == Decimal("250")
    client_for(owner).post(url, {"budget": ""})
    project.refresh_from_db()
    assert project.budget is None


def test_deleting_a_scene_does_not_give_its_takes_money_back(project, make_scene, editor, owner, gateway):
    from projects.storyboard import trash

    project.budget = Decimal("2.00")
    project.save()
    spent = make_scene(title="Spent", duration=4)
    book(spent, editor, gateway)  # $2.00 went to the provider
    trash.scene_trash(scene=spent, user=owner)
    with pytest.raises(ValidationError, match=r"\$2.00 of .* already committed"):
        book(make_scene(title="Again", duration=4), editor, gateway)
    assert budget.committed(project) == Decimal("2.00")

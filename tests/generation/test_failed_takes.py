"""A take that failed keeps its cost only when the provider bills such a job, and its card says which.

Rendered through the real services and tasks against the strict local fakes: Google's safety filters
refuse without charging ("You have not been charged"); Runway bills a moderated generation like a
successful one; an OpenAI-format gateway may forward to a provider that bills, so it is kept; a result
that expired was a finished job, and billed.
"""

import importlib
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from generation.models import Render, Status
from generation.providers import connections
from generation.renders import services
from generation.spend import budget

FAST = "veo-3.1-fast-generate-preview"  # $0.15 a second


@pytest.fixture
def veo(team, owner, veo_server, veo_previews_live):
    return connections.connection_create(team=team, user=owner, kind="veo", label="Google Veo",
                                         base_url=veo_server.url, api_key=veo_server.api_key)


@pytest.fixture
def runway(team, owner, runway_server):
    return connections.connection_create(team=team, user=owner, kind="runway", label="Runway",
                                         base_url=runway_server.url, api_key=runway_server.api_key)


def rendered(connection, scene, user, capture, model_id):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def committed(project) -> Decimal:
    project.refresh_from_db()
    return project.render_spend


def card(client, take) -> str:
    return client.get(reverse("projects:scene_panel", args=[take.scene.project_id, take.scene_id])).content.decode()


def cost_outcome(html: str) -> str:
    start = html.index('data-testid="take-cost-outcome">') + len('data-testid="take-cost-outcome">')
    return html[start:html.index("</p>", start)]


def test_a_take_googles_safety_filters_refused_is_not_charged_and_gives_its_estimate_back(
        veo, make_scene, project, team, editor, veo_server, client_for, django_capture_on_commit_callbacks):
    veo_server.scenario = "rai-filtered"  # Google: "You have not been charged."

    take = rendered(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks, FAST)

    assert take.status == Status.FAILED and take.provider_job_id  # Google had the job, and refused it
    assert take.cost == Decimal("0.60")
    assert committed(project) == Decimal("0")
    assert budget.team_month_spend(team.pk) == Decimal("0")
    assert budget.member_month_spend(team.pk, editor.pk) == Decimal("0")
    html = card(client_for(editor), take)
    assert cost_outcome(html) == "Not charged"
    assert '<s data-testid="take-cost-given-back">$0.60</s>' in html  # not "$0.60 estimated"


def test_a_job_google_ran_and_failed_for_another_reason_keeps_its_cost(
        veo, make_scene, project, editor, veo_server, client_for, django_capture_on_commit_callbacks):
    veo_server.scenario = "failed"  # done with an internal error: only a refusal is known to be free

    take = rendered(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks, FAST)

    assert take.status == Status.FAILED and take.error_message.startswith("Google could not make the video")
    assert committed(project) == Decimal("0.60")
    assert cost_outcome(card(client_for(editor), take)) == "Cost kept: the provider may bill a job that failed"


def test_a_runway_moderation_refusal_keeps_its_cost_and_says_the_provider_bills_it(
        runway, make_scene, project, team, editor, runway_server, client_for, django_capture_on_commit_callbacks):
    runway_server.scenario = "moderation"  # Runway: moderated generations cost as much as successful ones

    take = rendered(runway, make_scene(duration=5), editor, django_capture_on_commit_callbacks, "gen4.5")

    assert take.status == Status.FAILED and take.cost == Decimal("0.60")
    assert committed(project) == Decimal("0.60")
    assert budget.team_month_spend(team.pk) == Decimal("0.60")
    # The failed task says what Runway charged for it (cost.credits): the card says it was billed.
    assert take.billed_cost == Decimal("0.60")
    assert cost_outcome(card(client_for(editor), take)) == "Cost kept: the provider billed it"


def test_a_gateway_moderation_refusal_keeps_its_cost(
        gateway, make_scene, project, editor, provider_server, client_for, django_capture_on_commit_callbacks):
    provider_server.scenario = "moderation"  # the gateway's backend may bill it: never refunded blindly

    take = rendered(gateway, make_scene(duration=4), editor, django_capture_on_commit_callbacks, "veo-3.1")

    assert take.status == Status.FAILED and take.error_message.startswith("Refused by the provider's moderation")
    assert committed(project) == Decimal("1.60")
    assert cost_outcome(card(client_for(editor), take)) == "Cost kept: the provider bills refused jobs"


def test_a_result_that_expired_before_it_was_copied_keeps_its_cost(
        veo, make_scene, project, editor, veo_server, client_for, django_capture_on_commit_callbacks):
    veo_server.scenario = "expired"  # the job finished (and was billed); the file was gone

    take = rendered(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks, FAST)

    assert take.status == Status.FAILED and "expired" in take.error_message
    assert committed(project) == Decimal("0.60")
    assert cost_outcome(card(client_for(editor), take)) == "Cost kept: the provider billed the finished job"


def test_a_create_the_provider_refused_outright_is_not_charged(
        gateway, make_scene, project, editor, provider_server, client_for, django_capture_on_commit_callbacks):
    provider_server.scenario = "quota"  # refused at create: no job was made

    take = rendered(gateway, make_scene(duration=4), editor, django_capture_on_commit_callbacks, "veo-3.1")

    assert take.status == Status.FAILED and not take.provider_job_id
    assert committed(project) == Decimal("0")
    assert cost_outcome(card(client_for(editor), take)) == "Not charged"


def test_a_refused_take_the_provider_reported_a_bill_for_is_never_given_back(veo, make_scene, project, editor):
    take, _ = services.render_create(scene=make_scene(duration=4), user=editor, connection=veo, model_id=FAST,
                                     idempotency_key=uuid.uuid4())
    Render.objects.filter(pk=take.pk).update(status=Status.RUNNING, provider_job_id="models/x/operations/1",
                                             billed_cost=Decimal("0.60"))
    take.refresh_from_db()

    take.mark_failed("Refused by Google's safety filters: blocked.", code="moderation")

    assert committed(project) == Decimal("0.60")
    assert take.cost_outcome == "Cost kept: the provider billed it"


def test_a_refused_take_gives_its_estimate_back_once_however_often_it_is_settled(
        veo, make_scene, project, editor):
    take, _ = services.render_create(scene=make_scene(duration=4), user=editor, connection=veo, model_id=FAST,
                                     idempotency_key=uuid.uuid4())
    Render.objects.filter(pk=take.pk).update(status=Status.RUNNING, provider_job_id="models/x/operations/1")
    take.refresh_from_db()
    take.mark_failed("Refused by Google's safety filters: blocked.", code="moderation")
    assert committed(project) == Decimal("0")

    budget.on_take_settled(sender=Render, render=Render.objects.get(pk=take.pk))  # a redelivered signal

    assert committed(project) == Decimal("0")


def test_upgrading_marks_the_takes_given_back_before_as_given_back(make_scene, editor, project):
    """Takes that gave their estimate back under the earlier rule stay out of every month's spend."""
    scene = make_scene(duration=4)

    def take(**fields):
        return Render.objects.create(scene=scene, provider="veo", model=FAST, recipe={}, cost=Decimal("0.60"),
                                     created_by=editor, **fields)

    never_sent = take(status=Status.FAILED, provider_job_id="")
    canceled_early = take(status=Status.CANCELED, provider_job_id="")
    ran = take(status=Status.FAILED, provider_job_id="op/1")
    unconfirmed = take(status=Status.FAILED, provider_job_id="", billing_unconfirmed=True)
    finished = take(status=Status.SUCCEEDED, provider_job_id="op/2")
    migration = importlib.import_module("generation.migrations.0030_render_failure_code_and_cost_given_back")

    migration.mark_takes_given_back(apps, None)

    given_back = set(Render.objects.filter(cost_given_back=True).values_list("pk", flat=True))
    assert given_back == {never_sent.pk, canceled_early.pk}
    assert {ran.pk, unconfirmed.pk, finished.pk}.isdisjoint(given_back)

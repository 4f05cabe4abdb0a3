"""Owners set the team's monthly budget and each member's monthly cap on the team page."""

import uuid
from decimal import Decimal

from django.urls import reverse

from generation.renders import services as generation
from projects.models import Membership


def test_an_owner_sets_and_clears_the_team_monthly_budget(client_for, team, owner):
    url = reverse("projects:team_budget", args=[team.pk])
    page = client_for(owner).post(url, {"monthly_budget": "50"}, follow=True).content.decode()
    assert "Team monthly budget set to $50.00." in page
    team.refresh_from_db()
    assert team.monthly_budget == Decimal("50")
    page = client_for(owner).post(url, {"monthly_budget": ""}, follow=True).content.decode()
    assert "Team monthly budget removed" in page
    team.refresh_from_db()
    assert team.monthly_budget is None


def test_bad_amounts_are_refused_with_a_message(client_for, team, owner):
    team.monthly_budget = Decimal("50")
    team.save()
    url = reverse("projects:team_budget", args=[team.pk])
    for amount, words in [("-5", "can&#x27;t be negative"), ("fifty", "Enter the budget in US dollars"),
                          ("1.234", "at most 2 decimals"), ("1e12", "too large")]:
        response = client_for(owner).post(url, {"monthly_budget": amount}, follow=True)
        assert response.status_code == 200
        assert words in response.content.decode(), amount
    team.refresh_from_db()
    assert team.monthly_budget == Decimal("50")


def test_only_owners_set_budgets_and_other_teams_get_404(client_for, team, editor, outsider, owner):
    url = reverse("projects:team_budget", args=[team.pk])
    assert client_for(editor).post(url, {"monthly_budget": "1"}).status_code == 403
    assert client_for(outsider).post(url, {"monthly_budget": "1"}).status_code == 404
    member = Membership.objects.get(team=team, user=editor)
    cap_url = reverse("projects:member_budget", args=[team.pk, member.pk])
    assert client_for(editor).post(cap_url, {"monthly_budget": "1000"}).status_code == 403
    assert client_for(outsider).post(cap_url, {"monthly_budget": "1"}).status_code == 404
    rival = Membership.objects.get(user=outsider)  # a member of another team, through this team's page
    assert client_for(owner).post(reverse("projects:member_budget", args=[team.pk, rival.pk]),
                                  {"monthly_budget": "1"}).status_code == 404
    team.refresh_from_db()
    member.refresh_from_db()
    rival.refresh_from_db()
    assert team.monthly_budget is None and member.monthly_budget is None and rival.monthly_budget is None


def test_an_owner_caps_one_member_and_the_page_shows_the_months_spend(client_for, team, owner, editor, project,
                                                                      make_scene, priced_gateway):
    generation.render_create(scene=make_scene(duration=4), user=editor, connection=priced_gateway,
                             model_id="wan-2.7", idempotency_key=uuid.uuid4())  # $2.00
    member = Membership.objects.get(team=team, user=editor)
    page = client_for(owner).post(reverse("projects:member_budget", args=[team.pk, member.pk]),
                                  {"monthly_budget": "20"}, follow=True).content.decode()
    assert "eddie&#x27;s monthly cap set to $20.00." in page
    assert 'data-testid="team-month-spend">$2.00<' in page
    member.refresh_from_db()
    assert member.monthly_budget == Decimal("20")
    editors_view = client_for(editor).get(reverse("projects:team_members", args=[team.pk])).content.decode()
    assert "$2.00 of $20.00" in editors_view

"""Journey: an owner sets the team's monthly budget on the team page; an editor's take that would
spend past it is refused in the scene card, naming the budget and what is left."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import expect

from generation.models import Render
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import scene_card


def test_owner_sets_a_team_budget_and_an_editors_take_past_it_is_refused(
        logged_in_page, browser, live_server, owner, editor, team, project, make_scene, priced_gateway):
    make_scene(title="Harbour at dawn", duration=4)  # $2.00 on Wan 2.7

    page = logged_in_page(owner)
    page.get_by_role("link", name="Team", exact=True).click()
    page.get_by_label("Team monthly budget (US$)").fill("1.50")
    page.get_by_role("button", name="Save team budget").click()
    expect(page.get_by_role("status")).to_contain_text("Team monthly budget set to $1.50.")
    expect(page.get_by_test_id("team-budget")).to_contain_text("$0.00 committed in")
    team.refresh_from_db()
    assert str(team.monthly_budget) == "1.50"

    context = browser.new_context()
    try:
        editors_page = log_in(context.new_page(), live_server.url, editor)
        editors_page.goto(f"{live_server.url}/projects/{project.pk}/")
        card = scene_card(editors_page, "Harbour at dawn")
        card.get_by_label("Render with").select_option(f"{priced_gateway.pk}:wan-2.7")
        card.get_by_test_id("render-button").click()
        expect(card.get_by_role("alert")).to_contain_text(
            f"Over the team's {timezone.now():%B} budget: $1.50 of $1.50 left, and this costs $2.00.")
        expect(card.get_by_test_id("take")).to_have_count(0)
    finally:
        context.close()
    assert not Render.objects.exists()

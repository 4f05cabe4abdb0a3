"""Journey: an owner sets a render budget; a take that would spend past it is refused in the card."""

from __future__ import annotations

from playwright.sync_api import expect

from generation.models import Render
from tests.browser.test_storyboard_journey import scene_card


def test_owner_sets_a_budget_and_an_over_budget_take_is_refused(logged_in_page, live_server, owner, project,
                                                                 make_scene, priced_gateway):
    gateway = priced_gateway
    make_scene(title="Harbour at dawn", duration=4)  # $2.00 on Wan 2.7

    page = logged_in_page(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.locator("summary", has_text="Set a render budget").click()
    page.get_by_label("Render budget (US$)").fill("1.50")
    page.get_by_role("button", name="Save budget").click()
    expect(page.get_by_role("status")).to_contain_text("Render budget set to $1.50.")
    expect(page.get_by_test_id("budget")).to_have_text("render budget: $0.00 of $1.50 committed")

    card = scene_card(page, "Harbour at dawn")
    card.get_by_label("Render with").select_option(f"{gateway.pk}:wan-2.7")
    card.get_by_test_id("render-button").click()
    expect(card.get_by_role("alert")).to_contain_text("Over budget: this costs $2.00")
    expect(card.get_by_test_id("take")).to_have_count(0)
    assert not Render.objects.exists()

"""An owner raises a shipped model's price for the team, in the page, and the scene's estimate follows."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from generation.models import CatalogModel
from generation.providers import connections
from tests.browser.test_provider_journey import (
    choose_target,
    connection_card,
    open_providers,
    render_select,
)
from tests.browser.test_storyboard_journey import scene_card

WAN = "wan-video/wan-2.7-t2v"


def test_owner_raises_a_price_and_the_scene_estimate_uses_it(logged_in_page, owner, team, make_scene, live_server):
    connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                  base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                  webhook_secret="whsec_c2VjcmV0")
    scene = make_scene(title="Dawn", duration=2, size="1280x720")
    page = logged_in_page(owner)

    # Shipped at $0.10 a second: 2 s cost $0.20.
    page.goto(f"{live_server.url}/projects/{scene.project_id}/")
    choose_target(render_select(scene_card(page, "Dawn")),
                  re.compile(r"^Replicate — Wan 2\.7 text-to-video \(Replicate\) · est\. \$0\.20$"))

    open_providers(page, team)
    connection_card(page, "Replicate").get_by_test_id("connection-models").click()
    row = page.get_by_test_id("catalog-entry").filter(has_text=WAN)
    expect(row.get_by_test_id("entry-origin")).to_have_text("shipped")
    row.get_by_test_id("edit-entry").click()

    form = page.get_by_test_id("entry-form")
    form.get_by_label("Price per second").fill("0,25")  # a comma: refused in words, nothing saved
    form.get_by_role("button", name="Save for my team").click()
    expect(page.get_by_role("alert")).to_contain_text("with a decimal point")
    form.get_by_label("Price per second").fill("0.25")
    form.get_by_role("button", name="Save for my team").click()
    expect(page.get_by_role("status")).to_contain_text("Saved Wan 2.7 text-to-video (Replicate) on Replicate")
    row = page.get_by_test_id("catalog-entry").filter(has_text=WAN)
    expect(row.get_by_test_id("entry-price")).to_have_text("$0.25")
    expect(row.get_by_test_id("entry-origin")).to_have_text("edited for this team")

    # The scene's render form and its "What will be sent" estimate now use the team's price.
    page.goto(f"{live_server.url}/projects/{scene.project_id}/")
    card = scene_card(page, "Dawn")
    choose_target(render_select(card),
                  re.compile(r"^Replicate — Wan 2\.7 text-to-video \(Replicate\) · est\. \$0\.50$"))
    panel = card.get_by_test_id("compiled-panel")
    panel.locator("summary").click()
    expect(panel).to_contain_text("est. $0.50")
    assert CatalogModel.objects.get(connection=None, model_id=WAN).price_per_second == {"*": 0.10}

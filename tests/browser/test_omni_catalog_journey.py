"""An owner finds Gemini Omni Flash on the Gemini API connection, with where its price comes from, and books it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from generation.providers import connections
from tests.browser.test_provider_journey import (
    choose_target,
    connection_card,
    open_providers,
    render_select,
)
from tests.browser.test_storyboard_journey import scene_card


def test_owner_sees_omni_on_the_gemini_api_connection_and_it_is_offered_for_a_scene(
        logged_in_page, owner, team, make_scene, live_server):
    connections.connection_create(team=team, user=owner, kind="veo", label="Gemini API",
                                  base_url="http://127.0.0.1:9", api_key="AIzaSy-test")
    scene = make_scene(title="Dawn", duration=8, size="1280x720")
    page = logged_in_page(owner)

    open_providers(page, team)
    connection_card(page, "Gemini API").get_by_test_id("connection-models").click()
    row = page.get_by_test_id("catalog-entry").filter(has_text="gemini-omni-1.2-flash")
    expect(row.get_by_test_id("entry-lifecycle")).to_have_text("Available")
    expect(row.get_by_test_id("entry-price")).to_have_text("$0.15")
    expect(row.get_by_test_id("entry-notes")).to_contain_text("Google bills Omni's video by output tokens")
    retired = page.get_by_test_id("catalog-entry").filter(has_text="veo-3.1-generate-preview")
    expect(retired.get_by_test_id("entry-lifecycle")).to_contain_text("Retired")

    page.goto(f"{live_server.url}/projects/{scene.project_id}/")
    choose_target(render_select(scene_card(page, "Dawn")),
                  re.compile(r"^Gemini API — Gemini Omni 1\.2 Flash \(Gemini API\) · est\. \$1\.20$"))

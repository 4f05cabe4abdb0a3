"""Google's safety filters refuse a take: the editor who booked it and a reviewer watching the same
board both see the scene turn "Failed" (the reason on hover and in the open side panel), and the
take's card says it was not charged; the committed spend gives the estimate back.
"""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Browser, expect

from generation.providers import connections
from projects.models import Role
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card
from tests.fakes.veo_server import RAI_REASON

FAST = "veo-3.1-fast-generate-preview"  # $0.15 a second
LIVE = 10_000


def test_a_refused_take_turns_its_scene_failed_on_both_boards_and_is_not_charged(
        browser: Browser, live_server, veo_server, veo_previews_live, team, owner, editor, make_member, project,
        make_scene):
    veo = connections.connection_create(team=team, user=owner, kind="veo", label="Google Veo",
                                        base_url=veo_server.url, api_key=veo_server.api_key)
    veo_server.scenario = "rai-filtered"
    make_scene(title="Harbour", duration=4)
    rita = make_member(team, Role.REVIEWER, "rita")
    pages = []
    for user in (editor, rita):
        page = log_in(browser.new_context().new_page(), live_server.url, user)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        pages.append(page)
    booker, watcher = pages
    watching_panel = scene_card(watcher, "Harbour")  # the reviewer has the scene open in the side panel
    expect(watching_panel.get_by_test_id("scene-status")).to_have_text("No take")
    expect(watcher.get_by_test_id("present")).to_have_count(1, timeout=LIVE)  # the booker is present: both streams are open (nobody sees themselves)

    panel = scene_card(booker, "Harbour")
    panel.get_by_label("Render with").select_option(f"{veo.pk}:{FAST}")
    panel.get_by_test_id("render-button").click()

    card = panel.get_by_test_id("take")
    expect(card.get_by_test_id("take-status")).to_have_text("Failed", timeout=LIVE)
    expect(card.get_by_test_id("take-error")).to_contain_text("Refused by Google's safety filters")
    expect(card.get_by_test_id("take-cost-outcome")).to_have_text("Not charged")
    for page in (booker, watcher):
        chip = frame(page, "Harbour").get_by_test_id("frame-status")
        expect(chip).to_have_text("Failed", timeout=LIVE)
        expect(chip).to_have_attribute("title", "Take 1: Refused by Google's safety filters: the video was blocked. "
                                       "Google said: " + RAI_REASON)
    # The reviewer's open panel changed with her frame, without a reload.
    expect(watching_panel.get_by_test_id("scene-status")).to_have_text("Failed", timeout=LIVE)
    expect(watching_panel.get_by_test_id("scene-status-reason")).to_contain_text(
        "Take 1: Refused by Google's safety filters", timeout=LIVE)
    expect(watching_panel.get_by_test_id("take-cost-outcome")).to_have_text("Not charged", timeout=LIVE)
    project.refresh_from_db()
    assert project.render_spend == Decimal("0")
    for page in pages:
        page.context.close()


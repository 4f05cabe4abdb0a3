"""Continuity in the browser: scene 2 starts from scene 1's approved take, and approving
another take of scene 1 flags scene 2 on a teammate's board, live, without re-rendering anything."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from projects.models import Role
from projects.review import services as review
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card

LIVE = 5_000


@pytest.fixture
def harbour(browser: Browser, live_server, team, owner, make_member, project, make_scene, finished_take,
            previz_without_encode):
    """Scene 1 with two finished takes, take 1 approved; scene 2 not rendered yet. The owner and Rita,
    an editor, each have the board open in their own browser."""
    rita = make_member(team, Role.EDITOR, "rita")
    dawn, quay = make_scene(title="Harbour"), make_scene(title="Quay")
    first = finished_take(dawn)
    finished_take(dawn)  # take 2, approved later in the journey
    review.take_approve(take=first, user=owner)
    pages = []
    for user in (owner, rita):
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        log_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.evaluate("window.__noReload = true")  # gone if the page ever reloads
        pages.append(page)
    yield (*pages, dawn, quay)
    for page in pages:
        page.context.close()


def start_from_previous(page: Page) -> None:
    panel = scene_card(page, "Quay")
    continuity = panel.get_by_test_id("continuity")
    continuity.get_by_text("Change what it starts from and ends on").click()
    continuity.get_by_test_id("start-from-previous").check()
    continuity.get_by_test_id("continuity-save").click()
    expect(panel.get_by_test_id("start-frame-words")).to_have_text("The last frame of scene 1, take 1")


def test_scene_2_starts_from_scene_1s_approved_take_and_a_new_approval_flags_it_for_a_teammate(harbour):
    owner_page, rita, dawn, quay = harbour

    start_from_previous(owner_page)
    panel = owner_page.get_by_test_id("scene-panel")
    expect(panel.get_by_test_id("start-frame-image")).to_be_visible()
    expect(panel.get_by_test_id("render-frames")).to_contain_text("Starts from the last frame of scene 1, take 1")
    panel.get_by_test_id("compiled-panel").locator("summary").click()
    expect(panel.get_by_test_id("compiled-start-frame")).to_contain_text("of scene 1, take 1, fitted to 1280x720")

    panel.get_by_test_id("render-button").click()
    expect(frame(rita, "Quay").get_by_test_id("frame-status")).to_have_text("Ready for review", timeout=20_000)
    expect(panel.get_by_test_id("take-start-frame")).to_contain_text("of scene 1, take 1")
    expect(frame(rita, "Quay").get_by_test_id("frame-start-changed")).to_have_count(0)

    # The owner approves take 2 of scene 1: scene 2's start frame is no longer the one it was rendered from.
    harbour_panel = scene_card(owner_page, "Harbour")
    harbour_panel.get_by_test_id("take").filter(has_text="Take 2").get_by_test_id("approve-button").click()
    expect(scene_card(owner_page, "Harbour").get_by_test_id("approved-badge")).to_have_text("Approved: take 2")

    expect(frame(rita, "Quay").get_by_test_id("frame-start-changed")).to_have_text("Start frame changed",
                                                                                   timeout=LIVE)
    flagged = scene_card(rita, "Quay")
    expect(flagged.get_by_test_id("start-frame-changed")).to_be_visible()
    expect(flagged.get_by_test_id("start-frame-words")).to_have_text("The last frame of scene 1, take 2")
    expect(flagged.get_by_test_id("rerender-from-new-frame")).to_be_visible()
    assert quay.renders.count() == 1  # nothing re-rendered by itself
    assert rita.evaluate("window.__noReload") is True


def test_the_player_starts_the_next_scene_from_the_frame_it_shows(harbour, live_server):
    owner_page, _rita, dawn, quay = harbour
    take = dawn.renders.order_by("number").first()
    owner_page.goto(f"{live_server.url}/takes/{take.pk}/review/")
    expect(owner_page.get_by_test_id("frame-number")).to_have_text("0")
    owner_page.locator("h1").click()  # nothing typed into: the player's shortcuts apply
    for _ in range(5):
        owner_page.keyboard.press("ArrowRight")
    expect(owner_page.get_by_test_id("frame-number")).to_have_text("5")

    owner_page.get_by_test_id("start-next").click()

    expect(owner_page.get_by_test_id("scene-panel").get_by_test_id("start-frame-words")).to_have_text(
        "Frame 5 of scene 1, take 1 (chosen in the player)")
    quay.refresh_from_db()
    assert (quay.start_take_id, quay.start_frame) == (take.pk, 5)
